// An RFC 5545 calendar of tasks with a due: all-day events for due dates, timed events in the task's
// zone (with its VTIMEZONE) for due times, the repeat rule as RRULE from the current occurrence on.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { getVtimezoneComponent } from "@touch4it/ical-timezones";
import { Priority, RecurrenceMode, TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import ical, { ICalEventStatus } from "ical-generator";
import { Temporal } from "temporal-polyfill";

export interface CalendarFeedOptions {
  name: string;
  tasks: readonly Task[];
  /** For tasks without a zone of their own: the user's. */
  timeZone: string;
}

// RFC 5545 PRIORITY: 1 highest, 9 lowest, 0 undefined.
const ICAL_PRIORITY: Partial<Record<Priority, number>> = { [Priority.HIGH]: 1, [Priority.MEDIUM]: 5, [Priority.LOW]: 9 };

export function calendarFeed({ name, tasks, timeZone }: CalendarFeedOptions): string {
  const calendar = ical({ name, prodId: { company: "taskmesh", product: "tasks", language: "EN" } });
  calendar.timezone({ name: null, generator: getVtimezoneComponent });
  for (const task of tasks) {
    if (task.status === TaskStatus.COMPLETED || task.due.case === undefined) continue;
    const zone = task.timeZone || timeZone;
    const floating = task.recurrence?.floating ?? false;
    const event = calendar.createEvent({
      // One event per series: its next occurrence replaces the completed one in subscribers' calendars.
      id: `${task.seriesId || task.id}@taskmesh`,
      summary: task.title,
      ...(task.notes ? { description: task.notes } : {}),
      categories: task.tags.map((tag) => ({ name: tag })),
      status: ICalEventStatus.CONFIRMED,
      ...(task.updateTime ? { stamp: timestampDate(task.updateTime) } : {}),
      ...(ICAL_PRIORITY[task.priority] ? { priority: ICAL_PRIORITY[task.priority]! } : {}),
      start: new Date(),
    });
    if (task.due.case === "dueDate") {
      // A date-only DTSTART (VALUE=DATE): the calendar shows it on that day wherever it is read.
      const day = Temporal.PlainDate.from(task.due.value);
      event
        .allDay(true)
        .start(utcMidnight(day))
        .end(utcMidnight(day.add({ days: 1 })));
    } else {
      // Temporal values: ical-generator writes a Date's wall time in the server's own zone.
      const at = Temporal.Instant.fromEpochMilliseconds(timestampDate(task.due.value).getTime()).toZonedDateTimeISO(zone);
      if (floating) event.start(at.toPlainDateTime()).floating(true);
      else event.start(at).timezone(zone);
    }
    const rule = ruleFrom(task, zone);
    if (rule) event.repeating(rule);
  }
  return calendar.toString();
}

function utcMidnight(day: Temporal.PlainDate): Date {
  return new Date(Date.UTC(day.year, day.month - 1, day.day));
}

/**
 * RRULE (and EXDATE) lines counted from the task's current due. A task that repeats after
 * completion has no schedule to show, only its next due. COUNT is what is left of the series.
 */
function ruleFrom(task: Task, zone: string): string | undefined {
  const r = task.recurrence;
  if (!r || r.mode === RecurrenceMode.AFTER_COMPLETION) return undefined;
  let rule = r.rrule;
  const count = /(?:^|;)COUNT=(\d+)/.exec(rule);
  if (count && r.occurrence > 1) {
    const left = Number(count[1]) - (r.occurrence - 1);
    if (left < 1) return undefined;
    rule = rule.replace(/COUNT=\d+/, `COUNT=${left}`);
  }
  const lines = [`RRULE:${rule}`];
  const exdates = r.exdates.map((x) => exdate(task, x, zone)).filter((x): x is string => x !== undefined);
  if (exdates.length) lines.push(...exdates);
  return lines.join("\n");
}

// "YYYY-MM-DD" skips that local day (the occurrence at the due's time of day), an instant that one.
function exdate(task: Task, value: string, zone: string): string | undefined {
  const compact = (s: string) => s.replace(/[-:]/g, "").replace(/\.\d+/, "");
  if (task.due.case === "dueDate") return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `EXDATE;VALUE=DATE:${compact(value)}` : undefined;
  if (task.due.case !== "dueTime") return undefined;
  const due = Temporal.Instant.fromEpochMilliseconds(timestampDate(task.due.value).getTime()).toZonedDateTimeISO(zone);
  const at = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Temporal.PlainDate.from(value).toPlainDateTime(due.toPlainTime()) : Temporal.Instant.from(value).toZonedDateTimeISO(zone).toPlainDateTime();
  const local = compact(at.toString({ smallestUnit: "second" }));
  return task.recurrence?.floating ? `EXDATE:${local}` : `EXDATE;TZID=${zone}:${local}`;
}
