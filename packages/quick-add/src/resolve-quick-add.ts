// Finishes a quick-add draft with the recurrence service: the phrase becomes an RRULE and a
// readable summary, and the task's first due is the rule's first occurrence (from now, or from the
// date given with "starting …"), so a weekly-on-Tuesday task is due on a Tuesday.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { Temporal } from "temporal-polyfill";
import type { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode, RecurrenceSchema, ReminderSchema, type Recurrence } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { create } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema, type CreateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { cleanTitle, finishReminder, parseQuickAdd, taggedWith, takeDue, toWall, type Due, type QuickAddDraft } from "./parse-quick-add.js";

export interface ResolvedQuickAdd extends QuickAddDraft {
  recurrence?: Recurrence;
  recurrenceSummary?: string;
  /** Why the recurrence phrase was not understood (it stays in the title then). */
  recurrenceError?: string;
}

// Words that trail a recurrence phrase without belonging to it ("every day please") are dropped
// from its end one at a time, this many at most.
const MAX_TRAILING_WORDS = 4;

export async function resolveQuickAdd(draft: QuickAddDraft, recurrence: Client<typeof RecurrenceService>, timeZone: string, now: Date = new Date(), signal?: AbortSignal): Promise<ResolvedQuickAdd> {
  if (!draft.recurrenceText) return draft;
  const zone = draft.timeZone ?? timeZone;
  const [before, after] = draft.titleParts ?? [draft.title, ""];
  const words = draft.recurrenceText.split(/\s+/);
  let firstError: string | undefined;
  for (let n = words.length; n >= Math.max(1, words.length - MAX_TRAILING_WORDS); n--) {
    try {
      const parsed = await recurrence.parseRecurrence({ text: words.slice(0, n).join(" ") }, { signal });
      if (!parsed.recurrence) break;
      // Words after the rule go back to the title, and may name where the series starts ("… by friday").
      const leftover = draft.due ? { rest: words.slice(n).join(" ") } : takeDue(words.slice(n).join(" "), now, zone);
      const from = draft.due ?? leftover.due;
      const due = await firstOccurrence(recurrence, parsed.recurrence, zone, now, from, signal);
      const lastDay = due && lastDayRule(parsed.recurrence, due, zone);
      const anchored = lastDay ? await recurrence.parseRecurrence({ text: lastDay }, { signal }) : parsed;
      const resolved: ResolvedQuickAdd = {
        ...draft,
        title: cleanTitle(`${before} ${leftover.rest} ${after}`),
        recurrence: anchored.recurrence ? create(RecurrenceSchema, { ...parsed.recurrence, rrule: anchored.recurrence.rrule }) : parsed.recurrence,
        recurrenceSummary: anchored.summary,
        ...(due ? { due } : {}),
      };
      finishReminder(resolved, now, zone);
      return resolved;
    } catch (err) {
      const error = ConnectError.from(err);
      if (error.code !== Code.InvalidArgument) throw err;
      firstError ??= error.rawMessage;
    }
  }
  // Not a rule after all: the line is read again as a one-off task, the words stay in the title.
  const { recurrenceText, titleParts: _parts, source, ...rest } = draft;
  const again = source !== undefined ? parseQuickAdd(source, now, timeZone, { recurrence: false }) : { ...rest, title: cleanTitle(`${before} ${recurrenceText} ${after}`) };
  return { ...again, recurrenceError: firstError ?? "not a recurrence" };
}

/**
 * "Every month" started on the 29th–31st, or "every year" on Feb 29, as people mean it: that day, or
 * the last day of a shorter month (of February in common years). RFC 5545 would skip those months, so
 * the reading is written out: BYMONTHDAY=28,…,d;BYSETPOS=-1. Undefined for any other rule.
 */
export function lastDayRule(rule: Recurrence, due: Due, zone: string): string | undefined {
  if (rule.mode === RecurrenceMode.AFTER_COMPLETION) return undefined;
  const parts = rule.rrule.split(";");
  if (!parts.every((p) => /^(?:FREQ|INTERVAL|COUNT|UNTIL|BYHOUR|BYMINUTE)=[^,]*$/.test(p))) return undefined;
  const day = due.kind === "date" ? Temporal.PlainDate.from(due.date) : toWall(due.time, zone).toPlainDate();
  if (day.day < 29) return undefined;
  const upTo = (d: number) => Array.from({ length: d - 27 }, (_, i) => 28 + i).join(",");
  if (parts.includes("FREQ=MONTHLY")) return `${rule.rrule};BYMONTHDAY=${upTo(day.day)};BYSETPOS=-1`;
  if (parts.includes("FREQ=YEARLY") && day.month === 2) return `${rule.rrule};BYMONTH=2;BYMONTHDAY=${upTo(day.day)};BYSETPOS=-1`;
  return undefined;
}

/**
 * The rule's first occurrence on or after `from` (a date: that day; a time: that instant; none: now).
 * It is looked for with INTERVAL and COUNT left out (the series is anchored at this first due, so
 * "every other tuesday" starts on the next Tuesday) and, for "the 31st, or the last day when shorter",
 * with the day as named ("the 31st" starts on a real 31st), so the first due is always an occurrence
 * of the rule. A rule with no day or time parts ("every month") starts on `from`.
 */
async function firstOccurrence(client: Client<typeof RecurrenceService>, rule: Recurrence, zone: string, now: Date, from: Due | undefined, signal?: AbortSignal): Promise<Due | undefined> {
  const parts = rule.rrule.split(";").filter((p) => !/^(?:INTERVAL|COUNT)=/.test(p));
  const names = parts.map((p) => p.split("=")[0]);
  const timed = names.some((p) => p === "BYHOUR" || p === "BYMINUTE") || /FREQ=(HOURLY|MINUTELY)/.test(rule.rrule);
  const today = toWall(now, zone).toPlainDate();
  if (names.every((p) => p === "FREQ" || p === "UNTIL")) {
    if (from) return from;
    if (!timed) return { kind: "date", date: today.toString() };
    // "every 2 hours": one interval from now.
    const interval = Number(/INTERVAL=(\d+)/.exec(rule.rrule)?.[1] ?? 1);
    return { kind: "time", time: new Date(Math.floor(now.getTime() / 60_000) * 60_000 + interval * (/HOURLY/.test(rule.rrule) ? 3_600_000 : 60_000)) };
  }
  const fromDay = from?.kind === "date" ? Temporal.PlainDate.from(from.date) : from ? toWall(from.time, zone).toPlainDate() : today;
  if (!timed && names.every((p) => p === "FREQ" || p === "UNTIL" || p === "BYMONTH")) {
    // "every year in march": the day of the month comes from the start, so no day before it is tried.
    const months = (/BYMONTH=([\d,]+)/.exec(rule.rrule)?.[1] ?? "").split(",").map(Number);
    if (months.includes(fromDay.month)) return { kind: "date", date: fromDay.toString() };
    const probe = create(RecurrenceSchema, { ...rule, mode: RecurrenceMode.SCHEDULE, rrule: parts.join(";") });
    const { occurrences } = await client.previewOccurrences({ recurrence: probe, start: { case: "startDate", value: fromDay.toString() }, timeZone: zone, count: 2 }, { signal });
    const next = occurrences[1]?.when;
    return next?.case === "date" ? { kind: "date", date: next.value } : undefined;
  }
  const midnight = (date: string) => Temporal.PlainDate.from(date).toZonedDateTime(zone).epochMilliseconds;
  const start = timed
    ? ({
        case: "startTime",
        value: timestampFromDate(new Date(from?.kind === "time" ? from.time.getTime() - 60_000 : from ? midnight(from.date) - 60_000 : Math.floor(now.getTime() / 60_000) * 60_000)),
      } as const)
    : ({
        case: "startDate",
        value: fromDay.subtract({ days: 1 }).toString(),
      } as const);
  const probe = create(RecurrenceSchema, { ...rule, mode: RecurrenceMode.SCHEDULE, rrule: startDay(namedDay(parts), fromDay).join(";") });
  const { occurrences } = await client.previewOccurrences({ recurrence: probe, start, timeZone: zone, count: 2 }, { signal });
  const next = occurrences[1]?.when;
  if (next?.case === "time") return { kind: "time", time: timestampDate(next.value) };
  if (next?.case === "date") return { kind: "date", date: next.value };
  return undefined;
}

/**
 * A rule that takes its day from its start ("every month from jan 15 at 9am") is probed from a
 * moment just before that start, which would lend it the day before: the start's day is named.
 */
function startDay(parts: string[], day: Temporal.PlainDate): string[] {
  const has = (name: string) => parts.some((p) => p.startsWith(`${name}=`));
  if (has("BYDAY") || has("BYMONTHDAY") || has("BYYEARDAY") || has("BYWEEKNO")) return parts;
  if (parts.includes("FREQ=WEEKLY")) return [...parts, `BYDAY=${["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.dayOfWeek - 1]}`];
  if (parts.includes("FREQ=MONTHLY")) return [...parts, `BYMONTHDAY=${day.day}`];
  if (parts.includes("FREQ=YEARLY")) return [...parts, ...(has("BYMONTH") ? [] : [`BYMONTH=${day.month}`]), `BYMONTHDAY=${day.day}`];
  return parts;
}

/** BYMONTHDAY=28,…,d;BYSETPOS=-1 as BYMONTHDAY=d: the day the person named. */
function namedDay(parts: string[]): string[] {
  const days = /^BYMONTHDAY=28((?:,(?:29|30|31))+)$/.exec(parts.find((p) => p.startsWith("BYMONTHDAY=")) ?? "");
  if (!days || !parts.includes("BYSETPOS=-1")) return parts;
  const day = days[1]!.split(",").pop()!;
  return parts.filter((p) => p !== "BYSETPOS=-1").map((p) => (p.startsWith("BYMONTHDAY=") ? `BYMONTHDAY=${day}` : p));
}

/** The CreateTask request for a line as read (a fresh request_id: the web app and the MCP tools send the same). */
export function toCreateRequest(draft: ResolvedQuickAdd, timeZone: string): CreateTaskRequest {
  const reminder = draft.reminder;
  return create(CreateTaskRequestSchema, {
    title: draft.title,
    tags: taggedWith(draft),
    ...(draft.priority !== undefined ? { priority: draft.priority } : {}),
    due: !draft.due ? { case: undefined } : draft.due.kind === "date" ? { case: "dueDate", value: draft.due.date } : { case: "dueTime", value: timestampFromDate(draft.due.time) },
    timeZone: draft.timeZone ?? timeZone,
    ...(draft.recurrence ? { recurrence: draft.recurrence } : {}),
    reminders: reminder
      ? [
          create(ReminderSchema, {
            trigger: reminder.kind === "before" ? { case: "beforeDue", value: { seconds: BigInt(reminder.seconds) } } : { case: "absoluteTime", value: timestampFromDate(reminder.time) },
          }),
        ]
      : [],
    requestId: crypto.randomUUID(),
    projectId: draft.project?.id ?? "",
    sectionId: draft.section?.id ?? "",
    assigneeId: draft.assignee?.id ?? "",
  });
}
