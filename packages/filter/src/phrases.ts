import { isRelativeDay, MEMBER_NAME, MONTH_NAMES, MONTHS, nextDays, type DateField, type FilterNode, type RelativeDay } from "./ast.js";
import { dateTerm } from "./date-term.js";
import { FilterSyntaxError } from "./errors.js";
import type { Token } from "./lexer.js";

const FIELD_WORDS: Record<string, DateField> = { due: "due", date: "due", created: "created", updated: "updated", completed: "completed" };

/** Whom Todoist's `assigned to:` names, as assignee terms (a new tree each time: callers may own it). */
const ASSIGNED_TO: Record<string, () => FilterNode> = {
  me: () => ({ kind: "assignee", who: "me" }),
  none: () => ({ kind: "assignee", who: "none" }),
  nobody: () => ({ kind: "assignee", who: "none" }),
  others: () => ({
    kind: "and",
    children: [
      { kind: "not", child: { kind: "assignee", who: "me" } },
      { kind: "not", child: { kind: "assignee", who: "none" } },
    ],
  }),
};

/**
 * Todoist's filters written as bare words: the dates `today`, `tomorrow`, `yesterday`, `overdue`,
 * `no date`, `no due date`, `no time` (all day), `7 days`, `next 7 days`, `due before: friday`, `created after: 2025-01-31`,
 * and `no labels`, `assigned to: me` (`others`, `nobody`), `recurring`, `subtask`.
 * Reads the one starting at `tokens[i]`; `taken` is the number of tokens it spans.
 */
export function readPhrase(tokens: readonly Token[], i: number): { node: FilterNode; taken: number } | undefined {
  const word = (k: number): string | undefined => {
    const t = tokens[i + k];
    return t?.type === "word" ? t.text.toLowerCase() : undefined;
  };
  const first = word(0);
  if (first === undefined) return undefined;
  if (first === "today" || first === "tomorrow" || first === "yesterday") return { node: { kind: "date", field: "due", op: "=", day: first }, taken: 1 };
  if (first === "overdue") return { node: { kind: "due", state: "overdue" }, taken: 1 };
  if (first === "no" && word(1) === "date") return { node: { kind: "due", state: "none" }, taken: 2 };
  if (first === "no" && word(1) === "due" && word(2) === "date") return { node: { kind: "due", state: "none" }, taken: 3 };
  if (first === "no" && word(1) === "labels") return { node: { kind: "tag", tag: null }, taken: 2 };
  if (first === "no" && word(1) === "time") return { node: { kind: "due", state: "all-day" }, taken: 2 };
  if (first === "assigned") return readAssignedTo(tokens, i);
  if (first === "recurring" || first === "subtask") return { node: { kind: "is", what: first }, taken: 1 };
  const skip = first === "next" ? 1 : 0;
  const span = daysSpan(word(skip), word(skip + 1));
  if (span) return { node: { kind: "date", field: "due", op: "=", day: span }, taken: skip + 2 };
  const field = Object.hasOwn(FIELD_WORDS, first) ? FIELD_WORDS[first] : undefined;
  const compare = /^(before|after):(.*)$/.exec(word(1) ?? "");
  if (field === undefined || !compare) return undefined;
  const op = compare[1] === "before" ? "<" : ">";
  const written = tokens[i + 1] as Token & { text: string };
  if (compare[2] !== "") return { node: dateTerm(field, op, written.text.slice(compare[1]!.length + 1), written.pos + compare[1]!.length + 1), taken: 2 };
  const days = spacedDay(tokens, i + 2);
  if (days) return { node: dateTerm(field, op, days.text, days.pos, days.len), taken: 2 + days.taken };
  const value = tokens[i + 2];
  if (value?.type !== "word") {
    throw new FilterSyntaxError(`"${first} ${compare[1]}:" needs a date after it, e.g. ${first} ${compare[1]}: friday`, tokens[i]!.pos, written.pos + written.len - tokens[i]!.pos);
  }
  return { node: dateTerm(field, op, value.text, value.pos), taken: 3 };
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
  for (const taken of [3, 2]) {
    const text = [0, 1, 2].slice(0, taken).map(word).join("-");
    if (isRelativeDay(text)) return read(text, taken);
  }
  const span = daysSpan(word(0), word(1));
  return span && read(span, 2);
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

/** `assigned to: me`, `assigned to:others`, `assigned to: bob`; `assigned` alone is a word to search for. */
function readAssignedTo(tokens: readonly Token[], i: number): { node: FilterNode; taken: number } | undefined {
  const to = tokens[i + 1];
  if (to?.type !== "word" || !/^to:/i.test(to.text)) return undefined;
  const glued = to.text.slice(3);
  const value = glued === "" ? tokens[i + 2] : to;
  const who = value?.type === "word" ? (glued || value.text).toLowerCase() : undefined;
  const node = who === undefined ? undefined : Object.hasOwn(ASSIGNED_TO, who) ? ASSIGNED_TO[who]!() : MEMBER_NAME.test(who) ? ({ kind: "assignee", who } as const) : undefined;
  if (!node) {
    const at = glued === "" && value ? value : to;
    throw new FilterSyntaxError('"assigned to:" takes me, others, nobody or a member (e.g. assigned to: me, assigned to: bob)', at.pos, at.len);
  }
  return { node, taken: glued === "" ? 3 : 2 };
}
