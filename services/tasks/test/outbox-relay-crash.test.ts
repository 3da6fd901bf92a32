// The outbox relay killed (SIGKILL) mid-stream and restarted loses no event; the duplicates a
// crash between publish and delete may cause carry the same event_id, so consumers apply each once.
import { test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { ensureKafkaTopics, openKafkaBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { freshDatabase, testKafka } from "@taskmesh/testing";
import { OutboxRelay, startTasksModule } from "../src/index.js";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";

const logger = createLogger("relay-crash-test");

test("relay killed mid-stream and restarted: every event arrives, none is applied twice", async () => {
  const kafka = testKafka();
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const db = await freshDatabase();
  const user = `relay-crash-${Date.now()}`;

  // Without a sink the events wait in the outbox: 400 task-events (and as many task-updates).
  const tasks = await startTasksModule({ databaseUrl: db.url });
  const client = createClient(TaskService, createRouterTransport(tasks.routes));
  const created = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const { task } = await client.createTask({ title: `task ${i}` }, { headers: { "x-user-id": user } });
    created.add(task!.id);
  }
  const backlog = await new OutboxRelay(tasks.db, { send: async () => {} }, logger).backlog();
  assert.equal(backlog, 800);

  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "relay-child.ts")], {
    env: { ...process.env, ...kafka.env, DATABASE_URL: db.url, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const relayStub = new OutboxRelay(tasks.db, { send: async () => {} }, logger);
  for (;;) {
    const left = await relayStub.backlog();
    if (left < 700) break; // some batches are out, most are not
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const leftAfterKill = await relayStub.backlog();
  assert.ok(leftAfterKill > 0, "killed mid-stream, not after");

  // Restarted: the rest goes out.
  const bus = await openKafkaBus(kafka, logger);
  const relay = new OutboxRelay(tasks.db, { send: (r) => bus.publish(r) }, logger);
  await relay.start();
  while ((await relay.backlog()) > 0) await new Promise((r) => setTimeout(r, 50));
  await relay.stop();

  // A consumer that applies by event_id sees every task exactly once.
  const applied = new Map<string, string>();
  let deliveries = 0;
  const sub = await bus.subscribe({
    group: `relay-crash-check-${Date.now()}`,
    topics: ["task-events"],
    async handler({ value, eventId }) {
      if (!isMessage(value, TaskEventSchema) || value.userId !== user) return;
      deliveries++;
      if (!applied.has(eventId)) applied.set(eventId, value.taskId);
    },
  });
  const deadline = Date.now() + 60_000;
  while (new Set(applied.values()).size < created.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await sub.stop();
  await bus.close();
  await tasks.stop();
  await db.drop();

  assert.deepEqual(new Set(applied.values()), created, "no task's event was lost");
  assert.equal(applied.size, created.size, "one event per task: duplicates share their event_id");
  logger.info({ deliveries, distinct: applied.size, leftAfterKill }, "relay crash");
});
