import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseConfig } from "./config";
import { passwordHint } from "./password";

const cases = JSON.parse(readFileSync("testdata/config-cases.json", "utf8"));

test("the hint states the pool's policy that config.json gives", () => {
  const c = parseConfig(cases.valid["the pool's password policy"]);
  assert.equal(passwordHint(c.passwordPolicy), "At least 12 characters, with upper- and lowercase letters and a digit.");
});

test("each rule of a policy is said, and none that it leaves out", () => {
  const base = { minimumLength: 8, requireLowercase: false, requireUppercase: false, requireNumbers: false, requireSymbols: false };
  assert.equal(passwordHint(base), "At least 8 characters.");
  assert.equal(passwordHint({ ...base, requireUppercase: true }), "At least 8 characters, with an uppercase letter.");
  assert.equal(
    passwordHint({ ...base, requireLowercase: true, requireNumbers: true, requireSymbols: true }),
    "At least 8 characters, with a lowercase letter, a digit and a symbol such as ! or #.",
  );
});

test("without a policy the hint says Cognito will tell", () => {
  assert.match(passwordHint(undefined), /Cognito says so/);
});
