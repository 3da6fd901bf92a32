// Edits of a whole series that the user asks for on one of its tasks: skip this occurrence, end the
// series. Pure planning: the service applies the result with TaskService.UpdateTask, so the task
// service stays the one owner of tasks and emits the change like any other edit.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { RecurrenceMode, RecurrenceSchema, TaskSchema, TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { UpdateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { Temporal } from "temporal-polyfill";
import { formatRRule, parseRRule, summarize, type Due, type Until } from "./engine.js";
import { dueField, dueOf, followingOccurrence } from "./next-occurrence.js";

export type UpdateTaskInit = MessageInitShape<typeof UpdateTaskRequestSchema>;

/** Why a series edit cannot apply to this task; the service answers FAILED_PRECONDITION. */
export class SeriesEditRefused extends Error {}

/** Recurrence.exdates holds at most this many (protovalidate max_items); the oldest go first. */
const MAX_EXDATES = 200;

export interface PlannedSkip {
  update: UpdateTaskInit;
  skipped: Due;
}

export function planSkip(task: Task, now: Date): PlannedSkip {
  const { recurrence, skipped } = openOccurrence(task);
  const following = followingOccurrence(task, now);
  if (!following) {
    throw new SeriesEditRefused("this is the last occurrence of its series: complete or delete the task instead of skipping it");
  }
  // Rules that repeat after completion have no schedule to except a date from.
  const exdates = recurrence.mode === RecurrenceMode.AFTER_COMPLETION ? following.recurrence.exdates : [...following.recurrence.exdates, exdateOf(skipped)].slice(-MAX_EXDATES);
  const paths = [task.due.case === "dueDate" ? "due_date" : "due_time", "recurrence"];
  if (task.reminders.some((r) => r.trigger.case === "absoluteTime")) paths.push("reminders");
  return {
    skipped,
    update: {
      task: create(TaskSchema, {
        id: task.id,
        due: dueField(following.due),
        recurrence: create(RecurrenceSchema, { ...following.recurrence, exdates }),
        reminders: following.reminders,
      }),
      updateMask: { paths },
      expectedVersion: task.version,
    },
  };
}

export interface PlannedEnd {
  update: UpdateTaskInit;
  summary: string;
}

export function planEndSeries(task: Task): PlannedEnd {
  const { recurrence, skipped: current } = openOccurrence(task);
  const parts = parseRRule(recurrence.rrule);
  // RFC 5545 forbids COUNT together with UNTIL; UNTIL at the open occurrence ends the series there.
  delete parts.count;
  parts.until = untilOf(current, task.timeZone || "UTC", recurrence.floating);
  const rrule = formatRRule(parts);
  return {
    summary: summarize(rrule, recurrence.mode),
    update: {
      task: create(TaskSchema, { id: task.id, recurrence: create(RecurrenceSchema, { ...recurrence, rrule }) }),
      updateMask: { paths: ["recurrence"] },
      expectedVersion: task.version,
    },
  };
}

function openOccurrence(task: Task) {
  const recurrence = task.recurrence;
  if (!recurrence) throw new SeriesEditRefused("the task does not repeat");
  if (task.status !== TaskStatus.OPEN) {
    throw new SeriesEditRefused("the task is completed: its series continues with the next occurrence, edit that one");
  }
  const skipped = dueOf(task);
  if (!skipped) throw new SeriesEditRefused("the task has no due date, so it has no occurrence to skip or end at");
  return { recurrence, skipped };
}

function exdateOf(due: Due): string {
  return "date" in due ? due.date : due.time.toISOString();
}

function untilOf(due: Due, timeZone: string, floating: boolean): Until {
  if ("date" in due) return { kind: "date", date: due.date };
  const instant = Temporal.Instant.fromEpochMilliseconds(due.time.getTime());
  if (floating) {
    // A floating series keeps its wall-clock wherever the user is, so it ends at that wall-clock.
    const local = instant.toZonedDateTimeISO(timeZone).toPlainDateTime().round("second");
    return { kind: "local", iso: local.toString() };
  }
  return { kind: "utc", iso: instant.round("second").toString() };
}
