import {
  COUNTED_HINT,
  DAYS_AWAY_MAX,
  fullWeekday,
  HOURS_AWAY_MAX,
  isRelativeDay,
  MEMBER_NAME,
  MONTH_NAMES,
  MONTHS,
  nextDays,
  WEEKDAYS,
  type DateField,
  type FilterNode,
  type RelativeDay,
} from "./ast.js";
import { dateTerm } from "./date-term.js";
import { FilterSyntaxError } from "./errors.js";
import type { Token } from "./lexer.js";

const FIELD_WORDS: Record<string, DateField> = { due: "due", date: "due", created: "created", updated: "updated", completed: "completed" };

/** Whom Todoist's `assigned to:` (`assigned by:`) names, as assignee (assigner) terms (a new tree each time: callers may own it). */
const ASSIGNED: Record<string, (kind: "assignee" | "assigner") => FilterNode> = {
  me: (kind) => ({ kind, who: "me" }),
  none: (kind) => ({ kind, who: "none" }),
  nobody: (kind) => ({ kind, who: "none" }),
  others: (kind) => ({
    kind: "and",
    children: [
      { kind: "not", child: { kind, who: "me" } },
      { kind: "not", child: { kind, who: "none" } },
    ],
  }),
};

/**
 * Todoist's filters written as bare words: the dates `today`, `tomorrow`, `yesterday`, `friday` (any
 * weekday: the coming one), `overdue`,
 * `no date`, `no due date`, `no time` (all day), `no priority`, `7 days`, `next 7 days`, `due before: friday`, `created after: 2025-01-31`,
 * and `no labels`, `assigned` (to anyone), `assigned to: me` (`others`, `nobody`), `recurring`, `subtask`, `shared`.
 * Reads the one starting at `tokens[i]`; `taken` is the number of tokens it spans.
 */
export function readPhrase(tokens: readonly Token[], i: number): { node: FilterNode; taken: number } | undefined {
  const word = (k: number): string | undefined => {
    const t = tokens[i + k];
    return t?.type === "word" ? t.text.toLowerCase() : undefined;
  };
  const first = word(0);
  if (first === undefined) return undefined;
  if (first === "today" || first === "tomorrow" || first === "yesterday" || (WEEKDAYS as readonly string[]).includes(first)) {
    return { node: { kind: "date", field: "due", op: "=", day: first as RelativeDay }, taken: 1 };
  }
  if (first === "overdue") return { node: { kind: "due", state: "overdue" }, taken: 1 };
  if (first === "no" && word(1) === "date") return { node: { kind: "due", state: "none" }, taken: 2 };
  if (first === "no" && word(1) === "due" && word(2) === "date") return { node: { kind: "due", state: "none" }, taken: 3 };
  if (first === "no" && word(1) === "labels") return { node: { kind: "tag", tag: null }, taken: 2 };
  if (first === "no" && word(1) === "time") return { node: { kind: "due", state: "all-day" }, taken: 2 };
  if (first === "no" && word(1) === "priority") return { node: { kind: "priority", op: "=", level: "none" }, taken: 2 };
  if (first === "assigned") return readAssignedTo(tokens, i);
  if (first === "recurring" || first === "subtask" || first === "shared") return { node: { kind: "is", what: first }, taken: 1 };
  const skip = first === "next" ? 1 : 0;
  const span = daysSpan(word(skip), word(skip + 1));
  if (span) return { node: { kind: "date", field: "due", op: "=", day: span }, taken: skip + 2 };
  const field = Object.hasOwn(FIELD_WORDS, first) ? FIELD_WORDS[first] : undefined;
  const compare = /^(before|after):(.*)$/.exec(word(1) ?? "");
  if (field === undefined || !compare) return undefined;
  const op = compare[1] === "before" ? "<" : ">";
  const written = tokens[i + 1] as Token & { text: string };
  if (compare[2] !== "") {
    const head = compare[1]!.length + 1;
    const glued = spacedDay([{ type: "word", text: compare[2]!, pos: written.pos + head, len: written.len - head }, ...tokens.slice(i + 2)], 0);
    if (glued && glued.taken > 1) return { node: dateTerm(field, op, glued.text, glued.pos, glued.len), taken: 1 + glued.taken };
    return { node: dateTerm(field, op, compare[2]!, written.pos + head), taken: 2 };
  }
  const days = spacedDay(tokens, i + 2);
  if (days) return { node: dateTerm(field, op, days.text, days.pos, days.len), taken: 2 + days.taken };
  const value = tokens[i + 2];
  const count = tokens[i + 3];
  if (value?.type === "not" && count?.type === "word" && count.pos === value.pos + value.len) {
    throw new FilterSyntaxError(`"-${count.text}" counts from now: ${COUNTED_HINT}`, value.pos, count.pos + count.len - value.pos);
  }
  if (value?.type !== "word") {
    throw new FilterSyntaxError(`"${first} ${compare[1]}:" needs a date after it, e.g. ${first} ${compare[1]}: friday`, tokens[i]!.pos, written.pos + written.len - tokens[i]!.pos);
  }
  return { node: dateTerm(field, op, value.text, value.pos), taken: 3 };
}

/**
 * Todoist's `-7 days` (`-2 weeks`): due in the days before today, as `7 days` is today and the days
 * after. The lexer reads the `-` as NOT: `minus` is the token, touching the number after it.
 */
export function pastDays(tokens: readonly Token[], minus: number): { node: FilterNode; taken: number } | undefined {
  const [sign, number, unit] = [tokens[minus], tokens[minus + 1], tokens[minus + 2]];
  if (sign?.type !== "not" || number?.type !== "word" || number.pos !== sign.pos + sign.len || unit?.type !== "word" || !/^\d{1,4}$/.test(number.text)) return undefined;
  const days = Number(number.text) * (/^days?$/i.test(unit.text) ? 1 : /^weeks?$/i.test(unit.text) ? 7 : 0);
  if (days < 1 || days > DAYS_AWAY_MAX) return undefined;
  const node: FilterNode = {
    kind: "and",
    children: [
      { kind: "date", field: "due", op: ">=", day: `${days}-days-ago` },
      { kind: "date", field: "due", op: "<", day: "today" },
    ],
  };
  return { node, taken: 3 };
}

/**
 * A day in words after a date field, as Todoist users type it: `due: next week`, `due before: this
 * month`, `due: next 7 days` (the filter's `next-week`, `this-month`, `next-7-days`), `date: Dec 20`,
 * `due before: 3 January` (`dec-20`, `jan-3`: the one nearest today), `due: Dec 20 2027`
 * (`2027-12-20`), `due: 7 days`. Reads the words from `tokens[k]`; undefined when they name no such day.
 */
export function spacedDay(tokens: readonly Token[], k: number): { text: string; pos: number; len: number; taken: number } | undefined {
  const word = (j: number) => {
    const t = tokens[k + j];
    return t?.type === "word" ? t.text.toLowerCase() : "";
  };
  const read = (text: string, taken: number) => {
    const last = tokens[k + taken - 1]!;
    return { text, pos: tokens[k]!.pos, len: last.pos + last.len - tokens[k]!.pos, taken };
  };
  const calendar = calendarDay(word(0), word(1), word(2));
  if (calendar) return read(calendar.text, calendar.taken);
  const away = countedDay(tokens, k);
  if (away) return read(away.text, away.taken);
  for (const taken of [3, 2]) {
    const text = fullWeekday([0, 1, 2].slice(0, taken).map(word).join("-"));
    if (isRelativeDay(text)) return read(text, taken);
  }
  const span = daysSpan(word(0), word(1));
  return span && read(span, 2);
}

/**
 * A day counted from today or an instant from now, as Todoist users write them after a date field:
 * `-365 days` (the lexer reads a `-` after a space as NOT, the token before the number, touching
 * it), `+7 days`, `2 weeks ago`, `in 3 days`, `+4 hours`: the language's `365-days-ago`,
 * `in-7-days`, `in-4-hours`. Undefined for other words or a count out of range.
 */
function countedDay(tokens: readonly Token[], k: number): { text: string; taken: number } | undefined {
  const word = (j: number) => {
    const t = tokens[k + j];
    return t?.type === "word" ? t.text.toLowerCase() : "";
  };
  const sign = tokens[k];
  const number = tokens[k + 1];
  const minus = sign?.type === "not" && number?.type === "word" && number.pos === sign.pos + sign.len;
  const [ago, count, unit, taken] = minus
    ? [true, word(1), word(2), 3]
    : /^[+-]\d/.test(word(0))
      ? [word(0).startsWith("-"), word(0).slice(1), word(1), 2]
      : word(0) === "in"
        ? [false, word(1), word(2), 3]
        : word(2) === "ago"
          ? [true, word(0), word(1), 3]
          : [false, "", "", 0];
  const n = /^\d{1,4}$/.test(count) ? Number(count) : 0;
  const hours = /^(hours?|hrs?|h)$/.test(unit);
  const [span, max] = hours ? [n, HOURS_AWAY_MAX] : [n * (/^days?$/.test(unit) ? 1 : /^weeks?$/.test(unit) ? 7 : 0), DAYS_AWAY_MAX];
  if (span < 1 || span > max) return undefined;
  const what = hours ? "hours" : "days";
  return { text: ago ? `${span}-${what}-ago` : `in-${span}-${what}`, taken };
}

/** `7 days` (or `1 day`) as the language's `next-7-days`; undefined for other words or a count out of range. */
function daysSpan(count: string | undefined, unit: string | undefined): RelativeDay | undefined {
  const span = `next-${count}-days`;
  return /^days?$/.test(unit ?? "") && nextDays(span) !== undefined ? (span as RelativeDay) : undefined;
}

/** `dec 20`, `20 december`, `20th dec`, then maybe a year; the date checked later (`feb 30` is a mistake said as one). */
export function calendarDay(a: string, b: string, c: string): { text: string; taken: number } | undefined {
  const month = (w: string) => MONTH_NAMES.findIndex((name) => w.length >= 3 && (name.startsWith(w) || (w === "sept" && name === "september"))) + 1;
  const day = (w: string) => Number(/^([1-9]|[0-2]\d|3[01])(st|nd|rd|th)?$/.exec(w)?.[1] ?? 0);
  const [m, d] = month(a) > 0 ? [month(a), day(b)] : [month(b), day(a)];
  if (m === 0 || d === 0) return undefined;
  if (/^\d{4}$/.test(c)) return { text: `${c}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`, taken: 3 };
  return { text: `${MONTHS[m - 1]}-${d}`, taken: 2 };
}

/**
 * `assigned to: me`, `assigned to:others`, `assigned to: bob`, `assigned by: me` (who assigned it);
 * `assigned` alone: to anyone (but words when `to` or `by` follows without a colon).
 */
function readAssignedTo(tokens: readonly Token[], i: number): { node: FilterNode; taken: number } | undefined {
  const to = tokens[i + 1];
  if (to?.type === "word" && /^(to|by)$/i.test(to.text)) return undefined;
  const preposition = to?.type === "word" ? /^(to|by):/i.exec(to.text)?.[1]?.toLowerCase() : undefined;
  if (to?.type !== "word" || preposition === undefined) return { node: { kind: "not", child: { kind: "assignee", who: "none" } }, taken: 1 };
  const kind = preposition === "to" ? "assignee" : "assigner";
  const glued = to.text.slice(3);
  const value = glued === "" ? tokens[i + 2] : to;
  const who = value?.type === "word" ? (glued || value.text).toLowerCase() : undefined;
  const node = who === undefined ? undefined : Object.hasOwn(ASSIGNED, who) ? ASSIGNED[who]!(kind) : MEMBER_NAME.test(who) ? ({ kind, who } as const) : undefined;
  if (!node) {
    const at = glued === "" && value ? value : to;
    throw new FilterSyntaxError(`"assigned ${preposition}:" takes me, others, nobody or a member (e.g. assigned ${preposition}: me, assigned ${preposition}: bob)`, at.pos, at.len);
  }
  return { node, taken: glued === "" ? 3 : 2 };
}
