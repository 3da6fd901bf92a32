// Readable English for an RRULE: "every 2 weeks on Monday and Friday", "monthly on the last Friday".
// Every summary of a rule the phrase parser produces parses back to the same rule (tested).
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { parseRRule, type ByDay, type RRuleParts, type Weekday } from "@taskmesh/rrule";

export const DAY_NAMES: Record<Weekday, string> = {
  MO: "Monday",
  TU: "Tuesday",
  WE: "Wednesday",
  TH: "Thursday",
  FR: "Friday",
  SA: "Saturday",
  SU: "Sunday",
};

export const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const WEEKDAY_SET = ["MO", "TU", "WE", "TH", "FR"];
const WEEKEND_SET = ["SA", "SU"];

export function ordinal(n: number): string {
  const mod100 = n % 100;
  const suffix = mod100 >= 11 && mod100 <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
  return `${n}${suffix}`;
}

/** "1st", "last", "2nd to last". */
function position(n: number): string {
  if (n === -1) return "last";
  if (n < 0) return `${ordinal(-n)} to last`;
  return ordinal(n);
}

export function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join("");
  if (items.length === 2) return `${items[0]} and ${items[1]}`;
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const plainDays = (byDay: ByDay[] | undefined) => (byDay?.every((d) => d.n === undefined) ? byDay.map((d) => d.day) : undefined);
const sortDays = (days: Weekday[]) => [...days].sort((a, b) => WEEKDAY_ORDER.indexOf(a) - WEEKDAY_ORDER.indexOf(b));
const WEEKDAY_ORDER: Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

function dayList(days: Weekday[]): string {
  return joinAnd(sortDays(days).map((d) => DAY_NAMES[d]));
}

function timeText(hour: number, minute: number): string {
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  const suffix = hour < 12 ? "am" : "pm";
  return minute === 0 ? `${h12}${suffix}` : `${h12}:${String(minute).padStart(2, "0")}${suffix}`;
}

/** Summary of an RRULE and mode; rule parts it cannot phrase are appended in RRULE form. Throws RRuleSyntaxError. */
export function summarize(rrule: string, mode: RecurrenceMode = RecurrenceMode.SCHEDULE): string {
  const p = parseRRule(rrule);
  const used = new Set<keyof RRuleParts>(["freq", "interval"]);
  const n = p.interval;
  let text: string;
  const days = plainDays(p.byDay);

  switch (p.freq) {
    case "DAILY":
    case "WEEKLY": {
      const unit = p.freq === "DAILY" ? "day" : "week";
      const base = n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
      if (days && !p.bySetPos) {
        used.add("byDay");
        if (n === 1 && sameSet(days, WEEKDAY_SET)) text = "every weekday";
        else if (n === 1 && sameSet(days, WEEKEND_SET)) text = "every weekend";
        else if (n === 1 && p.freq === "WEEKLY") text = `every ${dayList(days)}`;
        else text = `${base} on ${sameSet(days, WEEKDAY_SET) ? "weekdays" : sameSet(days, WEEKEND_SET) ? "weekends" : dayList(days)}`;
      } else {
        text = base;
      }
      break;
    }
    case "MONTHLY": {
      text = n === 1 ? "monthly" : `every ${n} months`;
      const on = monthlyOn(p, used);
      if (on) text += ` on ${on}`;
      break;
    }
    case "YEARLY": {
      text = n === 1 ? "every year" : `every ${n} years`;
      if (p.byMonth?.length === 1 && p.byMonth[0] === 2 && !p.byDay && sameNumbers(p.byMonthDay, [28, 29]) && sameNumbers(p.bySetPos, [-1])) {
        text += " on February 29, or February 28 in common years";
        used.add("byMonth").add("byMonthDay").add("bySetPos");
      } else if (p.byMonth?.length === 1 && p.byMonthDay?.length === 1 && p.byMonthDay[0]! > 0 && !p.byDay && !p.bySetPos) {
        text += ` on ${MONTH_NAMES[p.byMonth[0]! - 1]} ${p.byMonthDay[0]}`;
        if (p.byMonth[0] === 2 && p.byMonthDay[0] === 29) text += ", in leap years only";
        used.add("byMonth").add("byMonthDay");
      } else if (p.byMonth?.length === 1 && p.byDay?.length === 1 && p.byDay[0]!.n !== undefined && !p.byMonthDay && !p.bySetPos) {
        text += ` on the ${position(p.byDay[0]!.n)} ${DAY_NAMES[p.byDay[0]!.day]} of ${MONTH_NAMES[p.byMonth[0]! - 1]}`;
        used.add("byMonth").add("byDay");
      } else if (p.byMonth && !p.byMonthDay && !p.byDay && !p.bySetPos) {
        text += ` in ${joinAnd(p.byMonth.map((m) => MONTH_NAMES[m - 1]!))}`;
        used.add("byMonth");
      }
      break;
    }
    case "HOURLY":
      text = n === 1 ? "every hour" : `every ${n} hours`;
      break;
    case "MINUTELY":
      text = n === 1 ? "every minute" : `every ${n} minutes`;
      break;
  }

  if (p.byHour && p.byMinute?.length === 1 && p.bySecond === undefined && p.freq !== "HOURLY" && p.freq !== "MINUTELY") {
    const minute = p.byMinute[0]!;
    text += ` at ${joinAnd([...p.byHour].sort((a, b) => a - b).map((h) => timeText(h, minute)))}`;
    used.add("byHour").add("byMinute");
  }

  const rest: string[] = [];
  const leftover: Array<[keyof RRuleParts, string]> = [
    ["byMonth", "BYMONTH"],
    ["byWeekNo", "BYWEEKNO"],
    ["byYearDay", "BYYEARDAY"],
    ["byMonthDay", "BYMONTHDAY"],
    ["byDay", "BYDAY"],
    ["byHour", "BYHOUR"],
    ["byMinute", "BYMINUTE"],
    ["bySecond", "BYSECOND"],
    ["bySetPos", "BYSETPOS"],
    ["wkst", "WKST"],
    ["rscale", "RSCALE"],
    ["skip", "SKIP"],
  ];
  for (const [key, name] of leftover) {
    const v = p[key];
    if (v === undefined || used.has(key)) continue;
    if (key === "byDay") rest.push(`${name}=${(v as ByDay[]).map((d) => `${d.n ?? ""}${d.day}`).join(",")}`);
    else rest.push(`${name}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  }
  if (rest.length) text += ` (${rest.join(";")})`;

  if (p.count !== undefined) text += `, ${p.count === 1 ? "once" : `${p.count} times`}`;
  if (p.until) text += ` until ${p.until.kind === "date" ? p.until.date : p.until.iso}`;
  if (mode === RecurrenceMode.AFTER_COMPLETION) text += " after completion";
  return text;
}

const sameNumbers = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.length === b.length && b.every((x) => a.includes(x));

/** d for BYMONTHDAY=28,…,d;BYSETPOS=-1 (the d-th, or the month's last day when it is shorter). */
function lastDayOf(p: RRuleParts): number | undefined {
  if (p.byDay || !sameNumbers(p.bySetPos, [-1]) || !p.byMonthDay) return undefined;
  const d = Math.max(...p.byMonthDay);
  return d >= 29 &&
    d <= 31 &&
    sameNumbers(
      p.byMonthDay,
      Array.from({ length: d - 27 }, (_, i) => 28 + i),
    )
    ? d
    : undefined;
}

function monthlyOn(p: RRuleParts, used: Set<keyof RRuleParts>): string | undefined {
  const days = plainDays(p.byDay);
  if (p.byDay && !days && !p.byMonthDay && !p.bySetPos) {
    used.add("byDay");
    return joinAnd(p.byDay.map((d) => `the ${position(d.n!)} ${DAY_NAMES[d.day]}`));
  }
  const lastDay = lastDayOf(p);
  if (lastDay !== undefined) {
    used.add("byMonthDay").add("bySetPos");
    return `the ${ordinal(lastDay)}, or the last day when shorter`;
  }
  if (p.byMonthDay && !p.byDay && !p.bySetPos) {
    used.add("byMonthDay");
    const sorted = [...p.byMonthDay].sort((a, b) => (a > 0 && b > 0 ? a - b : a > 0 ? -1 : b > 0 ? 1 : b - a));
    const text = `the ${joinAnd(sorted.map((d) => (d > 0 ? ordinal(d) : `${position(d)} day`)))}`;
    // RFC 5545: a month without that day has no occurrence; say so, people expect otherwise.
    const missing = sorted.filter((d) => d >= 29);
    if (missing.length === 0) return text;
    return `${text}, ${missing.length === 1 && sorted.length === 1 ? `skipping months without a ${ordinal(missing[0]!)}` : "skipping the days a month lacks"}`;
  }
  if (days && p.bySetPos?.length === 1 && !p.byMonthDay) {
    const what = sameSet(days, WEEKDAY_SET) ? "weekday" : sameSet(days, WEEKEND_SET) ? "weekend day" : sameSet(days, WEEKDAY_ORDER) ? "day" : undefined;
    if (what) {
      used.add("byDay").add("bySetPos");
      return `the ${position(p.bySetPos[0]!)} ${what}`;
    }
  }
  return undefined;
}
