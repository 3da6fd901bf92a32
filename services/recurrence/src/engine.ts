// Recurrence math for taskmesh. Calendar arithmetic is delegated to rrule-temporal (RFC 5545 on the
// Temporal API) and temporal-polyfill; this module only decides *which* wall-clock to evaluate and how
// to map results back to instants in a time zone.
//
// How a rule is evaluated:
//  1. The start (DTSTART) is turned into its wall-clock date-time in the task's zone.
//  2. The rule is evaluated on wall-clock time (as if the zone were UTC, which has no DST), so an
//     occurrence at 09:00 stays at 09:00 local across DST changes and no occurrence is lost.
//  3. Each wall-clock occurrence is mapped to an instant in the zone with Temporal's "compatible"
//     disambiguation: in a DST gap (02:30 on a spring-forward day in New York) it moves forward by the
//     gap's length (→ 03:30 EDT); in a DST fold (01:30 on a fall-back day) the earlier instant is used.
//     RFC 5545 would drop the gap occurrence; a task that silently skips a day is worse for users.
//  4. The rule means what RFC 5545 says, also at month ends: FREQ=MONTHLY;BYMONTHDAY=31 skips months
//     without a 31st, and a yearly rule from Feb 29 recurs only in leap years. "The 31st, or the
//     month's last day" is its own standard rule (BYMONTHDAY=28,29,30,31;BYSETPOS=-1), written by the
//     producers of rules (phrases, quick add, the web picker) when a person means that.
//  5. UNTIL and EXDATE are applied here (UNTIL may be a date, a UTC instant or a local time; EXDATE is
//     matched on the local date, the instant or the local time). COUNT is left to the library and, as in
//     RFC 5545, counts DTSTART and occurrences later removed by EXDATE.
import { RRuleTemporal } from "rrule-temporal";
import { Temporal } from "temporal-polyfill";
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import {
  formatRRule,
  isCalendarDate,
  parseRRule,
  repeatsAtTimesOfDay,
  RRuleSyntaxError,
  setPositionsBeyondPeriod,
  TIMES_OF_DAY_ON_ALL_DAY,
  type Freq,
  type RRuleParts,
  type Until,
} from "@taskmesh/rrule";

export { RecurrenceMode };
export { parseRRule, normalizeRRule, formatRRule, RRuleSyntaxError } from "@taskmesh/rrule";
export type { RRuleParts, ByDay, Until, Freq, Weekday } from "@taskmesh/rrule";
export { summarize } from "./summary.js";
export { parseRecurrenceText, isParseError } from "./phrases.js";
export type { ParsedRecurrence, ParseError } from "./phrases.js";

/** A due: an exact instant, or an all-day date (YYYY-MM-DD) in the task's zone. */
export type Due = { time: Date } | { date: string };

const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
const FIRST_INSTANT_MS = new Date("0001-01-01T00:00:00Z").getTime();

/**
 * Whether a due can be stored and sent (google.protobuf.Timestamp and due_date stop at 9999-12-31):
 * a series whose next occurrence falls beyond ends there.
 */
export function dueWithinRange(due: Due): boolean {
  if ("time" in due) {
    const ms = due.time.getTime();
    return Number.isFinite(ms) && ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS;
  }
  return /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(due.date) && due.date >= "0001-01-01";
}

/** Bad input for the engine; `field` names the offending input ("rrule", "time_zone", "start", …). */
export class RecurrenceError extends Error {
  constructor(
    readonly field: string,
    readonly ruleId: string,
    message: string,
  ) {
    super(message);
    this.name = "RecurrenceError";
  }
}

export interface RecurrenceRule {
  rrule: string;
  mode?: RecurrenceMode;
  floating?: boolean;
}

export interface NextOccurrenceInput extends RecurrenceRule {
  /** DTSTART: the first due of the series. */
  start: Due;
  /** IANA zone the rule is evaluated in and results are expressed in (for `floating`: where the user is now). */
  timeZone: string;
  /**
   * Only for `floating` rules: the zone in which the wall-clock of `start`/`previous` was set (the
   * task's zone when its due was stored). Defaults to `timeZone`.
   */
  startTimeZone?: string;
  /** The due of the occurrence just completed. Defaults to `start`. */
  previous?: Due;
  /** When that occurrence was completed (AFTER_COMPLETION counts from here). */
  completedAt: Date;
  /** Dates to skip: "YYYY-MM-DD" (any occurrence that local day), an instant with Z/offset, or a local "YYYY-MM-DDTHH:MM[:SS]"; iCalendar forms (20260310, 20260310T090000Z) too. */
  exdates?: string[];
  /**
   * AFTER_COMPLETION only: how many occurrences the series had up to and including `previous`
   * (1-based). Needed to honour COUNT in that mode; without it COUNT is not enforced there.
   */
  completedCount?: number;
}

const MAX_SCAN = 10_000;

// ---------------------------------------------------------------------------------------------
// Time zones and wall-clock helpers

/** Returns the canonical IANA id, or throws RecurrenceError on "time_zone". */
export function checkTimeZone(timeZone: string, field = "time_zone"): string {
  if (typeof timeZone !== "string" || timeZone.trim() === "") {
    throw new RecurrenceError(field, "time_zone.required", 'a time zone is required, e.g. "Europe/Berlin"');
  }
  try {
    return Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(timeZone.trim()).timeZoneId;
  } catch {
    throw new RecurrenceError(field, "time_zone.unknown", `unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin" or "America/New_York"`);
  }
}

const wallOfInstant = (ms: number, zone: string) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone).toPlainDateTime();
const wallMsOf = (pdt: Temporal.PlainDateTime) => pdt.toZonedDateTime("UTC").epochMilliseconds;
const pdtOfWallMs = (ms: number) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO("UTC").toPlainDateTime();
const instantOfWall = (pdt: Temporal.PlainDateTime, zone: string) => pdt.toZonedDateTime(zone, { disambiguation: "compatible" }).epochMilliseconds;

function dueKind(due: Due): "time" | "date" {
  return "date" in due ? "date" : "time";
}

function checkDue(due: Due, field: string): void {
  if (!due || typeof due !== "object") throw new RecurrenceError(field, `${field}.required`, `${field} is required`);
  if ("date" in due) {
    if (!isCalendarDate(due.date)) throw new RecurrenceError(field, `${field}.date`, `"${due.date}" is not a calendar date (YYYY-MM-DD)`);
  } else if (!(due.time instanceof Date) || Number.isNaN(due.time.getTime())) {
    throw new RecurrenceError(field, `${field}.time`, `${field} is not a valid instant`);
  }
}

/** Wall-clock of a due read in `zone`. A date is midnight; with `endOfDay`, the last millisecond of that day. */
function wallOfDue(due: Due, zone: string, endOfDay = false): Temporal.PlainDateTime {
  if ("date" in due) {
    const d = Temporal.PlainDate.from(due.date).toPlainDateTime();
    return endOfDay ? d.add({ days: 1 }).subtract({ milliseconds: 1 }) : d;
  }
  return wallOfInstant(due.time.getTime(), zone);
}

const hasByParts = (p: RRuleParts) => [p.byDay, p.byMonthDay, p.byMonth, p.byYearDay, p.byWeekNo, p.bySetPos, p.byHour, p.byMinute, p.bySecond].some((x) => x !== undefined);

function parseRule(rrule: string): RRuleParts {
  try {
    return parseRRule(rrule);
  } catch (e) {
    if (e instanceof RRuleSyntaxError) throw new RecurrenceError("rrule", "rrule.invalid", e.message);
    throw e;
  }
}

function checkAllDay(parts: RRuleParts): void {
  if (repeatsAtTimesOfDay(parts)) throw new RecurrenceError("rrule", "rrule.time_on_all_day", TIMES_OF_DAY_ON_ALL_DAY);
}

/** UNTIL is left out of the library's rule: it is applied here, where its three forms are understood. */
function buildLibRule(parts: RRuleParts, startWall: Temporal.PlainDateTime, includeDtstart: boolean): RRuleTemporal {
  const { until: _until, ...withoutUntil } = parts;
  return new RRuleTemporal({
    rruleString: formatRRule(withoutUntil),
    dtstart: startWall.toZonedDateTime("UTC"),
    includeDtstart,
    cache: false,
  });
}

function isIterationLimit(e: unknown): boolean {
  return e instanceof Error && /Maximum iterations|candidate/i.test(e.message);
}

// ---------------------------------------------------------------------------------------------
// UNTIL and EXDATE

interface Occ {
  wall: Temporal.PlainDateTime;
  wallMs: number;
  /** Instant (timed series) or NaN (all-day). */
  instant: number;
  date: string;
}

function makeOcc(wallMs: number, zone: string, allDay: boolean): Occ {
  const wall = pdtOfWallMs(wallMs);
  return { wall, wallMs, instant: allDay ? Number.NaN : instantOfWall(wall, zone), date: wall.toPlainDate().toString() };
}

function occDue(o: Occ, allDay: boolean): Due {
  return allDay ? { date: o.date } : { time: new Date(o.instant) };
}

function beyondUntil(o: Occ, until: Until | undefined, zone: string, allDay: boolean): boolean {
  if (!until) return false;
  switch (until.kind) {
    case "date":
      return o.date > until.date;
    case "local":
      return allDay ? o.date > until.iso.slice(0, 10) : Temporal.PlainDateTime.compare(o.wall, Temporal.PlainDateTime.from(until.iso)) > 0;
    case "utc": {
      const ms = Date.parse(until.iso);
      return allDay ? o.date > wallOfInstant(ms, zone).toPlainDate().toString() : o.instant > ms;
    }
  }
}

interface Exclusions {
  dates: Set<string>;
  instants: Set<number>;
  walls: Set<string>;
}

function parseExdates(exdates: readonly string[] | undefined, zone: string, allDay: boolean): Exclusions {
  const ex: Exclusions = { dates: new Set(), instants: new Set(), walls: new Set() };
  for (const raw of exdates ?? []) {
    const s = raw.trim();
    const basic = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(s);
    const iso = basic ? `${basic[1]}-${basic[2]}-${basic[3]}${basic[4] ? `T${basic[4]}:${basic[5]}:${basic[6]}${basic[7] ?? ""}` : ""}` : s;
    try {
      if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
        if (!isCalendarDate(iso)) throw new Error();
        ex.dates.add(iso);
      } else if (/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) {
        const ms = Temporal.Instant.from(iso).epochMilliseconds;
        if (allDay) ex.dates.add(wallOfInstant(ms, zone).toPlainDate().toString());
        else ex.instants.add(ms);
      } else {
        const wall = Temporal.PlainDateTime.from(iso, { overflow: "reject" });
        if (allDay) ex.dates.add(wall.toPlainDate().toString());
        else ex.walls.add(wall.toString());
      }
    } catch {
      throw new RecurrenceError("exdates", "exdates.invalid", `"${raw}" is not a date (2026-03-10), an instant (2026-03-10T08:00:00Z) or a local time (2026-03-10T09:00)`);
    }
  }
  return ex;
}

function isExcluded(o: Occ, ex: Exclusions): boolean {
  return ex.dates.has(o.date) || ex.instants.has(o.instant) || ex.walls.has(o.wall.toString());
}

// ---------------------------------------------------------------------------------------------
// Series (SCHEDULE mode)

interface Series {
  parts: RRuleParts;
  allDay: boolean;
  zone: string;
  startWall: Temporal.PlainDateTime;
  lib: RRuleTemporal;
  ex: Exclusions;
  /** Why no date follows DTSTART, when that is known from the rule's text (setPositionsBeyondPeriod). */
  endsAtStart?: string;
}

function openSeries(rrule: string, start: Due, zone: string, readZone: string, exdates: readonly string[] | undefined): Series {
  const parts = parseRule(rrule);
  checkDue(start, "start");
  const allDay = dueKind(start) === "date";
  if (allDay) checkAllDay(parts);
  const startWall = wallOfDue(start, readZone);
  return { parts, allDay, zone, startWall, lib: buildLibRule(parts, startWall, true), ex: parseExdates(exdates, zone, allDay), endsAtStart: setPositionsBeyondPeriod(parts) };
}

/** Wall-clock occurrences of the rule in order, from DTSTART (inclusive) or after `afterWallMs`. */
function* walk(s: Series, afterWallMs?: number): Generator<Occ> {
  const startMs = wallMsOf(s.startWall);
  let cursor = afterWallMs === undefined || afterWallMs < startMs ? startMs : afterWallMs;
  let inclusive = afterWallMs === undefined || afterWallMs < startMs;
  if (s.endsAtStart !== undefined) {
    // DTSTART, always the first occurrence, and nothing after it: the library would look through
    // thousands of periods to find that.
    const start = makeOcc(startMs, s.zone, s.allDay);
    if (inclusive && !beyondUntil(start, s.parts.until, s.zone, s.allDay)) yield start;
    return;
  }
  for (let i = 0; i < MAX_SCAN; i++) {
    const next = s.lib.next(new Date(cursor), inclusive);
    if (!next) return;
    const o = makeOcc(next.epochMilliseconds, s.zone, s.allDay);
    if (beyondUntil(o, s.parts.until, s.zone, s.allDay)) return;
    yield o;
    cursor = o.wallMs;
    inclusive = false;
  }
}

function nextScheduled(s: Series, prevWall: Temporal.PlainDateTime, prevInstant: number): Due | undefined {
  const prevWallMs = wallMsOf(prevWall);
  try {
    for (const o of walk(s, prevWallMs)) {
      if (o.wallMs <= prevWallMs) continue;
      if (isExcluded(o, s.ex)) continue;
      if (!s.allDay && o.instant <= prevInstant) continue; // a DST-gap shift already passed this one
      return occDue(o, s.allDay);
    }
  } catch (e) {
    if (isIterationLimit(e)) {
      throw new RecurrenceError("rrule", "rrule.no_occurrence", "the rule produces no further occurrence within the evaluation limit");
    }
    throw e;
  }
  if (s.endsAtStart !== undefined) throw new RecurrenceError("rrule", "rrule.no_occurrence", s.endsAtStart);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// AFTER_COMPLETION mode

const UNIT: Record<Freq, "years" | "months" | "weeks" | "days" | "hours" | "minutes"> = {
  YEARLY: "years",
  MONTHLY: "months",
  WEEKLY: "weeks",
  DAILY: "days",
  HOURLY: "hours",
  MINUTELY: "minutes",
};

function nextAfterCompletion(input: NextOccurrenceInput, zone: string, readZone: string): Due | undefined {
  const parts = parseRule(input.rrule);
  checkDue(input.start, "start");
  const allDay = dueKind(input.start) === "date";
  if (allDay) checkAllDay(parts);
  if (!(input.completedAt instanceof Date) || Number.isNaN(input.completedAt.getTime())) {
    throw new RecurrenceError("completed_at", "completed_at.required", "completedAt must be a valid instant");
  }
  if (parts.count !== undefined && input.completedCount !== undefined && input.completedCount >= parts.count) return undefined;
  const ex = parseExdates(input.exdates, zone, allDay);
  const prev = input.previous ?? input.start;
  checkDue(prev, "previous");
  // Time of day of the previous due (or of the start if the previous was all-day), in the task's zone.
  const timeOfDay = allDay ? Temporal.PlainTime.from("00:00") : wallOfDue(dueKind(prev) === "time" ? prev : input.start, readZone).toPlainTime();
  const completedWall = wallOfInstant(input.completedAt.getTime(), zone);
  const unit = UNIT[parts.freq];
  const subDaily = unit === "hours" || unit === "minutes";
  const targetAt = (k: number): Temporal.PlainDateTime =>
    subDaily
      ? completedWall.add({ [unit]: parts.interval * k })
      : completedWall
          .toPlainDate()
          .add({ [unit]: parts.interval * k })
          .toPlainDateTime(timeOfDay);

  let lib: RRuleTemporal | undefined;
  if (hasByParts(parts)) {
    const anchor = allDay ? wallOfDue(prev, readZone) : wallOfDue(prev, readZone).withPlainTime(timeOfDay);
    lib = buildLibRule({ ...parts, interval: 1, count: undefined, until: undefined }, anchor, false);
  }
  let k = 1;
  let wall = targetAt(k);
  try {
    if (lib) {
      const n = lib.next(new Date(wallMsOf(wall)), true);
      if (!n) return undefined;
      wall = pdtOfWallMs(n.epochMilliseconds);
    }
    for (let i = 0; i < MAX_SCAN; i++) {
      const o = makeOcc(wallMsOf(wall), zone, allDay);
      if (beyondUntil(o, parts.until, zone, allDay)) return undefined;
      if (!isExcluded(o, ex)) return occDue(o, allDay);
      if (lib) {
        const n = lib.next(new Date(o.wallMs), false);
        if (!n) return undefined;
        wall = pdtOfWallMs(n.epochMilliseconds);
      } else {
        wall = targetAt(++k);
      }
    }
  } catch (e) {
    if (isIterationLimit(e)) throw new RecurrenceError("rrule", "rrule.no_occurrence", "the rule produces no further occurrence within the evaluation limit");
    throw e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Public API

function modeOf(mode: RecurrenceMode | undefined): RecurrenceMode {
  return mode === RecurrenceMode.AFTER_COMPLETION ? RecurrenceMode.AFTER_COMPLETION : RecurrenceMode.SCHEDULE;
}

/**
 * The due of the occurrence after `previous`, or undefined when the series has ended (COUNT/UNTIL).
 * SCHEDULE: the first occurrence of the rule (anchored at `start`) strictly after `previous`.
 * AFTER_COMPLETION: the rule's interval counted from the local date of `completedAt`, at the previous
 * due's time of day (with BYxxx parts: the first matching occurrence on or after that point).
 * Throws RecurrenceError on bad input.
 */
export function nextOccurrence(input: NextOccurrenceInput): Due | undefined {
  const zone = checkTimeZone(input.timeZone);
  const readZone = input.floating && input.startTimeZone ? checkTimeZone(input.startTimeZone, "start_time_zone") : zone;
  if (modeOf(input.mode) === RecurrenceMode.AFTER_COMPLETION) return nextAfterCompletion(input, zone, readZone);
  const s = openSeries(input.rrule, input.start, zone, readZone, input.exdates);
  const prev = input.previous ?? input.start;
  checkDue(prev, "previous");
  let prevWall: Temporal.PlainDateTime;
  if (s.allDay) {
    prevWall = dueKind(prev) === "date" ? wallOfDue(prev, readZone) : wallOfDue(prev, readZone).toPlainDate().toPlainDateTime();
  } else {
    prevWall = wallOfDue(prev, readZone, true);
  }
  const prevInstant = s.allDay ? Number.NaN : "time" in prev && !input.floating ? prev.time.getTime() : instantOfWall(prevWall, zone);
  return nextScheduled(s, prevWall, prevInstant);
}

export interface PreviewOptions {
  exdates?: string[];
}

/**
 * The first `count` occurrences of the series starting at `start` (which is the first, as DTSTART),
 * strictly increasing. AFTER_COMPLETION rules are previewed as if each occurrence were completed on
 * its due. Throws RecurrenceError on bad input.
 */
export function previewOccurrences(rule: RecurrenceRule, start: Due, timeZone: string, count: number, options: PreviewOptions = {}): Due[] {
  const zone = checkTimeZone(timeZone);
  const n = Math.max(0, Math.min(Math.trunc(count), 1000));
  if (modeOf(rule.mode) === RecurrenceMode.AFTER_COMPLETION) {
    checkDue(start, "start");
    const out: Due[] = [];
    const parts = parseRule(rule.rrule);
    const ex = parseExdates(options.exdates, zone, dueKind(start) === "date");
    const first = makeOcc(wallMsOf(wallOfDue(start, zone)), zone, dueKind(start) === "date");
    let prev: Due = start;
    if (n > 0 && !isExcluded(first, ex) && !beyondUntil(first, parts.until, zone, dueKind(start) === "date")) out.push(start);
    for (let i = 1; out.length < n && i <= n * 2 + 100; i++) {
      const completedAt = "time" in prev ? prev.time : new Date(instantOfWall(wallOfDue(prev, zone), zone));
      const next = nextOccurrence({ ...rule, start, timeZone: zone, previous: prev, completedAt, exdates: options.exdates, completedCount: i });
      if (!next) break;
      out.push(next);
      prev = next;
    }
    return out;
  }
  const s = openSeries(rule.rrule, start, zone, zone, options.exdates);
  const out: Due[] = [];
  let lastInstant = Number.NEGATIVE_INFINITY;
  try {
    for (const o of walk(s)) {
      if (out.length >= n) break;
      if (isExcluded(o, s.ex)) continue;
      if (!s.allDay) {
        if (o.instant <= lastInstant) continue;
        lastInstant = o.instant;
      }
      out.push(occDue(o, s.allDay));
    }
  } catch (e) {
    if (!isIterationLimit(e)) throw e; // a rule that runs dry within the limit: return what exists
  }
  return out;
}

/**
 * Checks a stored rule: returns its canonical text, or throws RecurrenceError("rrule").
 * Also makes sure the rule produces at least one occurrence after a reference start.
 */
export function validateRRule(rrule: string): string {
  const parts = parseRule(rrule);
  const text = formatRRule(parts);
  // Known without evaluating: the probe below would look through thousands of periods first.
  const selectsNothing = setPositionsBeyondPeriod(parts);
  if (selectsNothing) throw new RecurrenceError("rrule", "rrule.no_occurrence", selectsNothing);
  const probe = Temporal.PlainDateTime.from("2024-01-01T09:00");
  try {
    const lib = buildLibRule(parts, probe, false);
    if (parts.count === undefined && parts.until === undefined) lib.next(new Date(wallMsOf(probe)), true);
  } catch (e) {
    if (isIterationLimit(e)) throw new RecurrenceError("rrule", "rrule.no_occurrence", `"${text}" never produces a date`);
    throw new RecurrenceError("rrule", "rrule.invalid", `"${text}" cannot be evaluated: ${(e as Error).message.slice(0, 200)}`);
  }
  return text;
}
