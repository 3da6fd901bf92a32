// Cluster mode on real Kafka + Apicurio: the task service on PostgreSQL relays its outbox to Kafka;
// the audit service, with a bus connection of its own as its own process would have, records the
// TaskEvents; a TaskEvent published again (a redelivery) is not recorded twice.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { ensureKafkaTopics, openKafkaBus, type EventBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase, testKafka } from "@taskmesh/testing";
import { startAuditModule } from "../src/index.js";
import { eventually, recordOf, taskEvent } from "./fixtures.js";

const logger = createLogger("audit-kafka-test");
const me = { headers: { "x-user-id": `kafka-audit-${process.pid}`, "x-device": "laptop" } };
const validated = { router: { interceptors: [createValidateInterceptor()] } };
const stops: (() => Promise<void>)[] = [];
let tasks: Client<typeof TaskService>;
let audit: Client<typeof AuditService>;
let tasksBus: EventBus;

beforeAll(async () => {
  const kafka = testKafka();
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const db = await freshDatabase();
  stops.push(() => db.drop());
  tasksBus = await openKafkaBus(kafka, logger);
  stops.push(() => tasksBus.close());
  const tasksModule = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (r) => tasksBus.publish(r) } });
  stops.push(() => tasksModule.stop());
  tasks = createClient(TaskService, createRouterTransport(tasksModule.routes, validated));
  const auditBus = await openKafkaBus(kafka, logger);
  stops.push(() => auditBus.close());
  const auditModule = await startAuditModule({ databaseUrl: db.url, events: auditBus, logger });
  stops.push(() => auditModule.stop());
  audit = createClient(AuditService, createRouterTransport(auditModule.routes, validated));
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const entriesOf = (taskId: string, count: number) =>
  eventually(
    `${count} entries through Kafka`,
    async () => {
      const { entries } = await audit.listActivity({ taskId }, me);
      return entries.length >= count ? entries : undefined;
    },
    60_000,
  );

test("task changes relayed through Kafka become entries; a redelivered TaskEvent is recorded once", async () => {
  const { task } = await tasks.createTask({ title: "File taxes", priority: Priority.MEDIUM }, me);
  await tasks.updateTask({ task: { id: task!.id, priority: Priority.HIGH }, updateMask: { paths: ["priority"] }, expectedVersion: 1n }, me);
  const [update, created] = await entriesOf(task!.id, 2);
  assert.equal(created!.kind, ActivityKind.TASK_CREATED);
  assert.equal(update!.summary, "priority medium → high");
  assert.equal(update!.device, "laptop");

  // The same event twice more on the topic, then a marker after it on the same key (same partition).
  const completed = taskEvent(me.headers["x-user-id"], task!.id, 3, { case: "completed", value: { task: { id: task!.id, title: "File taxes" } } });
  await tasksBus.publish([recordOf(completed)]);
  await tasksBus.publish([recordOf(completed)]);
  const marker = taskEvent(me.headers["x-user-id"], task!.id, 4, { case: "reopened", value: { task: { id: task!.id, title: "File taxes" } } });
  await tasksBus.publish([recordOf(marker)]);
  const entries = await entriesOf(task!.id, 4);
  assert.deepEqual(
    entries.map((e) => e.kind),
    [ActivityKind.TASK_REOPENED, ActivityKind.TASK_COMPLETED, ActivityKind.TASK_UPDATED, ActivityKind.TASK_CREATED],
  );
  assert.equal(entries.filter((e) => e.id === completed.eventId).length, 1);
});
