// A series whose next occurrence falls after 9999-12-31 ends there, with a log line (it used to
// fail CreateTask on every retry and land in task-events.dlq with nothing logged); previews stop
// before such dates instead of failing to encode them.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import type { EventBus, SubscribeOptions } from "@taskmesh/events";
import { recordingLogger } from "@taskmesh/testing/logs";
import { TaskEventSchema, type TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startNextOccurrenceConsumer } from "../src/next-occurrence-consumer.js";
import { createRecurrenceServiceImpl } from "../src/recurrence-service.js";

function completion(due: { case: "dueTime"; value: ReturnType<typeof timestampFromDate> } | { case: "dueDate"; value: string }, rrule: string) {
  const task = create(TaskSchema, {
    id: "7d9a3c2e-0000-4000-8000-000000000001",
    title: "Far",
    due,
    timeZone: "UTC",
    recurrence: { rrule },
    completeTime: timestampFromDate(new Date("2027-01-01T00:00:00Z")),
  });
  return create(TaskEventSchema, { userId: "alice", taskId: task.id, event: { case: "completed", value: { task } } });
}

test("completing a series whose next date is past 9999 ends it cleanly and logs why", async () => {
  const { lines, logger } = recordingLogger();
  let handler: SubscribeOptions["handler"] | undefined;
  const bus: EventBus = {
    system: "taskmesh_event_log",
    publish: async () => {},
    subscribe: async (options) => {
      handler = options.handler;
      return { stop: async () => {} };
    },
    close: async () => {},
  };
  const created: unknown[] = [];
  const tasks = createClient(
    TaskService,
    createRouterTransport((r) =>
      r.service(TaskService, {
        createTask: async (req) => {
          created.push(req);
          return {};
        },
      }),
    ),
  );
  await startNextOccurrenceConsumer(bus, tasks, logger);
  const deliver = (value: TaskEvent) => handler!({ topic: "task-events", key: value.taskId, offset: "0", headers: {}, value, eventId: value.eventId });

  for (const event of [
    completion({ case: "dueTime", value: timestampFromDate(new Date("9999-12-31T12:00:00Z")) }, "FREQ=DAILY"),
    completion({ case: "dueDate", value: "9999-12-31" }, "FREQ=YEARLY"),
  ]) {
    await deliver(event); // used to throw (CreateTask refused) until the event went to the DLQ
  }
  assert.equal(created.length, 0, "no next occurrence is created");
  const ended = lines.filter((l) => String(l.msg).includes("after 9999-12-31"));
  assert.equal(ended.length, 2, "one log line per ended series");
  assert.equal(ended[0]!.taskId, "7d9a3c2e-0000-4000-8000-000000000001");

  // A series well inside the range still continues.
  await deliver(completion({ case: "dueDate", value: "9999-12-30" }, "FREQ=DAILY"));
  assert.equal(created.length, 1);
});

test("a preview stops before dates past 9999 instead of failing to encode them", async () => {
  const client = createClient(
    RecurrenceService,
    createRouterTransport((r) => r.service(RecurrenceService, createRecurrenceServiceImpl({}))),
  );
  const res = await client.previewOccurrences({
    recurrence: { rrule: "FREQ=HOURLY;INTERVAL=999;BYMONTH=2;BYMONTHDAY=29" },
    start: { case: "startTime", value: timestampFromDate(new Date("2026-01-01T00:00:00Z")) },
    timeZone: "UTC",
    count: 100,
  });
  assert.ok(res.occurrences.length < 100, "the series runs out of representable dates");
  for (const o of res.occurrences) {
    assert.equal(o.when.case, "time");
    assert.ok(Number(o.when.value!.seconds) <= 253402300799, "every occurrence is within 9999");
  }
});
