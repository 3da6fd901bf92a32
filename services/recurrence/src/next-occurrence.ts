import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { RecurrenceSchema, ReminderSchema, type Recurrence, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { CreateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { idForRequest } from "@taskmesh/kit";
import { Temporal } from "temporal-polyfill";
import { dueWithinRange, nextOccurrence, RecurrenceError, type Due } from "./engine.js";

export type CreateTaskInit = MessageInitShape<typeof CreateTaskRequestSchema>;

/**
 * The idempotency key of the occurrence that follows `task`: one per completed occurrence, so a
 * redelivered event, a second replica or a complete–reopen–complete can only ever name one task.
 */
export function nextOccurrenceKey(task: Task): string {
  return `recurrence:next-of:${task.id}`;
}

/** Why a series ended other than by its COUNT or UNTIL, with the due it would have had if there is one. */
export type SeriesEnded = (task: Task, why: string, nextDue?: Due) => void;

/**
 * The CreateTask request for the next occurrence of a completed recurring task, or undefined when
 * the event is not a completion, the task does not repeat, or the series has ended (COUNT, UNTIL,
 * or as reported to `onEnded`).
 */
export function planNextOccurrence(event: TaskEvent, onEnded?: SeriesEnded): CreateTaskInit | undefined {
  if (event.event.case !== "completed") return undefined;
  const task = event.event.value.task;
  if (!task?.recurrence) return undefined;
  const completedAt = task.completeTime ? timestampDate(task.completeTime) : event.occurredAt ? timestampDate(event.occurredAt) : new Date();
  const following = followingOccurrence(task, completedAt, (why, due) => onEnded?.(task, why, due));
  if (!following) return undefined;
  return {
    title: task.title,
    notes: task.notes,
    priority: task.priority,
    tags: task.tags,
    due: dueField(following.due),
    timeZone: task.timeZone,
    recurrence: following.recurrence,
    reminders: following.reminders,
    seriesId: task.seriesId || task.id,
    requestId: nextOccurrenceKey(task),
    projectId: task.projectId,
    sectionId: task.sectionId,
    assigneeId: task.assigneeId,
  };
}

/**
 * The occurrence to take back when a completed occurrence is reopened: the one its completion made
 * (its id follows from the occurrence key), as long as it is as it was made (version 1). One the
 * user has changed, completed or deleted since stays as it is.
 */
export function withdrawnOccurrence(event: TaskEvent): { id: string; expectedVersion: bigint } | undefined {
  if (event.event.case !== "reopened") return undefined;
  const task = event.event.value.task;
  if (!task?.recurrence) return undefined;
  return { id: idForRequest(event.userId, nextOccurrenceKey(task)), expectedVersion: 1n };
}

export interface FollowingOccurrence {
  due: Due;
  /** The task's recurrence as the following occurrence carries it (occurrence number advanced). */
  recurrence: Recurrence;
  /** The task's reminders for the following occurrence (absolute ones shifted by the due's move). */
  reminders: Reminder[];
}

/**
 * The occurrence after the one `task` stands for, as if it were done at `doneAt` (which only
 * matters for rules that repeat after completion); undefined when the series has ended: by COUNT or
 * UNTIL, or as reported to `onEnded` (a next due past 9999-12-31, a rule that gives no further date).
 */
export function followingOccurrence(task: Task, doneAt: Date, onEnded?: (why: string, nextDue?: Due) => void): FollowingOccurrence | undefined {
  const recurrence = task.recurrence;
  if (!recurrence) return undefined;
  const previous = dueOf(task);
  const start: Due | undefined =
    recurrence.start.case === "startTime" ? { time: timestampDate(recurrence.start.value) } : recurrence.start.case === "startDate" ? { date: recurrence.start.value } : previous;
  const occurrence = Math.max(1, recurrence.occurrence);
  let next: Due | undefined;
  try {
    next = nextOccurrence({
      rrule: recurrence.rrule,
      mode: recurrence.mode,
      floating: recurrence.floating,
      start: start ?? { time: doneAt },
      previous,
      timeZone: task.timeZone || "UTC",
      completedAt: doneAt,
      exdates: recurrence.exdates,
      completedCount: occurrence,
    });
  } catch (err) {
    // What the task itself holds (a rule that matches no later date, one stored before rules were
    // checked) gives the same answer however often it is asked: the series ends here.
    if (!(err instanceof RecurrenceError)) throw err;
    onEnded?.(`${err.field}: ${err.message}`);
    return undefined;
  }
  if (!next) return undefined;
  // Past 9999-12-31 nothing can hold the due: the series ends there, as with COUNT or UNTIL.
  if (!dueWithinRange(next)) {
    onEnded?.("its next occurrence falls after 9999-12-31, beyond what can be stored", next);
    return undefined;
  }
  return {
    due: next,
    recurrence: create(RecurrenceSchema, { ...recurrence, occurrence: occurrence + 1 }),
    reminders: task.reminders.map((r) => shiftReminder(r, previous, next, task.timeZone || "UTC")),
  };
}

export function dueField(due: Due): CreateTaskInit["due"] {
  return "time" in due ? { case: "dueTime", value: timestampFromDate(due.time) } : { case: "dueDate", value: due.date };
}

export function dueOf(task: Task): Due | undefined {
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
