import { Temporal } from "temporal-polyfill";
import { COUNTED_HINT, fullWeekday, hoursAway, isRelativeDay, nextDays, RELATIVE_DAYS, type Comparison, type DateField, type FilterNode, type IsoDate, type RelativeDay } from "./ast.js";
import { FilterSyntaxError } from "./errors.js";

/**
 * A date term's value (`today`, `before:friday`, `2025-01-31`, `eow`, `7d`), compared with `op`.
 * `value` is as written, or read from words (`Dec 20` as `dec-20`); `valuePos` its offset in the
 * query and `written` its length there, for errors.
 */
export function dateTerm(field: DateField, op: Comparison, value: string, valuePos: number, written = value.length): FilterNode {
  let day = fullWeekday(value.toLowerCase());
  let dayPos = valuePos;
  const prefixed = op === "=" ? /^(before|after):/.exec(day) : null;
  if (prefixed) {
    op = prefixed[1] === "before" ? "<" : ">";
    day = day.slice(prefixed[0].length);
    dayPos += prefixed[0].length;
    if (day === "") throw new FilterSyntaxError(`"${field}:${prefixed[0]}" needs a date after it, e.g. ${field}:${prefixed[0]}2025-01-31`, valuePos, value.length);
  }
  const bad = (message: string) => new FilterSyntaxError(message, dayPos, written - (dayPos - valuePos));
  if (day === "overdue" || day === "none" || day === "any" || day === "all-day") {
    if (field === "completed") throw bad(`completed:${day} is not available: use status:open or status:completed, or a date such as completed:today`);
    if (field !== "due") throw bad(`${field}:${day} is not available: every task has a ${field} time; use a date such as ${field}:today`);
    if (op !== "=") throw bad(`due:${day} cannot be combined with a comparison: write due:${day}`);
    return { kind: "due", state: day };
  }
  const hours = hoursAway(day);
  if (hours !== undefined) {
    if (op === "=") throw bad(`${field}:${day} is an instant, not a day: compare with it, e.g. ${field}<${day} or ${field}>${day}`);
    return { kind: "moment", field, op: op === "<" || op === "<=" ? "<" : ">", hours };
  }
  if (isRelativeDay(day)) return { kind: "date", field, op, day: day satisfies RelativeDay };
  const iso = isoDate(day);
  if (iso) return { kind: "date", field, op, day: iso };
  const instant = instantWord(day, op);
  if (instant === "out of range") throw bad(`"${day}" is too far: durations run from 1d to 366d (or 1w to 52w)`);
  if (instant) return { kind: "date", field, ...instant };
  const words = `${RELATIVE_DAYS.join(", ")}, next-N-days, N-days-ago, in-N-days, N-hours-ago, in-N-hours, eod, eow, eom, 7d, 2w${field === "due" && !prefixed && op === "=" ? ", overdue, none, any, all-day" : ""}`;
  if (/^[+-]\d+$/.test(day)) throw bad(`"${day}" counts from now: ${COUNTED_HINT}`);
  const what = /^(\d{4}-\d{2}-\d{2}|[a-z]{3}-\d{1,2})$/.test(day) ? `a valid date ("${day}" does not exist)` : `a date, not "${day}"`;
  throw bad(`${field} needs ${what}: use YYYY-MM-DD (e.g. 2025-01-31), a month's day (dec-20 or Dec 20) or one of ${words}`);
}

const ENDS = { eod: "today", eow: "this-week", eom: "this-month" } as const;

/**
 * Taskwarrior's instants as whole days: the end of today, this week or this month (`eod`, `eow`,
 * `eom`), or N days or weeks from now (`7d`, `2w`). Before or by an end is up to its last day,
 * `due:eow` included (due by then); before N days from now is up to the day before that day,
 * and `due:7d` is due within the next 7 days.
 */
function instantWord(word: string, op: Comparison): { op: Comparison; day: RelativeDay } | "out of range" | undefined {
  const after = op === ">" || op === ">=";
  if (Object.hasOwn(ENDS, word)) return { op: after ? ">" : "<=", day: ENDS[word as keyof typeof ENDS] };
  const span = /^(\d{1,4})([dw])$/.exec(word);
  if (!span) return undefined;
  const day = `next-${Number(span[1]) * (span[2] === "w" ? 7 : 1)}-days`;
  if (nextDays(day) === undefined) return "out of range";
  return { op: after ? ">" : op === "=" ? "=" : "<=", day: day as RelativeDay };
}

function isoDate(text: string): IsoDate | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  try {
    return Temporal.PlainDate.from(text, { overflow: "reject" }).toString() as IsoDate;
  } catch {
    return undefined;
  }
}
