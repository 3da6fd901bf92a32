// English recurrence phrases → RRULE. A small hand-written parser over words; calendar math is not
// done here. Also accepts raw RRULE text ("FREQ=WEEKLY;BYDAY=MO") and validates it.
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { formatRRule, isCalendarDate, parseRRule, RRuleSyntaxError, type ByDay, type Freq, type RRuleParts, type Until, type Weekday } from "@taskmesh/rrule";

export interface ParsedRecurrence {
  /** Canonical RRULE body, e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR". */
  rrule: string;
  mode: RecurrenceMode;
}

export interface ParseError {
  /** What was not understood, and why. */
  error: string;
  /** A phrase that works, close to what was asked. */
  example: string;
}

export function isParseError(r: ParsedRecurrence | ParseError): r is ParseError {
  return "error" in r;
}

const EXAMPLES: Record<Freq | "any", string> = {
  any: "every 2 weeks on monday and friday",
  DAILY: "every 3 days",
  WEEKLY: "every week on monday and friday",
  MONTHLY: "monthly on the last friday",
  YEARLY: "every year on february 29",
  HOURLY: "every 2 hours",
  MINUTELY: "every 30 minutes",
};

class PhraseError extends Error {
  constructor(
    message: string,
    readonly example: string,
  ) {
    super(message);
  }
}

/** A table of words without Object's prototype, so that a typed "constructor" or "toString" is no entry. */
const words = <T>(entries: Record<string, T>): Record<string, T> => Object.assign(Object.create(null) as Record<string, T>, entries);

const WEEKDAY_WORDS = words<Weekday>({});
for (const [code, names] of Object.entries({
  MO: ["mo", "mon", "monday"],
  TU: ["tu", "tue", "tues", "tuesday"],
  WE: ["we", "wed", "weds", "wednesday"],
  TH: ["th", "thu", "thur", "thurs", "thursday"],
  FR: ["fr", "fri", "friday"],
  SA: ["sa", "sat", "saturday"],
  SU: ["su", "sun", "sunday"],
})) {
  for (const n of names) {
    WEEKDAY_WORDS[n] = code as Weekday;
    if (n.length > 3) WEEKDAY_WORDS[`${n}s`] = code as Weekday;
  }
}
const WEEKDAYS_MF: Weekday[] = ["MO", "TU", "WE", "TH", "FR"];
const ALL_DAYS: Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/** Parts of the day: "every morning" is every day; they give no time of day by themselves. */
const PART_OF_DAY = new Set(["morning", "afternoon", "evening", "night"]);
const WEEKEND: Weekday[] = ["SA", "SU"];

const MONTH_WORDS = words<number>({});
["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"].forEach((m, i) => {
  MONTH_WORDS[m] = i + 1;
  MONTH_WORDS[m.slice(0, 3)] = i + 1;
});
MONTH_WORDS.sept = 9;

const NUMBER_WORDS = words<number>({
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
});
// biome-ignore format: a table of short entries, several to a line
const ORDINAL_WORDS = words<number>({
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
  eleventh: 11, twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16, seventeenth: 17,
  eighteenth: 18, nineteenth: 19, twentieth: 20, "twenty-first": 21, "twenty-second": 22, "twenty-third": 23,
  thirtieth: 30, "thirty-first": 31, last: -1, penultimate: -2,
});

const UNITS = words<{ freq: Freq; mult: number }>({
  day: { freq: "DAILY", mult: 1 },
  week: { freq: "WEEKLY", mult: 1 },
  month: { freq: "MONTHLY", mult: 1 },
  quarter: { freq: "MONTHLY", mult: 3 },
  year: { freq: "YEARLY", mult: 1 },
  hour: { freq: "HOURLY", mult: 1 },
  minute: { freq: "MINUTELY", mult: 1 },
});
/** "biweekly": every 2 weeks — a unit of UNITS, and how many of it. */
const ADVERBS = words<[unit: string, n: number]>({
  daily: ["day", 1],
  weekly: ["week", 1],
  biweekly: ["week", 2],
  fortnightly: ["week", 2],
  monthly: ["month", 1],
  bimonthly: ["month", 2],
  quarterly: ["quarter", 1],
  yearly: ["year", 1],
  annually: ["year", 1],
  hourly: ["hour", 1],
});

function unitOf(tok: string | undefined): { freq: Freq; mult: number } | undefined {
  if (!tok) return undefined;
  return UNITS[tok] ?? UNITS[tok.replace(/s$/, "")];
}

function numberOf(tok: string | undefined): number | undefined {
  if (!tok) return undefined;
  if (/^\d{1,4}$/.test(tok)) return Number(tok);
  return NUMBER_WORDS[tok];
}

function ordinalOf(tok: string | undefined): number | undefined {
  if (!tok) return undefined;
  const m = /^(\d{1,2})(st|nd|rd|th)$/.exec(tok);
  if (m) return Number(m[1]);
  return ORDINAL_WORDS[tok];
}

/** Day groups: a weekday name, "weekday(s)"/"workday(s)", "weekend(s)". */
function dayGroupOf(tok: string | undefined): Weekday[] | undefined {
  if (!tok) return undefined;
  if (WEEKDAY_WORDS[tok]) return [WEEKDAY_WORDS[tok]];
  if (/^(weekday|workday|business-day)s?$/.test(tok)) return WEEKDAYS_MF;
  if (/^weekends?$/.test(tok)) return WEEKEND;
  return undefined;
}

class Tokens {
  i = 0;
  constructor(readonly toks: string[]) {}
  peek(k = 0): string | undefined {
    return this.toks[this.i + k];
  }
  next(): string | undefined {
    return this.toks[this.i++];
  }
  eat(...words: string[]): boolean {
    if (words.includes(this.peek() ?? "\0")) {
      this.i++;
      return true;
    }
    return false;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  rest(): string {
    return this.toks.slice(this.i).join(" ").replace(/ , /g, ", ");
  }
  /** "and", ",", ", and" between list items. */
  eatSeparator(): boolean {
    const save = this.i;
    const comma = this.eat(",");
    const and = this.eat("and", "&");
    if (comma || and) return true;
    this.i = save;
    return false;
  }
}

function dayList(t: Tokens): Weekday[] {
  const days: Weekday[] = [];
  for (;;) {
    const g = dayGroupOf(t.peek());
    if (!g) break;
    t.next();
    for (const d of g) if (!days.includes(d)) days.push(d);
    const save = t.i;
    if (!t.eatSeparator() || !dayGroupOf(t.peek())) {
      t.i = save;
      break;
    }
  }
  return days;
}

/** "2nd to last", "last", "15th", "third". */
function position(t: Tokens): number | undefined {
  const n = ordinalOf(t.peek());
  if (n === undefined) return undefined;
  t.next();
  if (n > 0 && t.peek() === "to" && t.peek(1) === "last") {
    t.i += 2;
    return -n;
  }
  return n;
}

type MonthSpec = { kind: "monthday"; days: number[] } | { kind: "nth"; byDay: ByDay[] } | { kind: "setpos"; pos: number; days: Weekday[] };

/** "the 1st and 15th", "the last day", "the 2nd tuesday", "1st and 3rd monday", "the last weekday". */
function monthSpec(t: Tokens): MonthSpec | undefined {
  const start = t.i;
  const items: Array<{ n: number; what?: Weekday | "weekday" | "weekend" | "day" }> = [];
  for (;;) {
    t.eat("the");
    const n = position(t);
    if (n === undefined) break;
    let what: Weekday | "weekday" | "weekend" | "day" | undefined;
    const tok = t.peek();
    if (tok && WEEKDAY_WORDS[tok]) what = WEEKDAY_WORDS[t.next()!];
    else if (tok && /^(weekday|workday|business-day)$/.test(tok)) {
      t.next();
      what = "weekday";
    } else if (tok === "weekend" && t.peek(1) === "day") {
      t.i += 2;
      what = "weekend";
    } else if (t.eat("day")) what = "day";
    items.push(what === undefined ? { n } : { n, what });
    const save = t.i;
    if (!t.eatSeparator()) break;
    t.eat("the");
    if (ordinalOf(t.peek()) === undefined) {
      t.i = save;
      break;
    }
  }
  if (items.length === 0) {
    t.i = start;
    return undefined;
  }
  // "1st and 3rd monday": an item without a weekday takes the next item's weekday.
  for (let k = items.length - 2; k >= 0; k--) {
    const next = items[k + 1]!.what;
    if (items[k]!.what === undefined && next !== undefined && next !== "day") items[k]!.what = next;
  }
  const kinds = new Set(items.map((x) => (x.what === undefined || x.what === "day" ? "day" : x.what.length === 2 ? "nth" : x.what)));
  if (kinds.size > 1) throw new PhraseError(`mixes days of the month and weekdays in "${t.toks.slice(start, t.i).join(" ")}"`, EXAMPLES.MONTHLY);
  const kind = [...kinds][0];
  if (kind === "day") return { kind: "monthday", days: items.map((x) => x.n) };
  if (kind === "nth") {
    for (const x of items) if (Math.abs(x.n) > 5) throw new PhraseError(`a month has at most 5 of each weekday, not a ${x.n}th`, EXAMPLES.MONTHLY);
    return { kind: "nth", byDay: items.map((x) => ({ n: x.n, day: x.what as Weekday })) };
  }
  if (items.length > 1) throw new PhraseError('name one weekday position, e.g. "the last weekday"', EXAMPLES.MONTHLY);
  return { kind: "setpos", pos: items[0]!.n, days: kind === "weekday" ? WEEKDAYS_MF : WEEKEND };
}

function applyMonthSpec(p: RRuleParts, spec: MonthSpec): void {
  if (spec.kind === "monthday") {
    for (const d of spec.days) if (d === 0 || Math.abs(d) > 31) throw new PhraseError(`there is no day ${d} in a month`, EXAMPLES.MONTHLY);
    p.byMonthDay = spec.days;
  } else if (spec.kind === "nth") p.byDay = spec.byDay;
  else {
    p.byDay = spec.days.map((day) => ({ day }));
    p.bySetPos = [spec.pos];
  }
}

/** "of the month", "of every month", "of each month". */
function ofTheMonth(t: Tokens): boolean {
  const save = t.i;
  if (t.eat("of")) {
    t.eat("the", "every", "each");
    if (t.eat("month")) return true;
  }
  t.i = save;
  return false;
}

/** "of march" → 3. */
function ofMonth(t: Tokens): number | undefined {
  if (t.peek() === "of" && MONTH_WORDS[t.peek(1) ?? ""]) {
    t.next();
    return MONTH_WORDS[t.next()!];
  }
  return undefined;
}

/** "february 29", "feb 29th", "29 february", "the 29th of february". */
function monthAndDay(t: Tokens): { month: number; day: number } | undefined {
  const save = t.i;
  t.eat("the");
  const m = MONTH_WORDS[t.peek() ?? ""];
  if (m) {
    t.next();
    t.eat("the");
    const d = numberOf(t.peek()) ?? ordinalOf(t.peek());
    if (d !== undefined && d > 0) {
      t.next();
      return checkMonthDay(m, d);
    }
  } else {
    const d = numberOf(t.peek()) ?? ordinalOf(t.peek());
    if (d !== undefined && d > 0) {
      t.next();
      t.eat("of");
      const m2 = MONTH_WORDS[t.peek() ?? ""];
      if (m2) {
        t.next();
        return checkMonthDay(m2, d);
      }
    }
  }
  t.i = save;
  return undefined;
}

function checkMonthDay(month: number, day: number): { month: number; day: number } {
  const longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day > longest) throw new PhraseError(`there is no day ${day} in month ${month}`, EXAMPLES.YEARLY);
  return { month, day };
}

/** The "on …" / "in …" part after a frequency. */
function onClause(t: Tokens, p: RRuleParts): void {
  if (t.peek() === "in" && p.freq === "YEARLY") {
    t.next();
    const months: number[] = [];
    while (MONTH_WORDS[t.peek() ?? ""]) {
      months.push(MONTH_WORDS[t.next()!]!);
      const save = t.i;
      if (!t.eatSeparator() || !MONTH_WORDS[t.peek() ?? ""]) {
        t.i = save;
        break;
      }
    }
    if (!months.length) throw new PhraseError(`expected a month after "in"`, EXAMPLES.YEARLY);
    p.byMonth = months;
    return;
  }
  if (!t.eat("on")) return;
  switch (p.freq) {
    case "DAILY":
    case "WEEKLY": {
      t.eat("every");
      const days = dayList(t);
      if (!days.length) throw new PhraseError(`expected weekdays after "on", got "${t.rest()}"`, EXAMPLES.WEEKLY);
      p.byDay = days.map((day) => ({ day }));
      return;
    }
    case "MONTHLY": {
      if (t.peek() === "day" && numberOf(t.peek(1)) !== undefined) {
        t.next();
        p.byMonthDay = [numberOf(t.next())!];
      } else {
        const spec = monthSpec(t);
        if (!spec) throw new PhraseError(`expected a day of the month after "on", got "${t.rest()}"`, EXAMPLES.MONTHLY);
        applyMonthSpec(p, spec);
      }
      ofTheMonth(t);
      return;
    }
    case "YEARLY": {
      const md = monthAndDay(t);
      if (md) {
        p.byMonth = [md.month];
        p.byMonthDay = [md.day];
        return;
      }
      const spec = monthSpec(t);
      const month = spec?.kind === "nth" ? ofMonth(t) : undefined;
      if (!spec || month === undefined) throw new PhraseError(`expected a date after "on", got "${t.rest()}"`, EXAMPLES.YEARLY);
      applyMonthSpec(p, spec);
      p.byMonth = [month];
      return;
    }
    default:
      throw new PhraseError(`"on …" does not apply to a rule repeating every ${p.freq === "HOURLY" ? "hour" : "minute"}`, EXAMPLES[p.freq]);
  }
}

/** The frequency part: "daily", "every 2 weeks on …", "every 2nd tuesday", "every february 29". */
function core(t: Tokens): RRuleParts {
  const first = t.peek();
  const adverb = first === undefined ? undefined : ADVERBS[first];
  if (adverb) {
    t.next();
    const [unit, n] = adverb;
    const p: RRuleParts = { freq: UNITS[unit]!.freq, interval: n * UNITS[unit]!.mult };
    onClause(t, p);
    return p;
  }
  if (first && dayGroupOf(first) && first.endsWith("s")) {
    // "weekdays", "mondays and fridays"
    return { freq: "WEEKLY", interval: 1, byDay: dayList(t).map((day) => ({ day })) };
  }
  if (!t.eat("every", "each")) throw new PhraseError(`expected "every …" or "daily/weekly/monthly/yearly", got "${t.rest()}"`, EXAMPLES.any);
  t.eat("single");
  const tok = t.peek();
  if (tok === undefined) throw new PhraseError(`"every" what? Name a unit or a day`, EXAMPLES.any);

  // every N units / every other unit / every N mondays
  const n = tok === "other" ? 2 : numberOf(tok);
  if (n !== undefined) {
    t.next();
    const unit = unitOf(t.peek());
    if (unit) {
      t.next();
      if (n < 1) throw new PhraseError("the interval must be at least 1", EXAMPLES[unit.freq]);
      const p: RRuleParts = { freq: unit.freq, interval: n * unit.mult };
      onClause(t, p);
      return p;
    }
    const days = dayList(t);
    if (days.length) return { freq: "WEEKLY", interval: n, byDay: days.map((day) => ({ day })) };
    if (tok !== "other") {
      // "every 29 february"
      t.i--;
      const md = monthAndDay(t);
      if (md) return { freq: "YEARLY", interval: 1, byMonth: [md.month], byMonthDay: [md.day] };
      t.next();
    }
    throw new PhraseError(`expected days, weeks, months or years after "${tok}", got "${t.rest()}"`, EXAMPLES.DAILY);
  }
  if (PART_OF_DAY.has(tok)) {
    // "every morning", "every night at 10pm": every day (a time only when one is given)
    t.next();
    return { freq: "DAILY", interval: 1 };
  }
  const unit = unitOf(tok);
  if (unit && !tok.endsWith("s")) {
    t.next();
    const p: RRuleParts = { freq: unit.freq, interval: unit.mult };
    onClause(t, p);
    return p;
  }
  if (dayGroupOf(tok)) {
    const days = dayList(t);
    if (PART_OF_DAY.has(t.peek() ?? "")) t.next(); // "every sunday morning"
    return { freq: "WEEKLY", interval: 1, byDay: days.map((day) => ({ day })) };
  }
  if (MONTH_WORDS[tok]) {
    const md = monthAndDay(t);
    if (md) return { freq: "YEARLY", interval: 1, byMonth: [md.month], byMonthDay: [md.day] };
    throw new PhraseError(`expected a day after the month, got "${t.rest()}"`, EXAMPLES.YEARLY);
  }
  if (ordinalOf(tok) !== undefined) {
    // "every 3rd day" means every 3 days; "every 15th", "every last friday", "every 2nd tuesday of march"
    const k = ordinalOf(tok)!;
    if (k > 1 && t.peek(1) === "day" && !["of"].includes(t.peek(2) ?? "")) {
      t.i += 2;
      return { freq: "DAILY", interval: k };
    }
    const md = monthAndDay(t);
    if (md) return { freq: "YEARLY", interval: 1, byMonth: [md.month], byMonthDay: [md.day] };
    const spec = monthSpec(t)!;
    const p: RRuleParts = { freq: "MONTHLY", interval: 1 };
    applyMonthSpec(p, spec);
    if (!ofTheMonth(t) && spec.kind === "nth") {
      const m = ofMonth(t);
      if (m !== undefined) {
        p.freq = "YEARLY";
        p.byMonth = [m];
      }
    }
    return p;
  }
  throw new PhraseError(`did not understand "${t.rest()}" after "every"`, EXAMPLES.any);
}

/** "every weekday except friday", "every day except sunday", "every day but not saturday and sunday". */
function exceptDays(t: Tokens, p: RRuleParts): void {
  t.eat(",");
  if (t.peek() === "but" && t.peek(1) === "not") t.i += 2;
  else if (!t.eat("except", "excluding")) return;
  t.eat("on", "for");
  const drop = dayList(t);
  if (!drop.length) throw new PhraseError(`expected weekdays after "except", got "${t.rest()}"`, "every day except sunday");
  const base = p.byDay ? p.byDay.map((d) => d.day) : p.freq === "DAILY" && p.interval === 1 ? ALL_DAYS : undefined;
  if (!base || p.byDay?.some((d) => d.n !== undefined) || (p.freq !== "DAILY" && p.freq !== "WEEKLY")) {
    throw new PhraseError(`"except" works with days of the week`, "every day except sunday");
  }
  const kept = base.filter((d) => !drop.includes(d));
  if (!kept.length) throw new PhraseError('no day is left after "except"', "every day except sunday");
  if (p.freq === "DAILY") p.freq = "WEEKLY";
  p.byDay = kept.map((day) => ({ day }));
}

const TIME = String.raw`(?:noon|midnight|\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)`;
// A time of day without "at" ("every other tuesday 7am", "every weekday 9:30"): only forms that cannot
// be a count or an ordinal (am/pm, hh:mm, noon, midnight).
const BARE_TIME = String.raw`(?:noon|midnight|\d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.))`;
const bareTimeRe = new RegExp(String.raw`\s*,?\s*(?<![\w:])(${BARE_TIME}(?:\s*(?:,|and|&)\s*${BARE_TIME})*)(?=\s|$|,)`);

function parseTime(text: string): { hour: number; minute: number } {
  if (text === "noon") return { hour: 12, minute: 0 };
  if (text === "midnight") return { hour: 0, minute: 0 };
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(text)!;
  let hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  const ampm = m[3]?.[0];
  if (minute > 59) throw new PhraseError(`"${text}" is not a time`, "every weekday at 9am");
  if (ampm) {
    if (hour < 1 || hour > 12) throw new PhraseError(`"${text}" is not a time`, "every weekday at 9am");
    hour = (hour % 12) + (ampm === "p" ? 12 : 0);
  } else if (hour > 23) throw new PhraseError(`"${text}" is not a time`, "every weekday at 17:30");
  return { hour, minute };
}

function parseUntilText(value: string): Until {
  const v = value.toUpperCase();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    if (!isCalendarDate(v)) throw new PhraseError(`"${value}" is not a calendar date`, "every weekday until 2026-12-31");
    return { kind: "date", date: v };
  }
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z)?$/.exec(v);
  if (m && isCalendarDate(m[1]!) && Number(m[2]) < 24 && Number(m[3]) < 60 && Number(m[4] ?? 0) < 60) {
    const iso = `${m[1]}T${m[2]}:${m[3]}:${m[4] ?? "00"}`;
    return m[5] ? { kind: "utc", iso: `${iso}Z` } : { kind: "local", iso };
  }
  throw new PhraseError(`the end date "${value}" is not understood: write it as YYYY-MM-DD`, "every weekday until 2026-12-31");
}

const dayFree = (p: RRuleParts) => !p.byDay && !p.bySetPos && !p.byYearDay && !p.byWeekNo;

/**
 * "Every month on the 31st" as people mean it — the 31st, or the month's last day when it is shorter —
 * as a standard rule: BYMONTHDAY=28,…,31;BYSETPOS=-1 (RFC 5545 alone skips months without a 31st).
 * Likewise "every year on February 29": Feb 28 in common years. Undefined when the rule has no such day.
 */
export function lastDayReading(p: RRuleParts): Pick<RRuleParts, "byMonthDay" | "bySetPos"> | undefined {
  // BYSETPOS=-1 picks one occurrence a month, so several times of day cannot take this form.
  const oneTime = (p.byHour?.length ?? 1) === 1 && (p.byMinute?.length ?? 1) === 1 && (p.bySecond?.length ?? 1) === 1;
  if (!dayFree(p) || !oneTime || p.byMonthDay?.length !== 1) return undefined;
  const day = p.byMonthDay[0]!;
  if (p.freq === "MONTHLY" && day >= 29) return { byMonthDay: Array.from({ length: day - 27 }, (_, i) => 28 + i), bySetPos: [-1] };
  if (p.freq === "YEARLY" && day === 29 && p.byMonth?.length === 1 && p.byMonth[0] === 2) return { byMonthDay: [28, 29], bySetPos: [-1] };
  return undefined;
}

/** Whether the rule names a day of the month that some months (or some Februaries) do not have. */
function hasMissingDays(p: RRuleParts): boolean {
  if (!dayFree(p) || !p.byMonthDay) return false;
  if (p.freq === "MONTHLY") return p.byMonthDay.some((d) => d >= 29);
  return p.freq === "YEARLY" && p.byMonth?.length === 1 && p.byMonth[0] === 2 && p.byMonthDay.includes(29);
}

/**
 * Parses an English phrase ("every 2nd tuesday", "every 3 days after completion", "every monday for
 * 10 times") or raw RRULE text into a canonical RRULE and a mode. Returns a ParseError (never throws)
 * saying what was not understood, with an example that works.
 */
export function parseRecurrenceText(text: string): ParsedRecurrence | ParseError {
  const original = typeof text === "string" ? text.trim() : "";
  if (!original) return { error: "the recurrence text is empty", example: EXAMPLES.any };
  try {
    let s = original.toLowerCase().replace(/\s+/g, " ");
    let mode = RecurrenceMode.SCHEDULE;
    if (/\bevery!/.test(s)) {
      mode = RecurrenceMode.AFTER_COMPLETION;
      s = s.replace(/\bevery!/g, "every");
    }
    const after = /\s*,?\s*\b(?:after|from)\s+(?:the\s+)?(?:last\s+)?(?:completion|completed|completing|done|finished|finishing|(?:it(?:'s| is| was)|being)\s+(?:done|completed|finished))\b/;
    if (after.test(s)) {
      mode = RecurrenceMode.AFTER_COMPLETION;
      s = s.replace(after, " ");
    }
    s = s.trim().replace(/[.]+$/, "").trim();

    if (/(^|[;:\s])freq\s*=/i.test(s)) {
      try {
        return { rrule: formatRRule(parseRRule(s)), mode };
      } catch (e) {
        if (e instanceof RRuleSyntaxError) return { error: `invalid RRULE: ${e.message}`, example: "FREQ=WEEKLY;BYDAY=MO,FR" };
        throw e;
      }
    }

    let count: number | undefined;
    let until: Until | undefined;
    let times: Array<{ hour: number; minute: number }> | undefined;
    const countRe = /\s*,?\s*\b(?:for\s+)?(\d{1,5}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?:times|occurrences|repetitions)\b/;
    const cm = countRe.exec(s);
    if (cm) {
      count = numberOf(cm[1]);
      s = s.replace(countRe, " ");
    } else if (/,?\s*\bonce$/.test(s)) {
      count = 1;
      s = s.replace(/,?\s*\bonce$/, " ");
    }
    const untilRe = /\s*,?\s*\b(?:until|till|til|through|thru|ending(?: on)?|ends(?: on)?|up to)\s+(\S+)/;
    const um = untilRe.exec(s);
    if (um) {
      until = parseUntilText(um[1]!);
      s = s.replace(untilRe, " ");
    }
    const timeRe = new RegExp(String.raw`\s*,?\s*\bat\s+(${TIME}(?:\s*(?:,|and|&)\s*${TIME})*)(?=\s|$|,)`);
    const tm = timeRe.exec(s) ?? bareTimeRe.exec(s);
    if (tm) {
      times = tm[1]!
        .split(/\s*(?:,|\band\b|&)\s*/)
        .filter(Boolean)
        .map(parseTime);
      s = `${s.slice(0, tm.index)} ${s.slice(tm.index + tm[0].length)}`;
    }

    // How a day some months (or years) lack is read: by default as a person means "the 31st" — that
    // day, or the last day of a shorter month — written as its own rule; these words choose either.
    let monthEnd: "last-day" | "skip" | undefined;
    const lastDayRe = /\s*,?\s*\bor (?:the last day when shorter|february 28 in common years)\b/;
    const skipRe = /\s*,?\s*\b(?:skipping (?:months without an? \d{2}(?:st|nd|rd|th)|the days a month lacks)|in leap years only)\b/;
    if (lastDayRe.test(s)) {
      monthEnd = "last-day";
      s = s.replace(lastDayRe, " ");
    } else if (skipRe.test(s)) {
      monthEnd = "skip";
      s = s.replace(skipRe, " ");
    }

    const toks = s
      .replace(/,/g, " , ")
      .replace(/&/g, " and ")
      .replace(/\bbusiness days?\b/g, (m) => m.replace(" ", "-"))
      .split(" ")
      .filter(Boolean);
    while (toks[toks.length - 1] === ",") toks.pop();
    const t = new Tokens(toks);
    const p = core(t);
    exceptDays(t, p);
    if (!t.done()) {
      throw new PhraseError(`did not understand "${t.rest()}"`, EXAMPLES[p.freq]);
    }
    if (count !== undefined) p.count = count;
    if (until) p.until = until;
    if (times) {
      if (p.freq === "HOURLY" || p.freq === "MINUTELY") throw new PhraseError(`"at …" does not apply to a rule repeating every ${p.freq === "HOURLY" ? "hour" : "minute"}`, "every weekday at 9am");
      const minutes = new Set(times.map((x) => x.minute));
      if (minutes.size > 1) throw new PhraseError("several times of day need the same minutes (9am and 5pm, or 9:30am and 5:30pm)", "every day at 9am and 5pm");
      p.byHour = [...new Set(times.map((x) => x.hour))].sort((a, b) => a - b);
      p.byMinute = [times[0]!.minute];
    }
    if (monthEnd !== "skip") {
      const explicit = lastDayReading(p);
      if (explicit) Object.assign(p, explicit);
      else if (monthEnd === "last-day") throw new PhraseError('"or the last day" goes with a day of the month from the 29th, e.g. "every month on the 31st"', "every month on the 31st");
    } else if (!hasMissingDays(p)) {
      throw new PhraseError('"skipping …" goes with a day some months lack, e.g. "every month on the 31st, skipping months without a 31st"', "every month on the 31st, skipping months without a 31st");
    }
    // Round-trip through the RRULE checker so every limit (COUNT, ranges, combinations) applies.
    return { rrule: formatRRule(parseRRule(formatRRule(p))), mode };
  } catch (e) {
    if (e instanceof PhraseError) return { error: `could not understand "${original}": ${e.message}`, example: e.example };
    if (e instanceof RRuleSyntaxError) return { error: `could not understand "${original}": ${e.message}`, example: EXAMPLES.any };
    throw e;
  }
}
