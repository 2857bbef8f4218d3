import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ConfigError, parseConfig } from "./config";
import { devToken } from "./session";

// The cases web/config_test.go checks web.Config against: both sides accept and
// refuse the same files.
const cases = JSON.parse(readFileSync("testdata/config-cases.json", "utf8"));

for (const [name, config] of Object.entries(cases.valid)) {
  test(`the page accepts ${name}`, () => {
    const c = parseConfig(config);
    assert.equal(c.stage, (config as { stage: string }).stage);
  });
}

for (const [name, config] of Object.entries(cases.invalid)) {
  test(`the page refuses ${name}`, () => {
    assert.throws(() => parseConfig(config), ConfigError);
  });
}

test("an API URL's trailing slash is dropped so paths join cleanly", () => {
  assert.equal(parseConfig({ ...cases.valid["a deployed stage"], apiUrl: "https://api.example.com/v1/" }).apiUrl, "https://api.example.com/v1");
});

test("the dev token is the one dev mode's API accepts", () => {
  assert.equal(devToken(cases.devToken.user), cases.devToken.token);
});
