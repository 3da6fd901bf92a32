// Cluster mode, as configured by environment: the task service on PostgreSQL relays its outbox to a
// real Kafka (values framed with ids from a real Apicurio Registry); the recurrence service consumes
// task-events and calls the task service over gRPC to create the next occurrence.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ensureKafkaTopics, openKafkaBus } from "@taskmesh/events";
import { createLogger, startServer, type RunningServer } from "@taskmesh/kit";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase, testKafka } from "@taskmesh/testing";
import { startRecurrenceModule } from "../src/index.js";

const logger = createLogger("recurrence-kafka-test");
const me = { headers: { "x-user-id": "kafka-user" } };
const stops: (() => Promise<void>)[] = [];
let client: Client<typeof TaskService>;

beforeAll(async () => {
  const kafka = testKafka();
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const db = await freshDatabase();
  stops.push(() => db.drop());
  const tasksBus = await openKafkaBus(kafka, logger);
  stops.push(() => tasksBus.close());
  const tasks = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (r) => tasksBus.publish(r) } });
  stops.push(() => tasks.stop());
  const server: RunningServer = await startServer({ logger, services: tasks.services, routes: tasks.routes }, 0, "127.0.0.1");
  stops.push(() => server.drain());
  client = createClient(TaskService, createGrpcTransport({ baseUrl: server.url }));
  // The recurrence service has a bus connection of its own, as its own process would.
  const recurrenceBus = await openKafkaBus(kafka, logger);
  stops.push(() => recurrenceBus.close());
  const recurrence = await startRecurrenceModule({ events: recurrenceBus, tasks: client });
  stops.push(() => recurrence.stop());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("a completed weekly task gets its next occurrence through Kafka", async () => {
  const { task } = await client.createTask({ title: "Water plants", due: { case: "dueDate", value: "2027-05-03" }, timeZone: "Asia/Tokyo", recurrence: { rrule: "FREQ=WEEKLY;BYDAY=MO" } }, me);
  await client.completeTask({ id: task!.id }, me);
  const deadline = Date.now() + 30_000;
  let next: Task | undefined;
  while (!next && Date.now() < deadline) {
    next = (await client.listTasks({ query: "status:open" }, me)).tasks.find((t) => t.seriesId === task!.id);
    if (!next) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(next, "the next occurrence appeared within 30 s");
  assert.deepEqual(next.due, { case: "dueDate", value: "2027-05-10" });
  assert.equal(next.title, "Water plants");
});
