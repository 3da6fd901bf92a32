// Cluster mode on the real stack: the task service on PostgreSQL relays task-events to Kafka; the
// reminders service runs as its own process (src/main.ts) and publishes ReminderEvents to Kafka.
// Then it is SIGKILLed while firing a burst and restarted: every reminder fires, none twice.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { ensureKafkaTopics, openKafkaBus } from "@taskmesh/events";
import { ReminderEventSchema, type ReminderEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase, testKafka } from "@taskmesh/testing";
import pg from "pg";
import { eventually, logger, sleep } from "./harness.js";

const user = { headers: { "x-user-id": `cluster-${Date.now()}` } };
const stops: (() => Promise<void>)[] = [];
const fired: ReminderEvent[] = [];
let tasks: Client<typeof TaskService>;
let databaseUrl: string;
let env: NodeJS.ProcessEnv;
let service: ChildProcess | undefined;

function startService(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "../src/main.ts")], {
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, PORT: "0", SCHEDULER_LEASE_MS: "1000", LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "error" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
}

async function firesRecorded(): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM reminders.fires`).catch(() => ({ rows: [{ n: 0 }] }));
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const kafka = testKafka();
  env = kafka.env;
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const db = await freshDatabase();
  databaseUrl = db.url;
  stops.push(() => db.drop());
  const bus = await openKafkaBus(kafka, logger);
  stops.push(() => bus.close());
  const tasksModule = await startTasksModule({ databaseUrl, logger, events: { send: (r) => bus.publish(r) } });
  stops.push(() => tasksModule.stop());
  tasks = createClient(TaskService, createRouterTransport(tasksModule.routes));
  const watcher = await bus.subscribe({
    group: `reminders-cluster-test-${Date.now()}`,
    topics: ["reminders"],
    async handler({ value }) {
      if (isMessage(value, ReminderEventSchema) && value.event.case === "fired") fired.push(value);
    },
  });
  stops.push(() => watcher.stop());
  service = startService();
  stops.push(() => kill(service!));
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("task-events on Kafka → the reminders process fires on time → ReminderEvent{fired} on Kafka", async () => {
  const at = new Date(Date.now() + 5_000);
  const { task } = await tasks.createTask({ title: "Kafka reminder", reminders: [{ id: "k", trigger: { case: "absoluteTime", value: timestampFromDate(at) } }] }, user);
  const event = await eventually("the fired event on Kafka", () => fired.find((e) => e.taskId === task!.id), 60_000);
  if (event.event.case !== "fired") return assert.fail();
  assert.equal(event.event.value.taskTitle, "Kafka reminder");
  assert.ok(timestampDate(event.event.value.firedAt!) >= at);
});

test("SIGKILLed while firing a burst and restarted: every reminder fires, none twice", async () => {
  const count = 200;
  const before = await firesRecorded();
  const base = Date.now() + 15_000;
  const ids: string[] = [];
  for (let chunk = 0; chunk < count; chunk += 20) {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        tasks.createTask({ title: `burst ${chunk + j}`, reminders: [{ id: "b", trigger: { case: "absoluteTime", value: timestampFromDate(new Date(base + (chunk + j) * 2)) } }] }, user),
      ),
    );
    ids.push(...created.map((c) => c.task!.id));
  }
  assert.ok(Date.now() < base, "the burst is armed before it is due");
  await eventually("the burst under way", async () => (await firesRecorded()) > before || undefined, 60_000);
  await kill(service!);
  const afterKill = (await firesRecorded()) - before;
  service = startService();
  await eventually("every reminder fired", async () => (await firesRecorded()) - before === count || undefined, 90_000);
  await eventually("every fired event on Kafka", () => ids.every((id) => fired.some((e) => e.taskId === id)) || undefined, 60_000);
  await sleep(2_000);
  assert.equal((await firesRecorded()) - before, count, "no reminder fired twice");
  // The relay may publish a batch again after the kill: the same event, the same event_id.
  for (const id of ids) assert.equal(new Set(fired.filter((e) => e.taskId === id).map((e) => e.eventId)).size, 1, `task ${id}`);
  logger.info({ firedBeforeKill: afterKill }, "burst");
  assert.ok(afterKill < count, "killed mid-burst, not after");
});
