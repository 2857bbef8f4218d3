import assert from "node:assert/strict";
import { test } from "node:test";
import { delay } from "./poll";

test("polling backs off from 1 s to at most 15 s", () => {
  const waits = Array.from({ length: 10 }, (_, i) => delay(i));
  assert.equal(waits[0], 1000);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1], `wait ${i} shrank: ${waits}`);
  assert.equal(waits[9], 15000);
});
