import assert from "node:assert/strict";
import { test } from "node:test";
import { fieldOf } from "./api";
import { check, forbiddenCharacter, type FormValues } from "./rules";
import rules from "./persona-rules.json";

const ok: FormValues = { name: "Ada", description: "", instructions: "Be concise.", model: "", temperature: "", tools: "" };

test("a minimal form sends only name and instructions", () => {
  assert.deepEqual(check(ok).spec, { name: "Ada", instructions: "Be concise." });
});

test("optional fields are sent in the API's types", () => {
  const { spec } = check({ ...ok, description: "Helps", model: "anthropic/claude:3.5", temperature: "0.3", tools: "search, calc web_fetch" });
  assert.deepEqual(spec, {
    name: "Ada",
    instructions: "Be concise.",
    description: "Helps",
    model: "anthropic/claude:3.5",
    temperature: 0.3,
    tools: ["search", "calc", "web_fetch"],
  });
});

const refused: [string, Partial<FormValues>, keyof FormValues][] = [
  ["an empty name", { name: "" }, "name"],
  ["a name of 101 characters", { name: "a".repeat(101) }, "name"],
  ["empty instructions", { instructions: "" }, "instructions"],
  ["instructions of 8001 characters", { instructions: "x".repeat(8001) }, "instructions"],
  ["a description of 501 characters", { description: "d".repeat(501) }, "description"],
  ["a model with a space", { model: "gpt 4" }, "model"],
  ["a model of 101 characters", { model: "m".repeat(101) }, "model"],
  ["a temperature above 2", { temperature: "2.1" }, "temperature"],
  ["a temperature below 0", { temperature: "-0.1" }, "temperature"],
  ["a temperature that is no number", { temperature: "warm" }, "temperature"],
  ["a tool with a capital letter", { tools: "Search" }, "tools"],
  ["a tool starting with a digit", { tools: "1tool" }, "tools"],
  ["21 tools", { tools: Array.from({ length: 21 }, (_, i) => `t${i}`).join(",") }, "tools"],
  ["a name of spaces", { name: " \t\u3000" }, "name"],
  ["instructions of line breaks", { instructions: "\n\r\n " }, "instructions"],
  ["a line break in the name", { name: "Ada\nLovelace" }, "name"],
  ["a NUL in the instructions", { instructions: "Be\u0000 concise." }, "instructions"],
  ["a C1 control in the description", { description: "Helps\u0085" }, "description"],
  ["a right-to-left override in the name", { name: "Ada\u202Egnp.exe" }, "name"],
  ["a first-strong isolate in the instructions", { instructions: "\u2068Be concise." }, "instructions"],
];
for (const [name, change, field] of refused) {
  test(`the form refuses ${name}`, () => {
    const { errors, spec } = check({ ...ok, ...change });
    assert.equal(spec, undefined);
    assert.ok(errors[field as keyof typeof errors], `no error for ${field}: ${JSON.stringify(errors)}`);
  });
}

test("a tool listed twice is left to the API, whose message the form then shows", () => {
  assert.deepEqual(check({ ...ok, tools: "search search" }).spec?.tools, ["search", "search"]);
});

test("multi-line fields keep tabs and line breaks, and text in any script passes", () => {
  const { spec } = check({ ...ok, name: "Ада Лавлейс 😀", description: "Line one\r\nLine two", instructions: "Step 1:\tAsk.\nשלום, مرحبا" });
  assert.ok(spec, "refused ordinary multi-line text");
});

test("a forbidden character is named by its code point, as the API names it", () => {
  assert.match(check({ ...ok, name: "A\u202Eb" }).errors.name ?? "", /U\+202E/);
  assert.match(check({ ...ok, instructions: "x\u0007" }).errors.instructions ?? "", /U\+0007/);
});

test("lengths are counted in characters, as the API counts them, not UTF-16 units", () => {
  assert.ok(check({ ...ok, name: "😀".repeat(100) }).spec);
  assert.equal(check({ ...ok, name: "😀".repeat(101) }).spec, undefined);
});

test("temperatures 0 and 2 are accepted", () => {
  assert.equal(check({ ...ok, temperature: "0" }).spec?.temperature, 0);
  assert.equal(check({ ...ok, temperature: "2" }).spec?.temperature, 2);
});

test("API error messages are mapped to the field they name", () => {
  assert.deepEqual(fieldOf("name: is required"), { field: "name", problem: "is required" });
  assert.deepEqual(fieldOf('tools[2]: "x" is listed twice'), { field: "tools", problem: '"x" is listed twice' });
  assert.deepEqual(fieldOf("the body is not a valid persona: temperature: found a string where a number is expected"), {
    field: "temperature",
    problem: "found a string where a number is expected",
  });
  assert.equal(fieldOf('the body is not a valid persona: json: unknown field "userId"'), undefined);
  assert.equal(fieldOf("the body is not a valid persona: malformed JSON at byte 3"), undefined);
});

// The character ranges come from persona.Rules() as numbers; these check the form
// turns them into the same sets, at both ends of every range.
const codePoint = (c: number) => "U+" + c.toString(16).toUpperCase().padStart(4, "0");
const inRanges = (ranges: number[][], c: number) => ranges.some(([first, last]) => first <= c && c <= last);

for (const [field, multiline, ranges] of [
  ["a one-line field", false, rules.forbiddenInLine],
  ["a multi-line field", true, rules.forbiddenInText],
] as const) {
  test(`${field} refuses the API's forbidden characters and takes their neighbours`, () => {
    for (const [first, last] of ranges) {
      for (const c of [first, last]) assert.equal(forbiddenCharacter(`a${String.fromCodePoint(c)}b`, multiline), codePoint(c));
      for (const c of [first - 1, last + 1]) {
        if (c >= 0 && !inRanges(ranges, c)) assert.equal(forbiddenCharacter(`a${String.fromCodePoint(c)}b`, multiline), undefined, codePoint(c));
      }
    }
  });
}

test("a required field of nothing but the API's white space is refused, and one more character makes it text", () => {
  const spaces = rules.blank.flatMap(([first, last]) => [first, last]).filter((c) => !inRanges(rules.forbiddenInText, c));
  const onlySpace = String.fromCodePoint(...spaces);
  assert.ok(check({ ...ok, instructions: onlySpace }).errors.instructions);
  assert.ok(check({ ...ok, instructions: onlySpace + "x" }).spec);
});
