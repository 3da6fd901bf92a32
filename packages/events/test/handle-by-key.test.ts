// How a batch is spread over keys: order within a key, the acknowledged prefix, stop and failure.
import { test } from "vitest";
import assert from "node:assert/strict";
import { handleByKey } from "../src/handle-by-key.js";

interface Msg {
  key: string;
  n: number;
}

const batch = (keys: string[], perKey: number): Msg[] => Array.from({ length: perKey }, (_, n) => keys.map((key) => ({ key, n }))).flat();
const tick = () => new Promise((r) => setTimeout(r, 1));

test("events of one key in order, several keys at once, all acknowledged", async () => {
  const seen = new Map<string, number[]>();
  let inFlight = 0;
  let most = 0;
  const handled = await handleByKey(
    batch(["a", "b", "c"], 5),
    3,
    (m) => m.key,
    async (m) => {
      most = Math.max(most, ++inFlight);
      await tick();
      seen.set(m.key, [...(seen.get(m.key) ?? []), m.n]);
      inFlight--;
      return true;
    },
  );
  assert.equal(handled, 15);
  assert.equal(most, 3);
  for (const k of ["a", "b", "c"]) assert.deepEqual(seen.get(k), [0, 1, 2, 3, 4]);
});

test("concurrency 1 keeps the batch's own order across keys", async () => {
  const order: string[] = [];
  await handleByKey(
    batch(["a", "b"], 2),
    1,
    (m) => m.key,
    async (m) => {
      order.push(`${m.key}${m.n}`);
      return true;
    },
  );
  assert.deepEqual(order, ["a0", "b0", "a1", "b1"]);
});

test("a stop leaves the rest of its key; only the run from the batch's start counts as handled", async () => {
  const messages = batch(["a", "b"], 3); // a0 b0 a1 b1 a2 b2
  const handled = await handleByKey(
    messages,
    2,
    (m) => m.key,
    async (m) => !(m.key === "a" && m.n === 1),
  );
  assert.equal(handled, 2, "a0 and b0; a1 stopped, so b1 and b2 must come again though handled");
});

test("a failure lets the other keys' events in hand finish, starts no new one, then throws", async () => {
  const started: string[] = [];
  let running = 0;
  const failure = handleByKey(
    [
      { key: "a", n: 0 },
      { key: "b", n: 0 },
      { key: "b", n: 1 },
      { key: "c", n: 0 },
    ],
    2,
    (m) => m.key,
    async (m) => {
      started.push(`${m.key}${m.n}`);
      running++;
      try {
        if (m.key === "a") throw new Error("database gone");
        await new Promise((r) => setTimeout(r, 20));
        return true;
      } finally {
        running--;
      }
    },
  );
  await assert.rejects(failure, /database gone/);
  assert.equal(running, 0, "nothing still running once it threw");
  assert.deepEqual(started, ["a0", "b0"], "neither b's next event nor key c started after the failure");
});
