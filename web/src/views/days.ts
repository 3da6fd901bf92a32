// Tasks by calendar day and by section: the groups of Today, Upcoming, the month calendar and the
// board, and the UpdateTask request that moves a task to another day. Pure: days are ISO dates
// (YYYY-MM-DD) in the viewer's zone, Temporal does the calendar arithmetic.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { UpdateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { Temporal } from "temporal-polyfill";
import { formFromTask, updateRequest } from "../tasks/task-form.js";
import { toWallClock } from "../tasks/zoned.js";

/** An ISO date (YYYY-MM-DD). */
export type Day = string;

export interface DayGroup {
  /** The day its tasks are due; absent for Today's "Overdue", which gathers several days. */
  day?: Day;
  tasks: Task[];
}

/**
 * The day a task is listed under: an all-day task's own date (it is a date wherever one is), a
 * timed one's instant as a date on the viewer's clock, so that a New York evening seen from Berlin
 * sits on the next morning it happens in.
 */
export function dueDay(task: Pick<Task, "due">, viewerZone: string): Day | undefined {
  if (task.due.case === "dueDate") return task.due.value;
  if (task.due.case === "dueTime") return toWallClock(timestampDate(task.due.value), viewerZone).date;
  return undefined;
}

export function addDays(day: Day, days: number): Day {
  return Temporal.PlainDate.from(day).add({ days }).toString();
}

/** `count` consecutive days from `first`. */
export function daySpan(first: Day, count: number): Day[] {
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** Tasks by due day, in the order given; tasks without a due are left out. */
export function tasksByDay(tasks: readonly Task[], viewerZone: string): Map<Day, Task[]> {
  const days = new Map<Day, Task[]>();
  for (const task of tasks) {
    const day = dueDay(task, viewerZone);
    if (day) days.set(day, [...(days.get(day) ?? []), task]);
  }
  return days;
}

/** Today's view: what is due before today (one group, "Overdue", shown only when it holds any), then today. */
export function todayGroups(tasks: readonly Task[], today: Day, viewerZone: string): DayGroup[] {
  const overdue: Task[] = [];
  const due: Task[] = [];
  for (const task of tasks) {
    const day = dueDay(task, viewerZone);
    if (day && day < today) overdue.push(task);
    else if (day === today) due.push(task);
  }
  return [...(overdue.length ? [{ tasks: overdue }] : []), { day: today, tasks: due }];
}

/**
 * Upcoming: each of the `count` days from `today`, empty ones too (somewhere to drag a task to),
 * then any later day that holds tasks; earlier days are not this view's.
 */
export function upcomingGroups(tasks: readonly Task[], today: Day, count: number, viewerZone: string): DayGroup[] {
  const byDay = tasksByDay(tasks, viewerZone);
  const span = daySpan(today, count);
  const later = [...byDay.keys()].filter((d) => d > span[span.length - 1]!).sort();
  return [...span, ...later].map((day) => ({ day, tasks: byDay.get(day) ?? [] }));
}

/**
 * The weeks shown for a month (YYYY-MM), Monday first as the filter language's weeks: from the
 * Monday on or before the 1st to the Sunday on or after the last day.
 */
export function monthWeeks(month: string): Day[][] {
  const first = Temporal.PlainYearMonth.from(month).toPlainDate({ day: 1 });
  const start = first.subtract({ days: first.dayOfWeek - 1 });
  const last = first.add({ months: 1 }).subtract({ days: 1 });
  const end = last.add({ days: 7 - last.dayOfWeek });
  const days = daySpan(start.toString(), start.until(end).days + 1);
  return Array.from({ length: days.length / 7 }, (_, w) => days.slice(w * 7, w * 7 + 7));
}

export function addMonths(month: string, months: number): string {
  return Temporal.PlainYearMonth.from(month).add({ months }).toString();
}

/**
 * The request that moves a task from the day it is listed under to `day`, keeping its time of day
 * on its own zone's clock (a 21:00 New York task moved by one day is at 21:00 New York the next
 * day, whatever the viewer's clock says); undefined when it is already there or has no due. It goes
 * through the editor's form, so the fields ride along exactly as an edit of the date would send
 * them (the zone stored with a task that had none, a repeating series restarted from the new due).
 */
export function rescheduleRequest(task: Task, day: Day, viewerZone: string): UpdateTaskRequest | undefined {
  const shown = dueDay(task, viewerZone);
  if (!shown || shown === day) return undefined;
  const form = formFromTask(task, viewerZone);
  const shift = Temporal.PlainDate.from(shown).until(day).days;
  form.date = task.due.case === "dueDate" ? day : addDays(form.date, shift);
  return updateRequest(task, form);
}

export interface Column {
  /** The section's id, "" for the tasks in none. */
  sectionId: string;
  name: string;
  tasks: Task[];
}

/**
 * A project's board: a column for the tasks in no section, then one per section in the order
 * given, each with its top-level tasks in list order (a subtask belongs with its parent: it is no
 * card of its own when the parent is listed); a task whose section is not among `sections`
 * (deleted meanwhile) is in no section.
 */
export function boardColumns(tasks: readonly Task[], sections: readonly { id: string; name: string }[]): Column[] {
  const columns: Column[] = [{ sectionId: "", name: "No section", tasks: [] }, ...sections.map((s) => ({ sectionId: s.id, name: s.name, tasks: [] as Task[] }))];
  const ids = new Set(tasks.map((t) => t.id));
  for (const task of tasks) {
    if (task.parentId && ids.has(task.parentId)) continue;
    (columns.find((c) => c.sectionId === task.sectionId) ?? columns[0]!).tasks.push(task);
  }
  return columns;
}
