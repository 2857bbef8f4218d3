// The rules of POST /personas (persona/README.md, persona.Spec.Validate), checked
// in the form before anything is sent, but one: a tool listed twice is left to the
// API, whose message ("tools[1]: \"search\" is listed twice") is shown next to the
// field like any refusal of the API, the judge of every rule.
//
// The limits, patterns and characters are the API's own: persona-rules.json is
// written from persona.Rules() (`go test ./web -run PersonaRules -update`), and a Go
// test fails when it differs.

import type { Spec, SpecField } from "./api";
import rules from "./persona-rules.json";

export const limits = rules.limits;

export const defaultTemperature = rules.defaultTemperature;

const modelPattern = new RegExp(rules.modelPattern, "u");
const toolPattern = new RegExp(rules.toolPattern, "u");

// charClass is a regular expression character class of the code point ranges.
function charClass(ranges: number[][]): string {
  const hex = (c: number) => `\\u{${c.toString(16)}}`;
  return "[" + ranges.map(([first, last]) => (first === last ? hex(first) : `${hex(first)}-${hex(last)}`)).join("") + "]";
}

// Characters no text field may hold: control characters (a multi-line field keeps tab,
// line feed and carriage return) and the bidirectional embeddings, overrides and
// isolates, which make text display differently from what it says.
const forbiddenInLine = new RegExp(charClass(rules.forbiddenInLine), "u");
const forbiddenInText = new RegExp(charClass(rules.forbiddenInText), "u");
// Blank is what Go's unicode.IsSpace calls space, nothing more (JavaScript's \s also takes U+FEFF).
const blank = new RegExp(`^${charClass(rules.blank)}*$`, "u");

// forbiddenCharacter names the first character s may not hold, as the API does (U+202E).
export function forbiddenCharacter(s: string, multiline: boolean): string | undefined {
  const m = (multiline ? forbiddenInText : forbiddenInLine).exec(s);
  return m ? "U+" + m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0") : undefined;
}

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
  // missing is what to say when a required field is empty.
  const text = (field: "name" | "description" | "instructions", label: string, multiline: boolean, missing?: string) => {
    const n = length(v[field]);
    const bad = forbiddenCharacter(v[field], multiline);
    if (missing && v[field] === "") errors[field] = missing;
    else if (n > limits[field]) errors[field] = `${label} must be at most ${limits[field]} characters (now ${n}).`;
    else if (bad) errors[field] = `${label} holds ${bad}, a control or text-direction character; remove it.`;
    else if (missing && blank.test(v[field])) errors[field] = `${label} must not be only spaces.`;
  };
  text("name", "Name", false, "Enter a name.");
  text("description", "Description", true);
  text("instructions", "Instructions", true, "Enter the instructions.");

  const model = v.model.trim();
  if (model && (length(model) > limits.model || !modelPattern.test(model))) {
    errors.model = `Model must be at most ${limits.model} characters of letters, digits and . _ : / -, starting with a letter or digit.`;
  }

  let temperature: number | undefined;
  if (v.temperature.trim() !== "") {
    temperature = Number(v.temperature);
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > limits.temperature) {
      errors.temperature = `Temperature must be a number from 0 to ${limits.temperature}.`;
    }
  }

  const tools = splitTools(v.tools);
  const bad = tools.find((t) => !toolPattern.test(t));
  if (tools.length > limits.tools) errors.tools = `At most ${limits.tools} tools (now ${tools.length}).`;
  else if (bad) errors.tools = `Tool "${bad}" must be 1–64 lowercase letters, digits and _, starting with a letter.`;

  if (Object.keys(errors).length > 0) return { errors };
  const spec: Spec = { name: v.name, instructions: v.instructions };
  if (v.description !== "") spec.description = v.description;
  if (model) spec.model = model;
  if (temperature !== undefined) spec.temperature = temperature;
  if (tools.length) spec.tools = tools;
  return { errors, spec };
}
