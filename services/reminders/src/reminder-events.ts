import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EVENT_TYPE_HEADER, TOPIC, type EventRecord } from "@taskmesh/events";
import { ReminderEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { randomUUID } from "node:crypto";

export interface ReminderRef {
  /** The task's owner. */
  userId: string;
  /** Who is reminded (ReminderEvent.recipient_id); undefined: userId. */
  recipientId?: string;
  taskId: string;
  reminderId: string;
  /** Of the request or task event that caused this one. */
  traceparent?: string;
}

type EventCase = NonNullable<MessageInitShape<typeof ReminderEventSchema>["event"]>;

/** A `reminders` topic record, keyed by task so a task's reminder events stay in order. */
export function reminderEventRecord(ref: ReminderRef, event: EventCase, now: Date, eventId: string = randomUUID()): EventRecord {
  const message = create(ReminderEventSchema, {
    eventId,
    occurredAt: timestampFromDate(now),
    userId: ref.userId,
    recipientId: ref.recipientId ?? "",
    taskId: ref.taskId,
    reminderId: ref.reminderId,
    traceparent: ref.traceparent ?? "",
    event,
  });
  const headers: Record<string, string> = { [EVENT_TYPE_HEADER]: event.case ?? "" };
  if (ref.traceparent) headers.traceparent = ref.traceparent;
  return { topic: TOPIC.reminders, key: ref.taskId, payload: toBinary(ReminderEventSchema, message), headers };
}
