// The Confluent wire format byte for byte, the topic table's message indexes, the codec.
import { test } from "vitest";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { ReminderEventSchema, TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { decodeFrame, encodeFrame, encodeMessageIndexes, EventCodec, messageIndexes, TOPICS, WireFormatError } from "../src/index.js";
import { backoffMs } from "../src/deliver.js";

const payload = Uint8Array.of(0x0a, 0x01, 0x78);

test("first message of the file: magic 0, id big-endian, the single index byte 0, payload", () => {
  assert.deepEqual([...encodeFrame(1, [0], payload)], [0, 0, 0, 0, 1, 0, 0x0a, 0x01, 0x78]);
});

test("any other message: zigzag varint count then zigzag varint indexes", () => {
  assert.deepEqual([...encodeFrame(0x01020304, [6], payload)], [0, 1, 2, 3, 4, 2, 12, 0x0a, 0x01, 0x78]);
  assert.deepEqual([...encodeMessageIndexes([1, 0])], [4, 2, 0]);
  assert.deepEqual([...encodeMessageIndexes([64])], [2, 0x80, 0x01]);
  assert.deepEqual([...encodeMessageIndexes([0, 0])], [4, 0, 0], "only [0] alone has the shorthand");
});

test("frames decode to what was encoded, for any id, index path and payload", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(fc.nat({ max: 100_000 }), { minLength: 1, maxLength: 5 }), fc.uint8Array(), (id, indexes, body) => {
      const frame = decodeFrame(encodeFrame(id, indexes, body));
      assert.equal(frame.schemaId, id);
      assert.deepEqual(frame.messageIndexes, indexes);
      assert.deepEqual([...frame.payload], [...body]);
    }),
  );
});

test("what is not a frame is refused with a reason", () => {
  assert.throws(() => decodeFrame(Uint8Array.of(1, 0, 0, 0, 1, 0)), /magic byte 1/);
  assert.throws(() => decodeFrame(Uint8Array.of(0, 0, 0)), /too short/);
  assert.throws(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x82)), WireFormatError);
});

test("the topic table's messages and their index paths in events.proto", () => {
  assert.deepEqual(
    TOPICS.map((t) => [t.topic, t.message.typeName, messageIndexes(t.message)]),
    [
      ["task-events", "taskmesh.events.v1.TaskEvent", [0]],
      ["reminders", "taskmesh.events.v1.ReminderEvent", [6]],
      ["task-updates", "taskmesh.events.v1.TaskUpdate", [11]],
    ],
  );
});

test("the codec frames outbox payloads with the topic's schema id and decodes them back", () => {
  const codec = new EventCodec(
    new Map([
      ["task-events", 7],
      ["reminders", 8],
      ["task-updates", 9],
    ]),
  );
  const message = create(TaskEventSchema, { eventId: "e", taskId: "t", version: 4n, event: { case: "created", value: { task: create(TaskSchema, { id: "t", title: "x" }) } } });
  const framed = codec.encode("task-events", toBinary(TaskEventSchema, message));
  assert.deepEqual([...framed.subarray(0, 6)], [0, 0, 0, 0, 7, 0]);
  const decoded = codec.decode("task-events", framed);
  assert.equal(decoded.schemaId, 7);
  assert.ok(equals(TaskEventSchema, decoded.message as never, message));

  const reminder = codec.encode("reminders", toBinary(ReminderEventSchema, create(ReminderEventSchema, { reminderId: "r" })));
  assert.deepEqual([...reminder.subarray(0, 7)], [0, 0, 0, 0, 8, 2, 12]);
  // A TaskUpdate frame on the task-events topic names the wrong message.
  const update = codec.encode("task-updates", toBinary(TaskUpdateSchema, create(TaskUpdateSchema, {})));
  assert.throws(() => codec.decode("task-events", update), /do not name taskmesh.events.v1.TaskEvent/);
  assert.throws(() => codec.encode("elsewhere", payload), /no registered value schema/);
});

test("retry backoff doubles from the initial delay up to the cap", () => {
  const options = { initialBackoffMs: 100, maxBackoffMs: 1_000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((a) => backoffMs(options, a)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
});
