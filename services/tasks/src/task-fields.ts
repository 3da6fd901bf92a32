import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Temporal } from "temporal-polyfill";
import { randomUUID } from "node:crypto";
import { canonicalTimeZone, type FieldViolation } from "@taskmesh/kit";
import { Priority, RecurrenceMode, type Recurrence, type Reminder } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { parseRRule, repeatsAtTimesOfDay, RRuleSyntaxError, setPositionsBeyondPeriod, TIMES_OF_DAY_ON_ALL_DAY } from "@taskmesh/rrule";
import { reminderToJson, type RecurrenceJson, type ReminderJson } from "./task-row.js";

/** The user-writable fields, as CreateTaskRequest and Task both carry them. */
export interface WritableTask {
  title: string;
  notes: string;
  priority: Priority;
  tags: string[];
  due: { case: "dueTime"; value: Timestamp } | { case: "dueDate"; value: string } | { case: undefined; value?: undefined };
  timeZone: string;
  recurrence?: Recurrence;
  reminders: Reminder[];
}

/** What the store writes for those fields. */
export interface TaskFields {
  title: string;
  notes: string;
  priority: number;
  tags: string[];
  dueTime: Date | null;
  dueDate: string | null;
  dueAt: Date | null;
  timeZone: string;
  recurrence: RecurrenceJson | null;
  reminders: ReminderJson[];
}

/** A due date's calendar day: its ISO text, its year, and the instant it starts in the task's zone (none without a zone). */
interface DueDay {
  iso: string;
  year: number;
  startMs: number | undefined;
}

// Parsing the date and walking the zone's rules with Temporal's polyfill costs 2–3 % of a create's
// CPU; days and zones repeat (today, tomorrow, a user's zone), so the answers are remembered (bounded).
const dueDays = new Map<string, DueDay | null>();

/** The day `value` names, or null when it is not a calendar date. */
function dueDay(value: string, timeZone: string | undefined): DueDay | null {
  const key = `${value}\u0000${timeZone ?? ""}`;
  let day = dueDays.get(key);
  if (day === undefined) {
    try {
      const date = Temporal.PlainDate.from(value, { overflow: "reject" });
      day = { iso: date.toString(), year: date.year, startMs: timeZone ? date.toZonedDateTime({ timeZone }).epochMilliseconds : undefined };
    } catch {
      day = null;
    }
    if (dueDays.size >= 10_000) dueDays.clear();
    dueDays.set(key, day);
  }
  return day;
}

/**
 * Normalises and checks what protovalidate cannot: IANA zones, calendar dates, reminders and
 * recurrence that need a due. `prefix` is prepended to field paths ("" or "task.").
 */
export function toTaskFields(input: WritableTask, defaultZone: string, prefix: string): TaskFields | FieldViolation[] {
  const violations: FieldViolation[] = [];
  const bad = (field: string, ruleId: string, message: string) => violations.push({ field: prefix + field, ruleId, message });

  // PostgreSQL text and jsonb cannot hold U+0000: refuse it here rather than fail in the database.
  const noNul = (field: string, value: string) => {
    if (value.includes("\u0000")) bad(field, "string.no_nul", "must not contain the NUL character (U+0000)");
  };
  noNul("title", input.title);
  noNul("notes", input.notes);
  for (const [i, r] of input.reminders.entries()) noNul(`reminders[${i}].id`, r.id);
  if (input.recurrence) {
    noNul("recurrence.rrule", input.recurrence.rrule);
    for (const [i, d] of input.recurrence.exdates.entries()) noNul(`recurrence.exdates[${i}]`, d);
  }

  const timeZone = canonicalTimeZone(input.timeZone || defaultZone);
  if (!timeZone) bad("time_zone", "time_zone.iana", `"${input.timeZone}" is not an IANA time zone (e.g. "Europe/Berlin", "America/New_York", "UTC")`);

  let dueTime: Date | null = null;
  let dueDate: string | null = null;
  let dueAt: Date | null = null;
  if (input.due.case === "dueTime") {
    dueTime = timestampDate(input.due.value);
    dueAt = dueTime;
  } else if (input.due.case === "dueDate") {
    const day = dueDay(input.due.value, timeZone);
    if (!day) bad("due_date", "due_date.calendar", `"${input.due.value}" is not a calendar date (YYYY-MM-DD)`);
    else {
      dueDate = day.iso;
      // All-day tasks sort from the start of their day in the task's zone; due filters test their date.
      if (day.startMs !== undefined) dueAt = new Date(day.startMs);
      if (day.year < 1 || day.year > 9999 || (dueAt && (dueAt.getTime() < MIN_INSTANT_MS || dueAt.getTime() > MAX_INSTANT_MS))) {
        dueDate = null;
        dueAt = null;
        bad(
          "due_date",
          "due_date.range",
          `"${input.due.value}" is outside the supported range: its day must start between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in ${timeZone ?? "the time zone"}`,
        );
      }
    }
  }
  const hasDue = input.due.case !== undefined;

  const seenIds = new Set<string>();
  const reminders = input.reminders.map((r, i) => {
    if (r.trigger.case === "beforeDue" && !hasDue) bad(`reminders[${i}].before_due`, "reminders.needs_due", "a reminder relative to the due needs a due date or time");
    const id = r.id || randomUUID().slice(0, 8);
    if (seenIds.has(id)) bad(`reminders[${i}].id`, "reminders.unique_id", `reminder id "${id}" is used twice`);
    seenIds.add(id);
    return reminderToJson(r, id);
  });

  let recurrence: RecurrenceJson | null = null;
  if (input.recurrence) {
    const mode = input.recurrence.mode === RecurrenceMode.UNSPECIFIED ? RecurrenceMode.SCHEDULE : input.recurrence.mode;
    if (mode === RecurrenceMode.SCHEDULE && !hasDue) bad("recurrence", "recurrence.needs_due", "a task repeating on a schedule needs a due date or time to start from");
    const given = input.recurrence.start;
    let start: RecurrenceJson["start"];
    if (given.case === "startTime") start = { time: timestampDate(given.value).toISOString() };
    else if (given.case === "startDate") start = { date: given.value };
    else if (dueTime) start = { time: dueTime.toISOString() };
    else if (dueDate) start = { date: dueDate };
    const rrule = input.recurrence.rrule.trim();
    // A rule stored unread would fail only when the task is completed, and the series would end
    // there without a word to anyone.
    try {
      const parts = parseRRule(rrule);
      const selectsNothing = setPositionsBeyondPeriod(parts);
      if (selectsNothing) bad("recurrence.rrule", "rrule.no_occurrence", selectsNothing);
      if (repeatsAtTimesOfDay(parts) && start && "date" in start) bad("recurrence.rrule", "rrule.time_on_all_day", TIMES_OF_DAY_ON_ALL_DAY);
    } catch (e) {
      if (!(e instanceof RRuleSyntaxError)) throw e;
      bad("recurrence.rrule", "rrule.invalid", e.message);
    }
    recurrence = {
      rrule,
      mode,
      floating: input.recurrence.floating,
      ...(start ? { start } : {}),
      exdates: input.recurrence.exdates,
      occurrence: Math.max(1, input.recurrence.occurrence),
    };
  }

  if (violations.length > 0) return violations;
  return {
    title: input.title.trim(),
    notes: input.notes,
    priority: input.priority === Priority.UNSPECIFIED ? Priority.NONE : input.priority,
    tags: [...new Set(input.tags.map((t) => t.trim().toLowerCase()))],
    dueTime,
    dueDate,
    dueAt,
    timeZone: timeZone!,
    recurrence,
    reminders,
  };
}

// google.protobuf.Timestamp's range: a due outside it could be stored but never sent back.
const MIN_INSTANT_MS = new Date("0001-01-01T00:00:00Z").getTime();
const MAX_INSTANT_MS = new Date("9999-12-31T23:59:59Z").getTime();
