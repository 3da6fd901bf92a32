import { isMessage, toJson, type JsonObject, type Message } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { ReminderEventSchema, TaskEventSchema, type ReminderEvent, type TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { CommentSchema, TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { changesOf, type StoredChange } from "./field-changes.js";

export interface StoredReminder {
  id: string;
  /** ISO instant. */
  fireTime?: string;
  reason?: string;
}

/** What the activity log stores for one event. */
export interface ActivityRecord {
  eventId: string;
  userId: string;
  taskId: string;
  kind: ActivityKind;
  occurredAt: Date;
  actor: string;
  device: string;
  taskVersion: bigint;
  /** Empty for reminder events that do not carry it: the log fills in the latest known one. */
  taskTitle: string;
  timeZone: string;
  changes: StoredChange[];
  reminder: StoredReminder | null;
  /** The task's last state, for deletions (undo re-creates it). */
  snapshot: JsonObject | null;
  /** The comment, for comment entries. */
  comment: JsonObject | null;
}

/** The entry for a consumed task-events or reminders value; undefined for kinds it does not know. */
export function activityOf(value: Message, eventId: string): ActivityRecord | undefined {
  if (isMessage(value, TaskEventSchema)) return taskActivity(value, eventId);
  if (isMessage(value, ReminderEventSchema)) return reminderActivity(value, eventId);
  return undefined;
}

const TASK_KINDS = {
  created: ActivityKind.TASK_CREATED,
  updated: ActivityKind.TASK_UPDATED,
  completed: ActivityKind.TASK_COMPLETED,
  reopened: ActivityKind.TASK_REOPENED,
  deleted: ActivityKind.TASK_DELETED,
  commentAdded: ActivityKind.COMMENT_ADDED,
  commentEdited: ActivityKind.COMMENT_EDITED,
  commentDeleted: ActivityKind.COMMENT_DELETED,
} as const;

function taskActivity(event: TaskEvent, eventId: string): ActivityRecord | undefined {
  const { case: which, value } = event.event;
  if (!which) return undefined;
  if (which === "commentAdded" || which === "commentEdited" || which === "commentDeleted") {
    return {
      ...common(event, eventId),
      kind: TASK_KINDS[which],
      actor: value.comment?.authorId || event.actorId || event.userId,
      device: event.device,
      taskVersion: event.version,
      taskTitle: value.taskTitle,
      timeZone: "",
      changes: [],
      reminder: null,
      snapshot: null,
      comment: value.comment ? (toJson(CommentSchema, value.comment) as JsonObject) : null,
    };
  }
  const task: Task | undefined = which === "updated" ? value.after : value.task;
  return {
    ...common(event, eventId),
    kind: TASK_KINDS[which],
    // A member of a shared project acts on the owner's task.
    actor: event.actorId || event.userId,
    device: event.device,
    taskVersion: event.version,
    taskTitle: task?.title ?? "",
    timeZone: task?.timeZone ?? "",
    changes: which === "updated" ? changesOf(value) : [],
    reminder: null,
    snapshot: which === "deleted" && value.task ? (toJson(TaskSchema, value.task) as JsonObject) : null,
    comment: null,
  };
}

function reminderActivity(event: ReminderEvent, eventId: string): ActivityRecord | undefined {
  const { case: which, value } = event.event;
  // Reading a notification changes the reader's inbox, not the task.
  if (!which || which === "read") return undefined;
  const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : undefined);
  const [kind, reminder]: [ActivityKind, StoredReminder] =
    which === "scheduled"
      ? [ActivityKind.REMINDER_SCHEDULED, { id: event.reminderId, fireTime: iso(value.fireAt) }]
      : which === "fired"
        ? [ActivityKind.REMINDER_FIRED, { id: event.reminderId, fireTime: iso(value.scheduledFor) }]
        : which === "snoozed"
          ? [ActivityKind.REMINDER_SNOOZED, { id: event.reminderId, fireTime: iso(value.until) }]
          : [ActivityKind.REMINDER_CANCELLED, { id: event.reminderId, reason: value.reason }];
  return {
    ...common(event, eventId),
    kind,
    // A reminder fires by itself; the other changes are the doing of whoever it reminds.
    actor: which === "fired" ? "" : event.recipientId || event.userId,
    device: "",
    taskVersion: 0n,
    taskTitle: which === "fired" ? value.taskTitle : "",
    timeZone: "",
    changes: [],
    reminder,
    snapshot: null,
    comment: null,
  };
}

function common(event: TaskEvent | ReminderEvent, eventId: string) {
  return {
    eventId,
    userId: event.userId,
    taskId: event.taskId,
    occurredAt: event.occurredAt ? timestampDate(event.occurredAt) : new Date(),
  };
}
