import { Temporal } from "temporal-polyfill";
import { isRelativeDay, monthDay, nextDays, type IsoDate, type RelativeDay } from "./ast.js";

/**
 * The instants [start, end) covered by whole calendar days in `timeZone`, as seen at `now`.
 * `today` is [start of today, start of tomorrow): 23 or 25 hours long on DST-change days. All
 * zone math is Temporal's; a day whose midnight is skipped starts at its first existing instant.
 */
export function dayRange(day: RelativeDay | IsoDate, now: Date, timeZone: string): { start: Date; end: Date } {
  const [first, days] = isRelativeDay(day) ? relative(day, todayIn(now, timeZone)) : [Temporal.PlainDate.from(day), 1];
  return { start: startOfDay(first, timeZone), end: startOfDay(first.add({ days }), timeZone) };
}

/** Throws RangeError for an unknown IANA zone or an invalid `now`. */
export function todayIn(now: Date, timeZone: string): Temporal.PlainDate {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("now is not a valid Date");
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).toPlainDate();
}

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

function relative(day: RelativeDay, today: Temporal.PlainDate): [Temporal.PlainDate, number] {
  const monday = today.subtract({ days: today.dayOfWeek - 1 }); // ISO weeks: Monday..Sunday
  const first = today.with({ day: 1 });
  const weekday = WEEKDAYS.indexOf(day) + 1;
  // A weekday is the next one from today on, today included: "friday" on a Friday is today.
  if (weekday > 0) return [today.add({ days: (weekday - today.dayOfWeek + 7) % 7 }), 1];
  const n = nextDays(day);
  if (n !== undefined) return [today, n];
  const md = monthDay(day);
  if (md) return [nearest(md, today), 1];
  switch (day) {
    case "today":
      return [today, 1];
    case "tomorrow":
      return [today.add({ days: 1 }), 1];
    case "yesterday":
      return [today.subtract({ days: 1 }), 1];
    case "this-week":
      return [monday, 7];
    case "next-week":
      return [monday.add({ days: 7 }), 7];
    case "last-week":
      return [monday.subtract({ days: 7 }), 7];
    case "this-month":
      return [first, first.daysInMonth];
    case "next-month":
      return [first.add({ months: 1 }), first.add({ months: 1 }).daysInMonth];
    case "last-month":
      return [first.subtract({ months: 1 }), first.subtract({ months: 1 }).daysInMonth];
  }
  throw new RangeError(`not a relative day: ${day}`);
}

/**
 * The date with that month and day nearest `today`, last year's, this year's or next year's (the
 * later of two as near): `dec-20` said in early December is this December's, `jan-3` next
 * January's, `nov-20` the one just past. Feb 29 is looked for in the years that have one.
 */
function nearest(md: { month: number; day: number }, today: Temporal.PlainDate): Temporal.PlainDate {
  let best: Temporal.PlainDate | undefined;
  for (let year = today.year - 4; year <= today.year + 4; year++) {
    const date = Temporal.PlainDate.from({ year, ...md }, { overflow: "constrain" });
    if (date.month !== md.month || date.day !== md.day) continue;
    const distance = Math.abs(today.until(date).total("days"));
    if (!best || distance <= Math.abs(today.until(best).total("days"))) best = date;
  }
  return best!;
}

function startOfDay(date: Temporal.PlainDate, timeZone: string): Date {
  return new Date(date.toZonedDateTime({ timeZone }).epochMilliseconds);
}
