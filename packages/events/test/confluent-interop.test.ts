// What we produce is readable by Confluent's own Python deserializer (confluent-kafka
// ProtobufDeserializer): magic byte, schema id from the registry, message indexes, payload.
import { test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReminderEventSchema, TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { Priority, TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { ensureInteropPython } from "../interop/python-env.js";
import { confluentSchemaRegistry, connectKafkaBus, DEFAULT_PROTO_ROOTS, ensureKafkaTopics, registerSchemas } from "../src/index.js";
import { freshTopics, requireEnv } from "./fixtures.js";

const SCRIPT = path.join(import.meta.dirname, "../interop/confluent_deserialize.py");

test("Confluent's Python ProtobufDeserializer decodes what the Kafka bus produced", { timeout: 600_000 }, async () => {
  const brokers = [requireEnv("TASKMESH_TEST_KAFKA_BROKERS")];
  const registryUrl = requireEnv("TASKMESH_TEST_SCHEMA_REGISTRY_URL");
  const python = await ensureInteropPython();
  const t = freshTopics();
  const schemaIds = await registerSchemas({ registry: confluentSchemaRegistry(registryUrl), topics: t.table });
  await ensureKafkaTopics({ brokers, topics: t.table.map((x) => x.topic) });
  const bus = await connectKafkaBus({ brokers, schemaIds, topics: t.table });

  const taskId = randomUUID();
  const at = new Date("2026-11-25T09:30:00Z");
  const task = create(TaskSchema, { id: taskId, title: "Pay rent", priority: Priority.HIGH, tags: ["home", "finance"], version: 2n });
  const taskEvent = create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(at),
    userId: "alice",
    taskId,
    version: 2n,
    device: "phone",
    event: { case: "updated", value: { before: task, after: task, changedFields: ["priority"] } },
  });
  const reminder = create(ReminderEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(at),
    userId: "alice",
    taskId,
    reminderId: "r-1",
    event: { case: "snoozed", value: { until: timestampFromDate(at) } },
  });
  const update = create(TaskUpdateSchema, { eventId: randomUUID(), userId: "alice", cursor: "17", change: { case: "deletedTaskId", value: taskId } });
  try {
    await bus.publish([
      { topic: t.taskEvents, key: taskId, payload: toBinary(TaskEventSchema, taskEvent), headers: {} },
      { topic: t.reminders, key: taskId, payload: toBinary(ReminderEventSchema, reminder), headers: {} },
      { topic: t.taskUpdates, key: "alice", payload: toBinary(TaskUpdateSchema, update), headers: {} },
    ]);
  } finally {
    await bus.close();
  }

  const args = [SCRIPT, "--bootstrap", brokers[0]!, "--registry", registryUrl, "--count", "3"];
  for (const root of DEFAULT_PROTO_ROOTS) args.push("--proto-root", root);
  for (const { topic, message } of t.table) args.push("--topic", `${topic}=${message.name}`);
  const lines = await runPython(python, args);
  const byTopic = new Map(lines.map((l) => [l.topic as string, l]));

  const te = byTopic.get(t.taskEvents)!;
  assert.equal(te.type, "taskmesh.events.v1.TaskEvent");
  assert.equal(te.key, taskId);
  assert.equal(te.schema_id, schemaIds.get(t.taskEvents));
  assert.equal(te.schema_type, "PROTOBUF");
  assert.deepEqual(te.references, ["buf/validate/validate.proto", "taskmesh/tasks/v1/task.proto"]);
  const tm = te.message as {
    event_id: string;
    occurred_at: string;
    version: string;
    device: string;
    updated: { after: { title: string; priority: string; tags: string[] }; changed_fields: string[] };
  };
  assert.equal(tm.event_id, taskEvent.eventId);
  assert.equal(tm.occurred_at, "2026-11-25T09:30:00Z");
  assert.equal(tm.version, "2");
  assert.equal(tm.device, "phone");
  assert.equal(tm.updated.after.title, "Pay rent");
  assert.equal(tm.updated.after.priority, "PRIORITY_HIGH");
  assert.deepEqual(tm.updated.after.tags, ["home", "finance"]);
  assert.deepEqual(tm.updated.changed_fields, ["priority"]);

  // ReminderEvent is the 7th message of events.proto: message indexes [6], not the [0] shorthand.
  const re = byTopic.get(t.reminders)!;
  assert.equal(re.type, "taskmesh.events.v1.ReminderEvent");
  const rm = re.message as { reminder_id: string; snoozed: { until: string } };
  assert.equal(rm.reminder_id, "r-1");
  assert.equal(rm.snoozed.until, "2026-11-25T09:30:00Z");

  const tu = byTopic.get(t.taskUpdates)!;
  assert.equal(tu.type, "taskmesh.events.v1.TaskUpdate");
  assert.equal((tu.message as { deleted_task_id: string }).deleted_task_id, taskId);
  assert.equal(tu.key, "alice");
});

function runPython(python: string, args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`confluent_deserialize.py exited ${code}:\n${err}\n${out}`));
      else
        resolve(
          out
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
    });
  });
}
