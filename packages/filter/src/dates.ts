import { Temporal } from "temporal-polyfill";
import { daysAway, isRelativeDay, monthDay, nextDays, nextWeekday, WEEKDAYS, type IsoDate, type RelativeDay } from "./ast.js";

/**
 * The whole calendar days in `timeZone` that `day` names as seen at `now`: the instants [start,
 * end) they cover, and the first and last of the dates (ISO, YYYY-MM-DD; the day after the last
 * may be past 9999-12-31, which PostgreSQL's dates do not reach). `today` is [start of
 * today, start of tomorrow): 23 or 25 hours long on DST-change days. All zone math is Temporal's; a
 * day whose midnight is skipped starts at its first existing instant.
 */
export function dayRange(day: RelativeDay | IsoDate, now: Date, timeZone: string): { start: Date; end: Date; firstDate: string; lastDate: string } {
  const [first, days] = isRelativeDay(day) ? relative(day, todayIn(now, timeZone)) : [Temporal.PlainDate.from(day), 1];
  const after = first.add({ days });
  return { start: startOfDay(first, timeZone), end: startOfDay(after, timeZone), firstDate: first.toString(), lastDate: after.subtract({ days: 1 }).toString() };
}

/**
 * How far from UTC a clock has ever been, rounded up: Manila's local mean time before 1845 was
 * 15 h 56 min behind.
 */
const MAX_ZONE_OFFSET_MS = 16 * 3_600_000;

/** [from, until): the instants at which a date (YYYY-MM-DD) starts in one zone or another. */
export function zoneMidnights(date: string): { from: Date; until: Date } {
  const utc = Date.parse(`${date}T00:00:00Z`);
  return { from: new Date(utc - MAX_ZONE_OFFSET_MS), until: new Date(utc + MAX_ZONE_OFFSET_MS) };
}

/** Throws RangeError for an unknown IANA zone or an invalid `now`. */
export function todayIn(now: Date, timeZone: string): Temporal.PlainDate {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("now is not a valid Date");
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).toPlainDate();
}

function relative(day: RelativeDay, today: Temporal.PlainDate): [Temporal.PlainDate, number] {
  const monday = today.subtract({ days: today.dayOfWeek - 1 }); // ISO weeks: Monday..Sunday
  const first = today.with({ day: 1 });
  const weekday = (WEEKDAYS as readonly string[]).indexOf(day) + 1;
  // A weekday is the next one from today on, today included: "friday" on a Friday is today.
  if (weekday > 0) return [today.add({ days: (weekday - today.dayOfWeek + 7) % 7 }), 1];
  const n = nextDays(day);
  if (n !== undefined) return [today, n];
  const md = monthDay(day);
  if (md) return [nearest(md, today), 1];
  const nextWeeks = nextWeekday(day);
  if (nextWeeks) return [monday.add({ days: 7 + WEEKDAYS.indexOf(nextWeeks) }), 1];
  const away = daysAway(day);
  if (away !== undefined) return [today.add({ days: away }), 1];
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
