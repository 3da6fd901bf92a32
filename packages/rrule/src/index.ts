// RFC 5545 RRULE text: parse into parts, validate, and print in one canonical order.
// Evaluation is the recurrence service's (its engine, on rrule-temporal); this module only checks and
// normalizes text, so that the task service refuses a rule it cannot read instead of storing it.

export const FREQS = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"] as const;
export type Freq = (typeof FREQS)[number];
export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ByDay {
  /** Ordinal (±1..53) for MONTHLY/YEARLY ("2TU" → 2, "-1FR" → -1); undefined for every such weekday. */
  n?: number;
  day: Weekday;
}

/** UNTIL as written: an all-day date, a UTC instant ("…Z") or a floating local date-time. */
export type Until = { kind: "date"; date: string /* YYYY-MM-DD */ } | { kind: "utc"; iso: string /* YYYY-MM-DDTHH:MM:SSZ */ } | { kind: "local"; iso: string /* YYYY-MM-DDTHH:MM:SS */ };

export interface RRuleParts {
  freq: Freq;
  interval: number;
  count?: number;
  until?: Until;
  byDay?: ByDay[];
  byMonthDay?: number[];
  byMonth?: number[];
  byYearDay?: number[];
  byWeekNo?: number[];
  bySetPos?: number[];
  byHour?: number[];
  byMinute?: number[];
  bySecond?: number[];
  wkst?: Weekday;
  rscale?: string;
  skip?: "OMIT" | "BACKWARD" | "FORWARD";
}

/** A problem with RRULE text, phrased for a user. */
export class RRuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RRuleSyntaxError";
  }
}

export const MAX_COUNT = 5000;
export const MAX_INTERVAL = 1000;

const EXAMPLE = 'e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"';

function fail(message: string): never {
  throw new RRuleSyntaxError(`${message} (${EXAMPLE})`);
}

function intList(key: string, value: string, min: number, max: number, allowNegative: boolean): number[] {
  const items = value.split(",");
  const out: number[] = [];
  for (const raw of items) {
    if (!/^[+-]?\d{1,3}$/.test(raw)) fail(`${key} must be a comma-separated list of whole numbers, got "${value}"`);
    const n = Number(raw);
    const abs = Math.abs(n);
    if ((n < 0 && !allowNegative) || abs < min || abs > max || (allowNegative && n === 0)) {
      fail(`${key} value ${raw} is out of range (${allowNegative ? `±${Math.max(min, 1)}..${max}` : `${min}..${max}`})`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

function parseUntil(value: string): Until {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value);
  if (!m) fail(`UNTIL must be a date (20261231) or a UTC date-time (20261231T235959Z), got "${value}"`);
  const [, y, mo, d, h, mi, s, z] = m;
  const date = `${y}-${mo}-${d}`;
  if (!isCalendarDate(date)) fail(`UNTIL ${value} is not a calendar date`);
  if (h === undefined) return { kind: "date", date };
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) fail(`UNTIL ${value} has an invalid time`);
  const iso = `${date}T${h}:${mi}:${s}`;
  return z ? { kind: "utc", iso: `${iso}Z` } : { kind: "local", iso };
}

export function isCalendarDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/**
 * Parses an RRULE body ("FREQ=WEEKLY;BYDAY=MO", optionally prefixed with "RRULE:"; case-insensitive)
 * and checks it against RFC 5545 and what a task can use. Throws RRuleSyntaxError.
 */
export function parseRRule(text: string): RRuleParts {
  let body = text.trim();
  if (/^rrule:/i.test(body)) body = body.slice(6).trim();
  if (body === "") fail("the rule is empty");
  if (/\n|DTSTART/i.test(body)) fail("leave DTSTART out of the rule: the task's due date is its start");
  const seen = new Map<string, string>();
  for (const part of body.replace(/;+$/, "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) fail(`"${part}" is not a KEY=VALUE part`);
    const key = part.slice(0, eq).trim().toUpperCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .toUpperCase();
    if (value === "") fail(`${key} has no value`);
    if (seen.has(key)) fail(`${key} appears twice`);
    seen.set(key, value);
  }
  const freqText = seen.get("FREQ");
  if (!freqText) fail("FREQ is missing");
  if (freqText === "SECONDLY") fail("tasks cannot repeat every second; the shortest is FREQ=MINUTELY");
  if (!(FREQS as readonly string[]).includes(freqText)) fail(`FREQ must be one of ${FREQS.join(", ")}, got "${freqText}"`);
  const freq = freqText as Freq;
  const parts: RRuleParts = { freq, interval: 1 };

  for (const [key, value] of seen) {
    switch (key) {
      case "FREQ":
        break;
      case "INTERVAL":
        if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_INTERVAL) fail(`INTERVAL must be 1..${MAX_INTERVAL}, got "${value}"`);
        parts.interval = Number(value);
        break;
      case "COUNT":
        if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) fail(`COUNT must be 1..${MAX_COUNT}, got "${value}"`);
        parts.count = Number(value);
        break;
      case "UNTIL":
        parts.until = parseUntil(value);
        break;
      case "BYDAY": {
        const list: ByDay[] = [];
        for (const item of value.split(",")) {
          const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
          if (!m) fail(`BYDAY must list weekdays like MO,TU or 2TU,-1FR, got "${item}"`);
          const n = m[1] === undefined ? undefined : Number(m[1]);
          if (n !== undefined) {
            if (freq !== "MONTHLY" && freq !== "YEARLY") fail(`an ordinal weekday like "${item}" only works with FREQ=MONTHLY or FREQ=YEARLY`);
            const max = freq === "MONTHLY" ? 5 : 53;
            if (n === 0 || Math.abs(n) > max) fail(`BYDAY ordinal in "${item}" must be ±1..${max}`);
            if (freq === "YEARLY" && seen.has("BYWEEKNO")) fail(`an ordinal weekday cannot be combined with BYWEEKNO`);
          }
          const day = m[2] as Weekday;
          if (!list.some((d) => d.day === day && d.n === n)) list.push(n === undefined ? { day } : { n, day });
        }
        parts.byDay = list;
        break;
      }
      case "BYMONTHDAY":
        if (freq === "WEEKLY") fail("BYMONTHDAY cannot be used with FREQ=WEEKLY");
        parts.byMonthDay = intList(key, value, 1, 31, true);
        break;
      case "BYMONTH":
        parts.byMonth = intList(key, value, 1, 12, false);
        break;
      case "BYYEARDAY":
        if (freq === "DAILY" || freq === "WEEKLY" || freq === "MONTHLY") fail(`BYYEARDAY cannot be used with FREQ=${freq}`);
        parts.byYearDay = intList(key, value, 1, 366, true);
        break;
      case "BYWEEKNO":
        if (freq !== "YEARLY") fail("BYWEEKNO only works with FREQ=YEARLY");
        parts.byWeekNo = intList(key, value, 1, 53, true);
        break;
      case "BYSETPOS":
        parts.bySetPos = intList(key, value, 1, 366, true);
        break;
      case "BYHOUR":
        parts.byHour = intList(key, value, 0, 23, false);
        break;
      case "BYMINUTE":
        parts.byMinute = intList(key, value, 0, 59, false);
        break;
      case "BYSECOND":
        parts.bySecond = intList(key, value, 0, 59, false);
        break;
      case "WKST":
        if (!(WEEKDAYS as readonly string[]).includes(value)) fail(`WKST must be a weekday (MO..SU), got "${value}"`);
        parts.wkst = value as Weekday;
        break;
      case "RSCALE":
        if (value !== "GREGORIAN") fail(`only RSCALE=GREGORIAN is supported, got "${value}"`);
        parts.rscale = value;
        break;
      case "SKIP":
        if (value !== "OMIT" && value !== "BACKWARD" && value !== "FORWARD") fail(`SKIP must be OMIT, BACKWARD or FORWARD, got "${value}"`);
        parts.skip = value;
        break;
      default:
        fail(`unknown rule part "${key}"`);
    }
  }
  if (parts.count !== undefined && parts.until !== undefined) fail("use either COUNT or UNTIL, not both");
  if (parts.skip && !parts.rscale) fail("SKIP needs RSCALE=GREGORIAN");
  if (parts.bySetPos) {
    const others = [parts.byDay, parts.byMonthDay, parts.byMonth, parts.byYearDay, parts.byWeekNo, parts.byHour, parts.byMinute, parts.bySecond];
    if (!others.some((x) => x !== undefined)) fail("BYSETPOS needs another BYxxx part to select from");
  }
  return parts;
}

function list(values: readonly (number | string)[]): string {
  return values.join(",");
}

export function formatByDay(d: ByDay): string {
  return `${d.n ?? ""}${d.day}`;
}

/** Prints parts in canonical order (RSCALE/SKIP first, then FREQ, INTERVAL unless 1, …). */
export function formatRRule(p: RRuleParts): string {
  const out: string[] = [];
  if (p.rscale) out.push(`RSCALE=${p.rscale}`);
  if (p.skip) out.push(`SKIP=${p.skip}`);
  out.push(`FREQ=${p.freq}`);
  if (p.interval !== 1) out.push(`INTERVAL=${p.interval}`);
  if (p.count !== undefined) out.push(`COUNT=${p.count}`);
  if (p.until) out.push(`UNTIL=${formatUntil(p.until)}`);
  if (p.byMonth) out.push(`BYMONTH=${list(p.byMonth)}`);
  if (p.byWeekNo) out.push(`BYWEEKNO=${list(p.byWeekNo)}`);
  if (p.byYearDay) out.push(`BYYEARDAY=${list(p.byYearDay)}`);
  if (p.byMonthDay) out.push(`BYMONTHDAY=${list(p.byMonthDay)}`);
  if (p.byDay) out.push(`BYDAY=${p.byDay.map(formatByDay).join(",")}`);
  if (p.byHour) out.push(`BYHOUR=${list(p.byHour)}`);
  if (p.byMinute) out.push(`BYMINUTE=${list(p.byMinute)}`);
  if (p.bySecond) out.push(`BYSECOND=${list(p.bySecond)}`);
  if (p.bySetPos) out.push(`BYSETPOS=${list(p.bySetPos)}`);
  if (p.wkst) out.push(`WKST=${p.wkst}`);
  return out.join(";");
}

export function formatUntil(u: Until): string {
  switch (u.kind) {
    case "date":
      return u.date.replaceAll("-", "");
    case "utc":
      return u.iso.replace(/[-:]/g, "");
    case "local":
      return u.iso.replace(/[-:]/g, "");
  }
}

/** Canonical text of a rule: parse + format. Throws RRuleSyntaxError. */
export function normalizeRRule(text: string): string {
  return formatRRule(parseRRule(text));
}

/**
 * Why BYSETPOS selects nothing in any period of the rule, or undefined when it may select something:
 * each of its positions lies beyond the most dates one period can hold (RFC 5545 3.3.10: the set a
 * position counts in is the period's dates after the other BYxxx parts; those that only filter,
 * BYMONTH in a week, can make it smaller, never larger). "Every Tuesday, the second of them each
 * week" names a date no week has. Not worked out for FREQ=YEARLY, whose periods are as large as
 * BYYEARDAY and BYWEEKNO make them.
 */
export function setPositionsBeyondPeriod(p: RRuleParts): string | undefined {
  if (!p.bySetPos || p.freq === "YEARLY") return undefined;
  const times = (p.byHour?.length ?? 1) * (p.byMinute?.length ?? 1) * (p.bySecond?.length ?? 1);
  const perPeriod: Record<Exclude<Freq, "YEARLY">, number> = {
    MINUTELY: p.bySecond?.length ?? 1,
    HOURLY: (p.byMinute?.length ?? 1) * (p.bySecond?.length ?? 1),
    DAILY: times,
    WEEKLY: (p.byDay?.length ?? 1) * times,
    // A weekday without an ordinal falls on a month's dates four or five times, with one once.
    MONTHLY: (p.byMonthDay?.length ?? (p.byDay ? p.byDay.reduce((n, d) => n + (d.n === undefined ? 5 : 1), 0) : 1)) * times,
  };
  const most = perPeriod[p.freq];
  if (p.bySetPos.some((pos) => Math.abs(pos) <= most)) return undefined;
  const period = { MINUTELY: "minute", HOURLY: "hour", DAILY: "day", WEEKLY: "week", MONTHLY: "month" }[p.freq];
  return `BYSETPOS=${list(p.bySetPos)} selects nothing: each ${period} of this rule has at most ${most} date${most === 1 ? "" : "s"} to choose from`;
}

/** Whether the rule repeats within a day (FREQ=HOURLY/MINUTELY, BYHOUR/BYMINUTE/BYSECOND): not for an all-day series. */
export function repeatsAtTimesOfDay(p: RRuleParts): boolean {
  return p.freq === "HOURLY" || p.freq === "MINUTELY" || p.byHour !== undefined || p.byMinute !== undefined || p.bySecond !== undefined;
}

export const TIMES_OF_DAY_ON_ALL_DAY = "an all-day task cannot repeat at times of day: give it a due time, or drop FREQ=HOURLY/MINUTELY and BYHOUR/BYMINUTE/BYSECOND";
