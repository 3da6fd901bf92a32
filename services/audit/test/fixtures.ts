// Shared by the audit tests: events as producers write them, and the environment the test command provides.
import { randomUUID } from "node:crypto";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EventRecord } from "@taskmesh/events";
import { ReminderEventSchema, TaskEventSchema, type ReminderEvent, type TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";

type TaskEventCase = NonNullable<MessageInitShape<typeof TaskEventSchema>["event"]>;
type ReminderEventCase = NonNullable<MessageInitShape<typeof ReminderEventSchema>["event"]>;

export function taskEvent(userId: string, taskId: string, version: number, event: TaskEventCase, occurredAt = new Date(), device = "phone"): TaskEvent {
  return create(TaskEventSchema, { eventId: randomUUID(), occurredAt: timestampFromDate(occurredAt), userId, taskId, version: BigInt(version), device, event });
}

export function reminderEvent(userId: string, taskId: string, reminderId: string, event: ReminderEventCase, occurredAt = new Date()): ReminderEvent {
  return create(ReminderEventSchema, { eventId: randomUUID(), occurredAt: timestampFromDate(occurredAt), userId, taskId, reminderId, event });
}

/** The bus record a producer publishes for the event (key = task id). */
export function recordOf(event: TaskEvent | ReminderEvent): EventRecord {
  const isTask = event.$typeName === TaskEventSchema.typeName;
  return {
    topic: isTask ? "task-events" : "reminders",
    key: event.taskId,
    payload: isTask ? toBinary(TaskEventSchema, event as TaskEvent) : toBinary(ReminderEventSchema, event as ReminderEvent),
    headers: { "event-type": event.event.case ?? "" },
  };
}

/** Polls until `probe` returns a value (not undefined). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
