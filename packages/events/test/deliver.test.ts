// Work given up on is reported: each message parked on a dead-letter topic leaves an error line
// naming where it came from, for an operator to find.
import { test } from "vitest";
import assert from "node:assert/strict";
import { recordingLogger } from "@taskmesh/testing/logs";
import { deliver, type DeliveryContext } from "../src/deliver.js";
import type { EventCodec } from "../src/codec.js";
import type { EventRecord } from "../src/index.js";

function context(codec: Partial<EventCodec>, handler: () => Promise<void>) {
  const { lines: logged, logger } = recordingLogger();
  const parked: EventRecord[] = [];
  const ctx: DeliveryContext = {
    system: "kafka",
    codec: codec as EventCodec,
    options: { group: "audit", topics: ["task-events"], retries: 1, initialBackoffMs: 1, handler },
    logger,
    deadLetter: async (record) => void parked.push(record),
    stopping: () => false,
  };
  return {
    ctx,
    parked,
    get lines() {
      return logged.filter((line) => line.level === "error");
    },
  };
}

const raw = { topic: "task-events", key: "k1", partition: 2, offset: "41", headers: {}, value: Uint8Array.of(0, 0, 0, 0, 1, 0) };

test("a message that does not decode, and one whose handler keeps failing, each leave an error line where they came from", async () => {
  const undecodable = context(
    {
      decode: () => {
        throw new Error("unknown magic byte 7");
      },
    },
    async () => {},
  );
  assert.equal(await deliver(raw, undecodable.ctx), "dead-lettered");
  assert.equal(undecodable.parked[0]?.topic, "task-events.dlq");
  assert.deepEqual(
    undecodable.lines.map(({ topic, partition, offset, group, attempts, msg }) => ({ topic, partition, offset, group, attempts, msg })),
    [{ topic: "task-events", partition: 2, offset: "41", group: "audit", attempts: 0, msg: "event parked on task-events.dlq" }],
  );

  const failing = context({ decode: () => ({ message: { eventId: "e1" } }) as never }, async () => {
    throw new Error("the task has no such field");
  });
  assert.equal(await deliver(raw, failing.ctx), "dead-lettered");
  assert.equal(failing.lines.length, 1);
  assert.match(String((failing.lines[0]!.err as Error).message), /no such field/);
  assert.equal(failing.lines[0]!.attempts, 2);
});
