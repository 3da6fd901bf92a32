// onFirstUse: what a rare path needs, made by its first call and shared by every later one.
import assert from "node:assert/strict";
import { test } from "vitest";
import { onFirstUse } from "../src/first-use.js";

test("the value is made once, by the first call, and shared by calls made while it is being made", async () => {
  let made = 0;
  const value = onFirstUse(async () => ({ n: ++made }));
  assert.equal(made, 0, "nothing made before a call");
  const [a, b] = await Promise.all([value(), value()]);
  assert.equal(a, b);
  assert.equal(await value(), a);
  assert.equal(made, 1);
});

test("a failed make is its caller's error and is tried again by the next call", async () => {
  let tries = 0;
  const value = onFirstUse(async () => {
    if (++tries === 1) throw new Error("not yet");
    return tries;
  });
  await assert.rejects(value(), /not yet/);
  assert.equal(await value(), 2);
});

test("ifStarted uses the value only when a call has started making it, and ignores a failed make", async () => {
  const used: string[] = [];
  const never = onFirstUse(async () => "never");
  never.ifStarted((v) => used.push(v));
  const value = onFirstUse(async () => "made");
  const made = value();
  value.ifStarted((v) => used.push(v));
  await made;
  const failing = onFirstUse(async (): Promise<string> => {
    throw new Error("no");
  });
  const failed = failing();
  failing.ifStarted((v) => used.push(v));
  await assert.rejects(failed);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(used, ["made"]);
});
