import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ReminderSchema, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { CreateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { Temporal } from "temporal-polyfill";
import { nextOccurrence, type Due } from "./engine.js";

export type CreateTaskInit = MessageInitShape<typeof CreateTaskRequestSchema>;

/**
 * The idempotency key of the occurrence that follows `task`: one per completed occurrence, so a
 * redelivered event, a second replica or a complete–reopen–complete can only ever name one task.
 */
export function nextOccurrenceKey(task: Task): string {
  return `recurrence:next-of:${task.id}`;
}

/**
 * The CreateTask request for the next occurrence of a completed recurring task, or undefined when
 * the event is not a completion, the task does not repeat, or the series has ended (COUNT, UNTIL).
 */
export function planNextOccurrence(event: TaskEvent): CreateTaskInit | undefined {
  if (event.event.case !== "completed") return undefined;
  const task = event.event.value.task;
  const recurrence = task?.recurrence;
  if (!task || !recurrence) return undefined;
  const previous = dueOf(task);
  const start: Due | undefined =
    recurrence.start.case === "startTime"
      ? { time: timestampDate(recurrence.start.value) }
      : recurrence.start.case === "startDate"
        ? { date: recurrence.start.value }
        : previous;
  const completedAt = task.completeTime ? timestampDate(task.completeTime) : event.occurredAt ? timestampDate(event.occurredAt) : new Date();
  const occurrence = Math.max(1, recurrence.occurrence);
  const next = nextOccurrence({
    rrule: recurrence.rrule,
    mode: recurrence.mode,
    floating: recurrence.floating,
    start: start ?? { time: completedAt },
    previous,
    timeZone: task.timeZone || "UTC",
    completedAt,
    exdates: recurrence.exdates,
    completedCount: occurrence,
  });
  if (!next) return undefined;
  return {
    title: task.title,
    notes: task.notes,
    priority: task.priority,
    tags: task.tags,
    due: "time" in next ? { case: "dueTime", value: timestampFromDate(next.time) } : { case: "dueDate", value: next.date },
    timeZone: task.timeZone,
    recurrence: { ...recurrence, occurrence: occurrence + 1 },
    reminders: task.reminders.map((r) => shiftReminder(r, previous, next, task.timeZone || "UTC")),
    seriesId: task.seriesId || task.id,
    requestId: nextOccurrenceKey(task),
  };
}

function dueOf(task: Task): Due | undefined {
  if (task.due.case === "dueTime") return { time: timestampDate(task.due.value) };
  if (task.due.case === "dueDate") return { date: task.due.value };
  return undefined;
}

/** Relative reminders follow the due by themselves; absolute ones move by as much as the due did. */
function shiftReminder(reminder: Reminder, previous: Due | undefined, next: Due, timeZone: string): Reminder {
  if (reminder.trigger.case !== "absoluteTime" || !previous) return reminder;
  const shift = instantOf(next, timeZone) - instantOf(previous, timeZone);
  return create(ReminderSchema, {
    id: reminder.id,
    trigger: { case: "absoluteTime", value: timestampFromDate(new Date(timestampDate(reminder.trigger.value).getTime() + shift)) },
  });
}

function instantOf(due: Due, timeZone: string): number {
  if ("time" in due) return due.time.getTime();
  return Temporal.PlainDate.from(due.date).toZonedDateTime({ timeZone }).epochMilliseconds;
}
