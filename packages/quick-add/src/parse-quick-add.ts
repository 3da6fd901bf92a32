// Reads one line of quick-add text: "Pay rent every month on the 1st at 9am #home !high remind me 1 day before".
// Tags (`#home`, and Todoist's `@home`), priority, the reminder and a time zone are found here; dates
// and times by chrono-node, read in the task's time zone; the recurrence phrase is gathered here
// (also the parts of it typed before "every": "meeting on the 31st every month", "gym 7am every
// tuesday") and understood by RecurrenceService.ParseRecurrence, which also gives the first due (see
// resolve-quick-add.ts).
import * as chrono from "chrono-node/en";
import { Temporal } from "temporal-polyfill";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

export type Due = { kind: "date"; date: string } | { kind: "time"; time: Date };

/**
 * `before`: seconds before the due (before_due). On an all-day task "before" means the day(s) before
 * at 09:00 local, stored as before_due from the due's midnight (1 day before → 15 h) so it follows the
 * due and each occurrence; `morningOf` says so (and that it was converted).
 */
export type ReminderDraft = { kind: "before"; seconds: number; morningOf?: string } | { kind: "at"; time: Date };

export interface QuickAddDraft {
  title: string;
  tags: string[];
  priority?: Priority;
  /** For a recurring task: where its first due is looked for from (the rule decides the day). */
  due?: Due;
  /** The words that gave the due date, as typed. */
  dueText?: string;
  /** A zone named in the text ("at 3pm PST", "9am Europe/London"): the task's zone. */
  timeZone?: string;
  /** "every month on the 1st at 9am": to be parsed by the recurrence service. */
  recurrenceText?: string;
  /** The title around the recurrence phrase, for words the service leaves over. */
  titleParts?: [before: string, after: string];
  reminder?: ReminderDraft;
  reminderText?: string;
  /** The line as typed, for reading it again without the rule if the service does not understand it. */
  source?: string;
  /** "remind me at 8am" on a recurring task: read once its first due is known. */
  reminderAtText?: string;
  /** Tags typed as Todoist's `@label`: unlike a `#name`, never taken for a project. */
  labels?: string[];
  /** A `#name` that names one of the user's projects (see pick-project.ts). */
  project?: { id: string; name: string };
  /** A `/name` that names a section of that project (see pick-section.ts). */
  section?: { id: string; name: string };
  /** A `+name` that names a member of that project (see pick-assignee.ts). */
  assignee?: { id: string; email: string };
}

const TAG = /(^|\s)#([\p{L}\p{N}_./-]{1,64})(?=\s|$)/gu;
const LABEL = /(^|\s)@([\p{L}\p{N}_./-]{1,64})(?=\s|$)/gu;
const PRIORITY = /(^|\s)(?:!(high|hi|medium|med|low|lo|none|[123])|(p[1-4]))(?=\s|$)/iu;
const PRIORITIES: Record<string, Priority> = {
  high: Priority.HIGH,
  hi: Priority.HIGH,
  "1": Priority.HIGH,
  medium: Priority.MEDIUM,
  med: Priority.MEDIUM,
  "2": Priority.MEDIUM,
  low: Priority.LOW,
  lo: Priority.LOW,
  "3": Priority.LOW,
  none: Priority.NONE,
  // Todoist: p1 is the most urgent, p4 means none.
  p1: Priority.HIGH,
  p2: Priority.MEDIUM,
  p3: Priority.LOW,
  p4: Priority.NONE,
};
const REMIND_BEFORE = /(^|\s)remind(?:\s+me)?\s+(\d+|an?|one)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s+(?:before|early|earlier|ahead)(?=\s|$)/iu;
const REMIND_AT = /(^|\s)remind(?:\s+me)?\s+(?=at\s|on\s|tomorrow|today|tonight|tmrw?\b|next\s|\d)/iu;
// "every …" always starts a rule; a bare "weekly" only when nothing but rule words follow it, so
// "Prepare monthly report" keeps its title.
const RECURRENCE_START =
  /(^|\s)(every!?(?=\s)|each(?=\s+(?:other\s|\d|day|week|month|year|quarter|weekday|weekend|workday|mon|tue|wed|thu|fri|sat|sun|first|second|third|fourth|last))|(?:daily|weekly|monthly|yearly|annually|quarterly|biweekly|fortnightly|weekdays|weekends|mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)(?=\s*$|,|\s+(?:at|on|in|from|starting|beginning|until|till|after|for|and|except|\d)\b))/iu;
const EVERY_START = /(^|\s)(every!?(?=\s))/iu;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };
/** All-day reminders "before" fire this long after midnight, on the day(s) before. */
export const ALL_DAY_REMINDER_TIME = "09:00";

// Words a recurrence phrase is made of; the phrase ends at the first other word.
const WEEKDAY = "mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday";
const MONTH = "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december";
const ORDINAL = String.raw`\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|last|penultimate`;
const TIME = String.raw`(?:noon|midnight|\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2})`;
const RULE_WORD = new RegExp(
  String.raw`^(?:every!?|each|other|an?|except|excluding|but|not|morning|afternoon|evening|night|single|and|&|on|the|of|at|in|to|for|times|once|occurrences|after|completion|completed|done|it|is|days?|weeks?|months?|years?|quarters?|hours?|minutes?|weekdays?|weekends?|workdays?|business|daily|weekly|biweekly|fortnightly|monthly|bimonthly|quarterly|yearly|annually|hourly|\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|am|pm|a\.m\.|p\.m\.|${ORDINAL}|(?:${WEEKDAY})s?|${MONTH}|${TIME})$`,
  "iu",
);
const TRAILING_CONNECTOR = /^(?:an?|and|&|on|the|of|at|in|to|for|after|it|is|except|excluding|but|not)$/iu;
const SERIES_START = /^(?:starting|beginning|from)$/iu;
const SERIES_UNTIL = /^(?:until|till|til|through|thru|ending)$/iu;
// Parts of a rule typed before "every": "on the 31st", "on mondays and thursdays", "at 7am".
const ORDINALS_BEFORE = new RegExp(
  String.raw`(^|\s)((?:on\s+)?(?:the\s+)?(?:${ORDINAL})(?:\s*(?:,|and|&)\s*(?:the\s+)?(?:${ORDINAL}))*(?:\s+(?:(?:${WEEKDAY})|day|weekday))?(?:\s+of\s+(?:the|each|every)\s+month)?)(?:\s+of)?\s*$`,
  "iu",
);
const WEEKDAYS_BEFORE = new RegExp(String.raw`(^|\s)((?:on\s+)?(?:${WEEKDAY})s?(?:\s*(?:,|and|&)\s*(?:${WEEKDAY})s?)*)\s*$`, "iu");
const TIME_BEFORE = new RegExp(String.raw`(^|\s)((?:at\s+)?${TIME})\s*$`, "iu");
// "on the 3rd" with no month (chrono does not read it): the next 3rd. Without "on" or "by" only at
// the end ("Call mum the 3rd") or before "of": "the 2nd draft", "the 3rd floor" are no dates.
const MONTH_DAY = /(^|\s)(?:(?:on|by)\s+the\s+(\d{1,2})(?:st|nd|rd|th)(?=\s|$)|the\s+(\d{1,2})(?:st|nd|rd|th)(?=\s*$|\s+of\s))/iu;
// chrono reads "Morning run" as this morning, "Plan the week" as a week from now and "Last day of
// school" as yesterday: a part of the day alone, the day, week, month or year without next, this or
// a number, and "last day" are not dues.
const NOT_A_DUE = /^(?:now|morning|afternoon|evening|night|the\s+(?:day|week|month|year)|last\s+day|24\/7|\d+\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?))$/iu;
// A month alone names a person ("Call April") or a thing ("March invoice") unless a word before it
// says it is when: "in April", "by March".
const MONTH_ALONE = /^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?$/iu;
const BEFORE_A_MONTH = /(?:^|\s)(?:in|on|by|next|this|until|till|before|after|from|due|since|early|mid|late|end\s+of)\s+$/iu;
// "3/4 inch", "1/2 cup": a fraction before a unit, not the 4th of March.
const FRACTION = /^\d{1,2}\/\d{1,2}$/u;
const UNIT_AFTER = /^\s+(?:inch(?:es)?|cups?|tsp|tbsp|teaspoons?|tablespoons?|miles?|lbs?|pounds?|oz|ounces?|yards?|feet|foot|ft|mm|cm|m|km|kg|g|l|ml|gallons?|pints?|quarts?|liters?|litres?)\b/iu;
// Weekdays short as everyday words ("sun cream", "sat down"): a day only after a word that says so.
const WORD_LIKE_DAY = /^(?:sun|sat|wed)$/u;
const BEFORE_A_DAY = /(?:^|\s)(?:on|by|next|this|every|until|till|before|after|from|due)\s+$/iu;

/** Whether chrono's reading of part of `text` is a due as people write one. */
function readsAsDue(r: ChronoResult, text: string): boolean {
  if (NOT_A_DUE.test(r.text)) return false;
  const after = text.slice(r.index + r.text.length);
  // "Tonight's dinner" names a dinner, not a day.
  if (/^['’]s\b/u.test(after)) return false;
  if (MONTH_ALONE.test(r.text) && !BEFORE_A_MONTH.test(text.slice(0, r.index))) return false;
  if (FRACTION.test(r.text) && UNIT_AFTER.test(after)) return false;
  return !WORD_LIKE_DAY.test(r.text) || BEFORE_A_DAY.test(text.slice(0, r.index));
}
// Read here rather than by chrono, which gives "a week from now" and "a month from now".
const NEXT_WEEK = /(^|\s)(?:next\s+week|next\s+month)(?=\s|$)/iu;

// Zones: an IANA name anywhere ("9am Europe/London"), an abbreviation right after a time ("3pm PST").
const IANA_ZONE = /(^|\s)(?:in\s+)?((?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)\/[A-Za-z0-9_+\-/]+)(?=\s|$|,)/u;
// biome-ignore format: a table of short entries, several to a line
const ZONE_ABBREVIATIONS: Record<string, string> = {
  pst: "America/Los_Angeles", pdt: "America/Los_Angeles", pt: "America/Los_Angeles",
  mst: "America/Denver", mdt: "America/Denver", mt: "America/Denver",
  cst: "America/Chicago", cdt: "America/Chicago", ct: "America/Chicago",
  est: "America/New_York", edt: "America/New_York", et: "America/New_York",
  akst: "America/Anchorage", hst: "Pacific/Honolulu",
  utc: "UTC", gmt: "UTC", z: "UTC",
  bst: "Europe/London", cet: "Europe/Berlin", cest: "Europe/Berlin", eet: "Europe/Athens", eest: "Europe/Athens",
  ist: "Asia/Kolkata", sgt: "Asia/Singapore", hkt: "Asia/Hong_Kong", jst: "Asia/Tokyo", kst: "Asia/Seoul",
  aest: "Australia/Sydney", aedt: "Australia/Sydney", nzst: "Pacific/Auckland", nzdt: "Pacific/Auckland",
};
const ZONE_AFTER_TIME = new RegExp(String.raw`(\d\s?(?:am|pm|a\.m\.|p\.m\.)|\d:\d{2}|\bnoon|\bmidnight)\s+(${Object.keys(ZONE_ABBREVIATIONS).join("|")})(?=\s|$|,)`, "iu");

/** Every tag a line gives its task: its `#tags` and `@labels`. */
export function taggedWith(draft: Pick<QuickAddDraft, "tags" | "labels">): string[] {
  return draft.labels ? [...new Set([...draft.tags, ...draft.labels])] : draft.tags;
}

export function defaultTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function parseQuickAdd(text: string, now: Date = new Date(), timeZone: string = defaultTimeZone(), options: { recurrence?: boolean } = {}): QuickAddDraft {
  let rest = ` ${text} `;
  const draft: QuickAddDraft = { title: "", tags: [] };

  rest = rest.replace(TAG, (_m, lead: string, tag: string) => {
    const name = tag.toLowerCase();
    if (!draft.tags.includes(name)) draft.tags.push(name);
    return lead;
  });
  rest = rest.replace(LABEL, (_m, lead: string, label: string) => {
    const name = label.toLowerCase();
    draft.labels = [...new Set([...(draft.labels ?? []), name])];
    return lead;
  });
  rest = rest.replace(PRIORITY, (_m, lead: string, level: string | undefined, p: string | undefined) => {
    draft.priority = PRIORITIES[(level ?? p!).toLowerCase()];
    return lead;
  });

  const iana = IANA_ZONE.exec(rest);
  if (iana && isTimeZone(iana[2]!)) {
    draft.timeZone = iana[2]!;
    rest = rest.slice(0, iana.index) + iana[1] + rest.slice(iana.index + iana[0].length);
  } else {
    const abbr = ZONE_AFTER_TIME.exec(rest);
    if (abbr) {
      draft.timeZone = ZONE_ABBREVIATIONS[abbr[2]!.toLowerCase()]!;
      rest = rest.slice(0, abbr.index) + abbr[1] + rest.slice(abbr.index + abbr[0].length);
    }
  }
  const zone = draft.timeZone ?? timeZone;

  const before = REMIND_BEFORE.exec(rest);
  if (before) {
    const count = /^\d+$/.test(before[2]!) ? Number(before[2]) : 1;
    draft.reminder = { kind: "before", seconds: count * UNIT_SECONDS[before[3]![0]!.toLowerCase()]! };
    draft.reminderText = before[0].trim();
    rest = rest.replace(before[0], before[1]!);
  }
  const at = draft.reminder ? null : REMIND_AT.exec(rest);
  if (at) {
    const after = rest.slice(at.index + at[0].length);
    const when = chronoParse(after, now, zone)[0];
    if (when && when.index <= 3) {
      const reminderAt = after.slice(0, when.index + when.text.length);
      draft.reminderAtText = reminderAt.trim();
      draft.reminderText = `${at[0].trim()} ${reminderAt.trim()}`;
      rest = rest.slice(0, at.index) + at[1] + after.slice(reminderAt.length);
    }
  }

  // "every …" wins over a rule word before it ("on mondays and thursdays every week": the days join the rule).
  const recurrence = options.recurrence === false ? null : (EVERY_START.exec(rest) ?? RECURRENCE_START.exec(rest));
  if (recurrence) {
    const phraseStart = recurrence.index + recurrence[1]!.length;
    let head = rest.slice(0, phraseStart);
    // "Gym on mondays and thursdays": the "on" goes with the days.
    if (/^\p{L}+days$/iu.test(recurrence[2]!) && !/^(?:weekdays|weekends)$/iu.test(recurrence[2]!)) head = head.replace(/(^|\s)on\s*$/iu, "$1");
    const rule = gatherRule(head, rest.slice(phraseStart), now, zone);
    draft.recurrenceText = rule.text;
    if (rule.start) draft.due = rule.start;
    draft.titleParts = [rule.before, rule.after];
    draft.source = text;
    rest = `${rule.before} ${rule.after}`;
  } else {
    const found = takeDue(rest, now, zone);
    if (found.due) {
      draft.due = found.due;
      draft.dueText = found.dueText;
      rest = found.rest;
    }
  }

  draft.title = cleanTitle(rest);
  if (!draft.recurrenceText) finishReminder(draft, now, zone);
  return draft;
}

interface GatheredRule {
  text: string;
  start?: Due;
  before: string;
  after: string;
}

/**
 * The recurrence phrase from "every …" on, as long as its words are rule words, with: the parts of it
 * typed before ("on the 31st every month"), a time of day anywhere in the line (it goes into the
 * rule: "at 7am"), "starting …"/"from …" (where the first due is looked for from), "until <date>"
 * (written as YYYY-MM-DD for the service).
 */
function gatherRule(before: string, tail: string, now: Date, zone: string): GatheredRule {
  // Each word of the phrase with where the tail is read on from after it.
  const words: Array<{ word: string; end: number }> = [];
  let start: Due | undefined;
  let startTime: string | undefined;
  let pos = 0;
  for (;;) {
    const m = /\S+/u.exec(tail.slice(pos));
    if (!m) break;
    const token = m[0];
    const word = token.replace(/,$/u, "");
    const tokenEnd = pos + m.index + token.length;
    if (SERIES_START.test(word) || SERIES_UNTIL.test(word)) {
      const after = tail.slice(tokenEnd);
      const when = readDate(after, now, zone);
      if (!when || after.slice(0, when.index).trim() !== "") break;
      const date = when.due;
      pos = tokenEnd + when.index + when.length;
      if (SERIES_START.test(word)) {
        start = date;
        if (when.result?.start.isCertain("hour")) startTime = wallTime(when.result);
      } else {
        words.push({ word: `until ${date.kind === "date" ? date.date : toWall(date.time, zone).toPlainDate().toString()}`, end: pos });
      }
      continue;
    }
    if (!RULE_WORD.test(word)) break;
    words.push({ word: token, end: tokenEnd });
    pos = tokenEnd;
  }
  // Connectors at the end belong to the title ("every sunday on the phone").
  while (words.length > 1 && TRAILING_CONNECTOR.test(words[words.length - 1]!.word.replace(/,$/u, ""))) {
    words.pop();
    pos = words[words.length - 1]!.end;
  }
  let after = tail.slice(pos);
  let text = words
    .map((w) => w.word)
    .join(" ")
    .replace(/,$/u, "");
  const subDaily = /\b(?:hours?|minutes?|hourly)\b/iu.test(text);
  const hasTime = new RegExp(String.raw`(?:^|\s)(?:at\s+)?${TIME}(?=\s|$|,)`, "iu").test(text);
  const hasOn = /\s(?:on|in)\s/iu.test(` ${text} `);

  // Rule parts typed before "every".
  let rest = before;
  for (let moved = true; moved; ) {
    moved = false;
    const time = !hasTime && !subDaily ? TIME_BEFORE.exec(rest) : null;
    if (time) {
      text += ` at ${time[2]!.replace(/^at\s+/iu, "")}`;
      rest = rest.slice(0, time.index) + time[1];
      moved = true;
      continue;
    }
    const ordinals = !hasOn ? ORDINALS_BEFORE.exec(rest) : null;
    if (ordinals && /\bmonths?\b|monthly|quarter|year|annually/iu.test(text)) {
      text += ` on ${ordinals[2]!.replace(/^on\s+/iu, "").replace(/\s+of$/iu, "")}`;
      rest = rest.slice(0, ordinals.index) + ordinals[1];
      moved = true;
      continue;
    }
    const weekdays = !hasOn ? WEEKDAYS_BEFORE.exec(rest) : null;
    if (weekdays && /\bweeks?\b|weekly|fortnightly/iu.test(text)) {
      text += ` on ${weekdays[2]!.replace(/^on\s+/iu, "")}`;
      rest = rest.slice(0, weekdays.index) + weekdays[1];
      moved = true;
    }
  }

  // A date or time elsewhere in the line: the start, and the time of day goes into the rule.
  for (const part of ["before", "after"] as const) {
    const source = part === "before" ? rest : after;
    const found = takeDue(source, now, zone);
    if (!found.due || !found.result) continue;
    const timeOnly = found.result.start.isCertain("hour") && !found.result.start.isCertain("day") && !found.result.start.isCertain("weekday");
    if (timeOnly && (hasTime || subDaily)) continue;
    if (part === "before") rest = found.rest;
    else after = found.rest;
    if (found.result.start.isCertain("hour")) startTime ??= wallTime(found.result);
    if (!timeOnly) start ??= found.due.kind === "time" ? { kind: "date", date: toWall(found.due.time, zone).toPlainDate().toString() } : found.due;
    break;
  }
  // "for 2 weeks": until the day before two weeks from the start.
  const span = /(^|\s)for\s+(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(days?|weeks?|months?|years?)(?=\s|$)/iu.exec(text);
  const n = span ? (/^\d+$/u.test(span[2]!) ? Number(span[2]) : (SMALL_NUMBERS[span[2]!.toLowerCase()] ?? 1)) : 0;
  if (span && n >= 1 && !/\buntil\b/iu.test(text)) {
    const unit = span[3]!.toLowerCase().replace(/s$/u, "") as "day" | "week" | "month" | "year";
    const from = start?.kind === "date" ? Temporal.PlainDate.from(start.date) : start ? toWall(start.time, zone).toPlainDate() : toWall(now, zone).toPlainDate();
    const until = from.add({ [`${unit}s`]: n }).subtract({ days: 1 });
    text = `${text.slice(0, span.index)}${span[1]}until ${until.toString()}${text.slice(span.index + span[0].length)}`;
  }
  if (startTime && !hasTime && !subDaily) {
    text += ` at ${startTime}`;
    if (start?.kind === "time") start = { kind: "date", date: toWall(start.time, zone).toPlainDate().toString() };
  }
  return { text, ...(start ? { start } : {}), before: rest, after };
}

const SMALL_NUMBERS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12 };

type ChronoResult = chrono.ParsedResult;

/** chrono on the wall-clock of `now` in `zone`, so "tomorrow" and "9am" are that zone's. */
function chronoParse(text: string, now: Date, zone: string): ChronoResult[] {
  const wall = toWall(now, zone);
  const reference = new Date(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return chrono.parse(text, reference, { forwardDate: true });
}

function wallTime(result: ChronoResult): string {
  return `${result.start.get("hour")}:${String(result.start.get("minute") ?? 0).padStart(2, "0")}`;
}

// "04:30" is a 24-hour clock's: the morning.
const LEADING_ZERO = /(?:^|\D)0\d[:.h]/u;
// Words that put an hour from 1 to 6 without am or pm in the morning ("Morning run at 6").
const EARLY = /(?:^|\s)(?:morning|dawn|sunrise|early)(?=\s|$)/iu;

/**
 * A chrono result as a due in `zone`: a time when the hour was given, else a date. An hour from 1
 * to 6 without am or pm ("at 3") is the afternoon's unless it is written 03:00 or `text` says morning; without a day,
 * today's while it is ahead (chrono takes the next 3 o'clock at night).
 */
function dueOf(result: ChronoResult, zone: string, now: Date, text: string): Due {
  const c = result.start;
  let date = Temporal.PlainDate.from({ year: c.get("year")!, month: c.get("month")!, day: c.get("day")! });
  if (!c.isCertain("hour")) return { kind: "date", date: date.toString() };
  let hour = c.get("hour")!;
  const minute = c.get("minute") ?? 0;
  if (hour >= 1 && hour <= 6 && !c.isCertain("meridiem") && !LEADING_ZERO.test(result.text) && !EARLY.test(text)) {
    hour += 12;
    if (!c.isCertain("day") && !c.isCertain("weekday")) {
      const wall = toWall(now, zone);
      date = Temporal.PlainTime.compare(wall.toPlainTime(), new Temporal.PlainTime(hour, minute)) < 0 ? wall.toPlainDate() : wall.toPlainDate().add({ days: 1 });
    }
  }
  const time = date.toPlainDateTime({ hour, minute });
  return { kind: "time", time: new Date(time.toZonedDateTime(zone).epochMilliseconds) };
}

/** The first date or time in the text (chrono, in `zone`), and the text without it. */
export function takeDue(text: string, now: Date, zone: string = defaultTimeZone()): { due?: Due; dueText?: string; rest: string; result?: ChronoResult } {
  const found = readDate(text, now, zone);
  if (!found) return { rest: text };
  return {
    due: found.due,
    dueText: text.slice(found.index, found.index + found.length),
    rest: cut(text, found.index, found.index + found.length),
    ...(found.result ? { result: found.result } : {}),
  };
}

/** chrono's reading, and the few it reads otherwise or not: "next week" (Monday), "next month" (the 1st), "on the 3rd". */
function readDate(text: string, now: Date, zone: string): { due: Due; index: number; length: number; result?: ChronoResult } | undefined {
  const today = toWall(now, zone).toPlainDate();
  const found = chronoParse(text, now, zone).find((r) => readsAsDue(r, text));
  const next = NEXT_WEEK.exec(text);
  if (next && (!found || next.index + next[1]!.length <= found.index)) {
    const words = next[0].slice(next[1]!.length);
    const date = /week/iu.test(words) ? today.add({ days: 8 - today.dayOfWeek }) : today.with({ day: 1 }).add({ months: 1 });
    return { due: { kind: "date", date: date.toString() }, index: next.index + next[1]!.length, length: words.length };
  }
  if (found) return { due: dueOf(found, zone, now, text), index: found.index, length: found.text.length, result: found };
  const day = MONTH_DAY.exec(text);
  const n = Number(day?.[2] ?? day?.[3]);
  if (!day || n < 1 || n > 31) return undefined;
  let month = today.with({ day: 1 });
  if (n < today.day) month = month.add({ months: 1 });
  while (month.daysInMonth < n) month = month.add({ months: 1 });
  return { due: { kind: "date", date: month.with({ day: n }).toString() }, index: day.index + day[1]!.length, length: day[0].length - day[1]!.length };
}

/**
 * Once the due is known: "remind me at 8am" is 8am on the due day; "remind me 30 min before" on an
 * all-day task is the day before at 09:00 (N days before at 09:00 for "N days before").
 */
export function finishReminder(draft: QuickAddDraft, now: Date, zone: string): void {
  if (draft.reminderAtText) {
    const dueDay = draft.due?.kind === "time" ? toWall(draft.due.time, zone).toPlainDate() : draft.due ? Temporal.PlainDate.from(draft.due.date) : undefined;
    // A time alone is on the due day; "tomorrow at 9am" is read from now.
    const fromNow = chronoParse(draft.reminderAtText, now, zone)[0];
    const dated = fromNow && (fromNow.start.isCertain("day") || fromNow.start.isCertain("weekday"));
    const reference = dueDay && !dated ? new Date(dueDay.toZonedDateTime(zone).epochMilliseconds) : now;
    const when = chronoParse(draft.reminderAtText, reference, zone)[0];
    if (when) {
      const due = dueOf(when, zone, reference, draft.reminderAtText);
      draft.reminder = { kind: "at", time: due.kind === "time" ? due.time : new Date(Temporal.PlainDate.from(due.date).toPlainDateTime({ hour: 9 }).toZonedDateTime(zone).epochMilliseconds) };
    }
    delete draft.reminderAtText;
  }
  const r = draft.reminder;
  if (r?.kind === "before" && !r.morningOf && draft.due?.kind === "date") {
    const days = Math.max(1, Math.ceil(r.seconds / 86_400));
    const [h, m] = ALL_DAY_REMINDER_TIME.split(":").map(Number) as [number, number];
    draft.reminder = { kind: "before", seconds: days * 86_400 - h * 3600 - m * 60, morningOf: `${days} day${days > 1 ? "s" : ""} before` };
  }
}

/** The title with spaces tidied. */
export function cleanTitle(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The title without the word a `(^|\s)word` pattern matched in it. */
export function withoutWord(title: string, match: RegExpMatchArray): string {
  return cleanTitle(`${title.slice(0, match.index)}${match[1]}${title.slice(match.index! + match[0].length)}`);
}

// A word that only introduced the date cut out after it: "Submit report by friday" → "Submit report".
const DANGLING = /(^|\s)(?:on|at|by|due|in|for|from|starting|before|until)\s*$/iu;

/** `text` without [from, to), and without a word before it that only introduced it. */
function cut(text: string, from: number, to: number): string {
  const head = text.slice(0, from).replace(DANGLING, "$1");
  return `${head} ${text.slice(to)}`;
}

export function toWall(instant: Date, zone: string): Temporal.PlainDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(zone).toPlainDateTime();
}

export function isTimeZone(name: string): boolean {
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(name);
    return true;
  } catch {
    return false;
  }
}

export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
