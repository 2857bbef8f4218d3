// The rules of POST /personas (persona/README.md, persona.Spec.Validate), checked
// in the form before anything is sent. The API stays the judge: what it refuses
// is shown next to the field too.

import type { Spec, SpecField } from "./api";

export const limits = {
  name: 100,
  description: 500,
  instructions: 8000,
  model: 100,
  tools: 20,
  temperature: 2,
} as const;

export const defaultTemperature = 0.7;

const modelPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const toolPattern = /^[a-z][a-z0-9_]{0,63}$/;

// The API counts characters (Unicode code points), not UTF-16 units.
export const length = (s: string) => [...s].length;

export interface FormValues {
  name: string;
  description: string;
  instructions: string;
  model: string;
  temperature: string;
  tools: string;
}

export function splitTools(s: string): string[] {
  return s.split(/[\s,]+/).filter(Boolean);
}

// check returns the problem with each invalid field, and the Spec to send when
// there is none.
export function check(v: FormValues): { errors: Partial<Record<SpecField, string>>; spec?: Spec } {
  const errors: Partial<Record<SpecField, string>> = {};
  const text = (field: "name" | "description" | "instructions", required: boolean) => {
    const n = length(v[field]);
    if (required && v[field] === "") errors[field] = "is required";
    else if (n > limits[field]) errors[field] = `must be at most ${limits[field]} characters (now ${n})`;
  };
  text("name", true);
  text("description", false);
  text("instructions", true);

  const model = v.model.trim();
  if (model && (length(model) > limits.model || !modelPattern.test(model))) {
    errors.model = `must be at most ${limits.model} characters of letters, digits and . _ : / -`;
  }

  let temperature: number | undefined;
  if (v.temperature.trim() !== "") {
    temperature = Number(v.temperature);
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > limits.temperature) {
      errors.temperature = `must be a number from 0 to ${limits.temperature}`;
    }
  }

  const tools = splitTools(v.tools);
  const bad = tools.find((t) => !toolPattern.test(t));
  const twice = tools.find((t, i) => tools.indexOf(t) !== i);
  if (tools.length > limits.tools) errors.tools = `at most ${limits.tools} tools (now ${tools.length})`;
  else if (bad) errors.tools = `"${bad}" must be 1–64 characters of lowercase letters, digits and _, starting with a letter`;
  else if (twice) errors.tools = `"${twice}" is listed twice`;

  if (Object.keys(errors).length > 0) return { errors };
  const spec: Spec = { name: v.name, instructions: v.instructions };
  if (v.description !== "") spec.description = v.description;
  if (model) spec.model = model;
  if (temperature !== undefined) spec.temperature = temperature;
  if (tools.length) spec.tools = tools;
  return { errors, spec };
}
