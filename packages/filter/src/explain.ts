import { daysAway, monthDay, MONTHS, nextDays, type Comparison, type FilterNode } from "./ast.js";
import { readPhrase } from "./phrases.js";
import { FilterSyntaxError } from "./errors.js";
import { tokenize } from "./lexer.js";
import { classifyWord } from "./parser.js";

/**
 * Canonical query text: `parseFilter(normalizeFilter(parseFilter(q)))` deep-equals
 * `parseFilter(q)`. Lower-case fields and values, upper-case AND / OR / NOT, no shorthands, and
 * only the parentheses that precedence needs (so it never nests deeper than the input did).
 */
export function normalizeFilter(node: FilterNode): string {
  switch (node.kind) {
    case "all":
      return "";
    case "and":
      return node.children.map((c) => (c.kind === "or" ? `(${normalizeFilter(c)})` : nested(c))).join(" AND ");
    case "or":
      return node.children.map(nested).join(" OR ");
    case "not":
      return `NOT ${node.child.kind === "and" || node.child.kind === "or" ? `(${normalizeFilter(node.child)})` : nested(node.child)}`;
    case "text":
      if (node.phrase) return quoted(node.value);
      // A word that reads as a term when bare (`today`, `@home`) is searched for as a word with `search:`.
      return isBareWord(node.value) ? node.value : isSearchWord(node.value) ? `search:${node.value}` : quoted(node.value);
    case "tag":
      // `#name` stays as written: it may name a project (resolveNames).
      return node.hash ? `#${node.tag}` : `tag:${node.tag ?? "none"}`;
    case "priority":
      return `priority${op(node.op)}${node.level}`;
    case "status":
      return `status:${node.status}`;
    case "date":
      return `${node.field}${op(node.op)}${node.day}`;
    case "moment":
      return `${node.field}${node.op}${node.hours > 0 ? `in-${node.hours}-hours` : `${-node.hours}-hours-ago`}`;
    case "due":
      return `due:${node.state}`;
    case "project":
    case "section":
      return `${node.kind}:${node.name}`;
    case "assignee":
    case "assigner":
      return `${node.kind}:${node.who}`;
    case "is":
      return `is:${node.what}`;
  }
}

// `all` only stands alone in parser output; elsewhere it is written as the equivalent status:all.
function nested(n: FilterNode): string {
  return n.kind === "all" ? "status:all" : normalizeFilter(n);
}

/** How the query was understood, in words; stable, for UIs and tests. */
export function explainFilter(node: FilterNode): string {
  switch (node.kind) {
    case "all":
      return "all tasks";
    case "and":
      return node.children.map((c) => (c.kind === "or" ? `(${explainFilter(c)})` : explainFilter(c))).join(" AND ");
    case "or":
      return node.children.map((c) => (c.kind === "and" ? `(${explainFilter(c)})` : explainFilter(c))).join(" OR ");
    case "not":
      return `NOT ${node.child.kind === "and" || node.child.kind === "or" ? `(${explainFilter(node.child)})` : explainFilter(node.child)}`;
    case "text":
      return `title/notes contain ${node.phrase ? "the phrase " : ""}${JSON.stringify(node.value)}`;
    case "tag":
      return node.tag === null ? "no tags" : `tag:${node.tag}`;
    case "priority":
      return `priority ${node.op} ${node.level}`;
    case "status":
      return node.status === "all" ? "any status" : `status = ${node.status}`;
    case "due":
      return { none: "no due date", any: "has a due date", overdue: "overdue", "all-day": "due on a date, no time" }[node.state];
    case "project":
    case "section":
      return `${node.kind} is ${JSON.stringify(node.name)}`;
    case "assignee":
    case "assigner":
      return `assigned ${node.kind === "assignee" ? "to" : "by"} ${node.who === "none" ? "nobody" : node.who}`;
    case "is":
      return { recurring: "repeats", subtask: "is a subtask", shared: "in a shared project" }[node.what];
    case "moment":
      return `${node.field} ${node.op === "<" ? "before" : "after"} ${node.hours > 0 ? `${counted(node.hours, "hour")} from now` : `${counted(-node.hours, "hour")} ago`}`;
    case "date": {
      const iso = /^\d{4}-\d{2}-\d{2}$/.test(node.day);
      const span = nextDays(node.day) !== undefined;
      const md = monthDay(node.day);
      const month = md && MONTHS[md.month - 1]!;
      const ahead = daysAway(node.day);
      const day = iso
        ? node.day
        : month
          ? `${month[0]!.toUpperCase()}${month.slice(1)} ${md.day}`
          : ahead !== undefined
            ? ahead > 0
              ? `${counted(ahead, "day")} from today`
              : `${counted(-ahead, "day")} ago`
            : node.day.replaceAll("-", " ");
      const when = {
        "=": iso || md ? `on ${day}` : span ? `in ${day}` : day,
        "<": `before ${day}`,
        "<=": `on or before ${day}`,
        ">": `after ${day}`,
        ">=": `on or after ${day}`,
      }[node.op];
      return `${node.field} ${when}`;
    }
  }
}

/** "1 day", "3 days". */
const counted = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

function op(o: Comparison): string {
  return o === "=" ? ":" : o;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;

/** True when `value` written bare reads back as exactly this word. */
function isBareWord(value: string): boolean {
  return readsAsWord(value, value);
}

/** True when `search:value` reads back as exactly this word. */
function isSearchWord(value: string): boolean {
  return readsAsWord(`search:${value}`, value);
}

function readsAsWord(written: string, value: string): boolean {
  try {
    const tokens = tokenize(written);
    const t = tokens[0];
    if (tokens.length !== 1 || t?.type !== "word" || t.text !== written) return false;
    const node = classifyWord(written, 0);
    return node.kind === "text" && !node.phrase && node.value === value && readPhrase(tokens, 0) === undefined;
  } catch (e) {
    if (e instanceof FilterSyntaxError) return false;
    throw e;
  }
}
