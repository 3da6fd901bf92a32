// A CreateTask that never answers (a task service that hangs, a connection that died without a
// word) must not hold the consumer's partition for good: the call has a deadline, the bus retries
// it, and the next occurrence is created once the task service answers again.
import { test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ensureKafkaTopics, openKafkaBus, TOPIC, type EventBus } from "@taskmesh/events";
import { createLogger, startServer } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { nextOccurrenceKey } from "../src/next-occurrence.js";
import { startNextOccurrenceConsumer } from "../src/next-occurrence-consumer.js";
import { testKafka } from "@taskmesh/testing";

const logger = createLogger("hung-create-task-test");
logger.level = "error";

test("a CreateTask that never answers is given up at its deadline and retried", { timeout: 120_000 }, async () => {
  const kafka = testKafka();
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const bus = await openKafkaBus(kafka, logger);

  const task = create(TaskSchema, {
    id: randomUUID(),
    title: "Water plants",
    due: { case: "dueDate", value: "2027-05-03" },
    timeZone: "UTC",
    recurrence: { rrule: "FREQ=WEEKLY" },
    completeTime: timestampFromDate(new Date()),
  });
  const key = nextOccurrenceKey(task);
  // The first call for this task hangs until the test ends; every later one, and every other
  // task's, is answered at once.
  let calls = 0;
  const hung: (() => void)[] = [];
  const server = await startServer(
    {
      logger,
      services: [TaskService],
      routes: (router) =>
        router.service(TaskService, {
          async createTask(req) {
            if (req.requestId !== key) return {};
            if (++calls === 1) await new Promise<void>((resolve) => hung.push(resolve));
            return { task: { id: randomUUID(), seriesId: task.id } };
          },
        }),
    },
    0,
    "127.0.0.1",
  );
  const tasks = createClient(TaskService, createGrpcTransport({ baseUrl: server.url }));
  // A group of its own: other files' consumers of the service's group would share the partitions.
  const group = `recurrence-hung-${randomUUID()}`;
  const ownGroup: EventBus = { system: bus.system, publish: (r) => bus.publish(r), subscribe: (o) => bus.subscribe({ ...o, group }), close: () => bus.close() };
  const consumer = await startNextOccurrenceConsumer(ownGroup, tasks, logger, 1_000);
  try {
    const completed = create(TaskEventSchema, { eventId: randomUUID(), userId: "hung-user", taskId: task.id, version: 2n, event: { case: "completed", value: { task } } });
    await bus.publish([{ topic: TOPIC.taskEvents, key: task.id, payload: toBinary(TaskEventSchema, completed), headers: {} }]);
    const deadline = Date.now() + 60_000;
    while (calls < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(calls >= 2, `CreateTask was called again after the first call hung (calls: ${calls})`);
  } finally {
    for (const release of hung) release();
    await consumer.stop();
    await bus.close();
    await server.drain();
  }
});
