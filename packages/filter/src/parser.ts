import { FIELDS, IS_VALUES, MEMBER_NAME, PRIORITY_LEVELS, nameKey, type Comparison, type DateField, type FilterNode, type IsValue, type PriorityLevel } from "./ast.js";
import { pastDays, readPhrase, spacedDay } from "./phrases.js";
import { dateTerm } from "./date-term.js";
import { FilterSyntaxError, LIMITS } from "./errors.js";
import { tokenize, type Token } from "./lexer.js";

type Field = (typeof FIELDS)[number];
// Todoist writes a due as `date:` (`date: today`, `date before: friday`).
const ALIASES: Record<string, Field> = { tags: "tag", date: "due" };
/** `field:value`, `field>=value`, and Taskwarrior's `field.modifier:value` (`due.before:eow`). */
const FIELD_TERM = /^([A-Za-z_]+)(?:\.([A-Za-z]+))?(:|<=|>=|<|>|=)/;
const DATE_FIELDS: readonly string[] = ["due", "created", "updated", "completed"] satisfies DateField[];
/** Taskwarrior's attribute modifiers for dates, as the comparison they make. */
const MODIFIERS: Record<string, Comparison | "none" | "any" | "not"> = {
  before: "<",
  below: "<",
  under: "<",
  after: ">",
  above: ">",
  over: ">",
  by: "<=",
  is: "=",
  equals: "=",
  none: "none",
  any: "any",
  not: "not",
};
/** Todoist's priorities, as quick add reads them: p1 is high, p4 none. */
const TODOIST_PRIORITY = /^p([1-4])$/i;
/** Same alphabet as stored tags (task.proto), plus combining marks that lower-casing can produce. */
/** A tag name, or with `*` as Todoist's wildcard (`@home*`: any tag starting "home"). */
const TAG = /^[\p{L}\p{M}\p{N}_./*-]{1,64}$/u;

/**
 * Parses a filter query into its AST. Grammar (NOT binds tighter than AND, AND tighter than OR):
 *   query   := or?
 *   or      := and (("OR" | "|") and)*
 *   and     := unary (("AND" | "&")? unary)*
 *   unary   := ("NOT" | "!" | "-") unary | "(" or ")" | term
 */
export function parseFilter(query: string): FilterNode {
  if (query.length > LIMITS.maxLength) {
    throw new FilterSyntaxError(`the query is longer than ${LIMITS.maxLength} characters: shorten it`, LIMITS.maxLength, query.length - LIMITS.maxLength);
  }
  const nul = query.indexOf("\u0000");
  if (nul >= 0) throw new FilterSyntaxError("the query contains a NUL character (U+0000): remove it", nul, 1);
  const tokens = tokenize(query);
  if (tokens.length === 0) return { kind: "all" };
  return new Parser(query, tokens).parse();
}

class Parser {
  #i = 0;
  #terms = 0;

  constructor(
    private readonly input: string,
    private readonly tokens: Token[],
  ) {}

  parse(): FilterNode {
    const node = this.#or(0);
    const extra = this.#peek();
    if (extra) {
      // #or stops only before ')' or a binary operator that has nothing before it.
      throw extra.type === ")" ? at(extra, "unexpected ')': there is no '(' for it to close; remove it or add a '(' earlier") : at(extra, `unexpected ${describe(extra, this.input)}`);
    }
    return node;
  }

  #peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  #or(depth: number): FilterNode {
    const children = [this.#and(depth)];
    while (this.#peek()?.type === "or") {
      const op = this.tokens[this.#i++]!;
      if (!startsTerm(this.#peek())) {
        throw at(op, this.input[op.pos] === "," ? "',' needs a term after it, e.g. `today, overdue`" : "OR needs a term after it, e.g. `tag:home OR tag:work`");
      }
      children.push(this.#and(depth));
    }
    return children.length === 1 ? children[0]! : { kind: "or", children: children.flatMap((c) => (c.kind === "or" ? c.children : [c])) };
  }

  #and(depth: number): FilterNode {
    const children = [this.#unary(depth)];
    for (;;) {
      const next = this.#peek();
      if (next?.type === "and") {
        this.#i++;
        if (!startsTerm(this.#peek())) throw at(next, "AND needs a term after it, e.g. `tag:home AND due:today`");
      } else if (!startsTerm(next)) {
        break;
      }
      children.push(this.#unary(depth));
    }
    return children.length === 1 ? children[0]! : { kind: "and", children: children.flatMap((c) => (c.kind === "and" ? c.children : [c])) };
  }

  #unary(depth: number): FilterNode {
    const t = this.#peek();
    if (!t) throw new FilterSyntaxError("the query ends where a term was expected", this.input.length, 0);
    const past = this.input[t.pos] === "-" ? pastDays(this.tokens, this.#i) : undefined;
    if (past) {
      if (++this.#terms > LIMITS.maxTerms) throw at(t, `the query has more than ${LIMITS.maxTerms} terms: split it up`);
      this.#i += past.taken;
      return past.node;
    }
    if (t.type === "not") {
      this.#deeper(t, depth);
      this.#i++;
      if (!startsTerm(this.#peek())) throw at(t, `${t.len === 1 ? `'${this.input[t.pos]}'` : "NOT"} needs a term after it, e.g. \`NOT tag:work\` or \`-tag:work\``);
      const child = this.#unary(depth + 1);
      return child.kind === "not" ? child.child : { kind: "not", child };
    }
    if (t.type === "(") {
      this.#deeper(t, depth);
      this.#i++;
      if (this.#peek()?.type === ")") throw new FilterSyntaxError("empty parentheses: put a term inside them or remove them", t.pos, this.#peek()!.pos - t.pos + 1);
      const inner = this.#or(depth + 1);
      if (this.#peek()?.type !== ")") throw at(t, "unclosed parenthesis: add a ')' to close this '('");
      this.#i++;
      return inner;
    }
    if (t.type === "word" || t.type === "phrase" || t.type === "priority") {
      this.#i++;
      if (++this.#terms > LIMITS.maxTerms) throw at(t, `the query has more than ${LIMITS.maxTerms} terms: split it up`);
      const phrase = readPhrase(this.tokens, this.#i - 1);
      if (phrase) {
        this.#i += phrase.taken - 1;
        return phrase.node;
      }
      if (t.type === "priority") return { kind: "priority", op: "=", level: t.text as PriorityLevel };
      if (t.type === "phrase") {
        if (t.text.trim() === "") throw at(t, "empty quotes: put the words to search for between them, or remove them");
        return { kind: "text", value: t.text, phrase: true };
      }
      // `project:"Home reno"`: a quoted value right after the field; `created: today`, `search: milk`
      // (Todoist's habit): its value after a space.
      const value = this.#peek();
      const spaced = spacedField(t.text);
      const days = spaced && DATE_FIELDS.includes(spaced) ? spacedDay(this.tokens, this.#i) : undefined;
      if (days) {
        this.#i += days.taken;
        return dateTerm(spaced as DateField, "=", days.text, days.pos, days.len);
      }
      const glued = value?.type === "phrase" && t.text.endsWith(":") && value.pos === t.pos + t.len;
      if (value && (value.type === "word" || value.type === "phrase") && (glued || spaced !== undefined)) {
        if (t.text.toLowerCase() === "search:") {
          this.#i++;
          return { kind: "text", value: value.text, phrase: value.type === "phrase" };
        }
        const term = classifyWord(t.text + value.text, t.pos, glued ? undefined : value.type === "phrase" ? value.pos + 1 : value.pos);
        // A word that is no field (`http://a:"b c"`) stays a word, and the phrase after it a phrase.
        if (term.kind !== "text") {
          this.#i++;
          return term;
        }
      }
      const wordsOn = gluedDay(this.tokens, this.#i - 1);
      if (wordsOn) {
        this.#i += wordsOn.taken - 1;
        return wordsOn.node;
      }
      return classifyWord(t.text, t.pos);
    }
    const written = describe(t, this.input);
    throw at(t, `${written} needs a term before it, e.g. ${written === "','" ? "`today, overdue`" : `\`tag:home ${written} tag:work\``}`);
  }

  #deeper(t: Token, depth: number): void {
    if (depth >= LIMITS.maxDepth) throw at(t, `the query nests more than ${LIMITS.maxDepth} levels of parentheses and negations: simplify it`);
  }
}

function startsTerm(t: Token | undefined): boolean {
  return t !== undefined && t.type !== ")" && t.type !== "and" && t.type !== "or";
}

function at(t: Token, message: string): FilterSyntaxError {
  return new FilterSyntaxError(message, t.pos, t.len);
}

function describe(t: Token, input: string): string {
  switch (t.type) {
    case "and":
      return "AND";
    case "or":
      return input[t.pos] === "," ? "','" : "OR";
    case "not":
      return "NOT";
    case "(":
    case ")":
      return `'${t.type}'`;
    default:
      return JSON.stringify(t.text);
  }
}

/**
 * A date field with a day in words glued to it, as people type it: `due:next 7 days`, `date:Dec 20`,
 * `due<next week` (read as `due: Dec 20` is after a space). Only a value of several words is read
 * on: `due:friday 20` stays `due:friday` and a word to search for.
 */
function gluedDay(tokens: readonly Token[], i: number): { node: FilterNode; taken: number } | undefined {
  const t = tokens[i]!;
  const m = t.type === "word" ? /^([A-Za-z]+)(:|<=|>=|<|>)(.+)$/.exec(t.text) : null;
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  const field = name === "date" ? "due" : name;
  if (!DATE_FIELDS.includes(field)) return undefined;
  const head = m[1]!.length + m[2]!.length;
  const days = spacedDay([{ type: "word", text: m[3]!, pos: t.pos + head, len: t.len - head }, ...tokens.slice(i + 1)], 0);
  if (!days || days.taken < 2) return undefined;
  const op: Comparison = m[2] === ":" ? "=" : (m[2] as Comparison);
  return { node: dateTerm(field as DateField, op, days.text, days.pos, days.len), taken: days.taken };
}

/** The field a word names with its colon (`due:`, `date:`, or Todoist's `search:`), its value after a space. */
function spacedField(word: string): Field | "search" | undefined {
  const name = /^([A-Za-z_]+):$/.exec(word)?.[1]?.toLowerCase();
  if (name === undefined) return undefined;
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name];
  return name === "search" || (FIELDS as readonly string[]).includes(name) ? (name as Field | "search") : undefined;
}

/**
 * What a bare word means: a field term, `#tag`, Todoist's `@label`, or a word to search for. `pos` is
 * its offset for errors, and `at` its value's when a space comes between (`due: friday`).
 */
export function classifyWord(text: string, pos: number, at?: number): FilterNode {
  // Todoist's `##name`: the project with its subprojects, which are none here.
  if (text.startsWith("##")) {
    if (text.length === 2) throw new FilterSyntaxError('"##" needs a project name, e.g. ##home or project:home', pos, 2);
    // As project: takes it: a name with a letter or digit, which the canonical query writes back.
    if (!/[\p{L}\p{N}]/u.test(text)) throw new FilterSyntaxError(`"${text}" is not a project name: write ##home, or project:"two words"`, pos, text.length);
    return { kind: "project", name: nameKey(text.slice(2)) };
  }
  if (text.startsWith("#")) {
    const tag = tagValue(text.slice(1), pos + 1, "#");
    return tag === null ? { kind: "tag", tag } : { kind: "tag", tag, hash: true };
  }
  // `@` is also in addresses and handles people search for: only a valid tag name makes it a label.
  if (text.startsWith("@") && TAG.test(text.slice(1).toLowerCase())) return { kind: "tag", tag: tagValue(text.slice(1), pos + 1, "@") };
  const todoist = TODOIST_PRIORITY.exec(text);
  if (todoist) return { kind: "priority", op: "=", level: PRIORITY_LEVELS[4 - Number(todoist[1])]! };
  const m = FIELD_TERM.exec(text);
  if (!m) return { kind: "text", value: text, phrase: false };
  const name = m[1]!.toLowerCase();
  const field = (FIELDS as readonly string[]).includes(name) ? (name as Field) : Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  const rawOp = m[3]!;
  const value = text.slice(m[0].length);
  if (m[2] !== undefined) {
    // Dots in other words (`file.txt:3`) are text, as they always were.
    if (!DATE_FIELDS.includes(name)) return { kind: "text", value: text, phrase: false };
    return modified(name as DateField, m[2], rawOp, value, pos, m[0].length);
  }
  if (name === "search" && rawOp === ":") {
    if (value === "") throw new FilterSyntaxError('"search:" needs the words to search for, e.g. search: milk', pos, m[0].length);
    return { kind: "text", value, phrase: /\s/u.test(value) };
  }
  if (!field) {
    // `a<b`, `x=1` and URLs (`https://…`) are plain words; `foo:bar` is most likely a mistyped field.
    if (rawOp !== ":" || value.startsWith("//")) return { kind: "text", value: text, phrase: false };
    const hint = FIELDS.find((f) => name.length >= 3 && f.startsWith(name)) ?? FIELDS.find((f) => editDistance(f, name) <= 2);
    throw new FilterSyntaxError(
      `unknown field "${m[1]}:"${hint ? ` (did you mean "${hint}:"?)` : ""}: the fields are ${FIELDS.join(", ")}; to search for text containing ':' put it in quotes`,
      pos,
      m[0].length,
    );
  }
  const op: Comparison = rawOp === ":" ? "=" : (rawOp as Comparison);
  const valuePos = at ?? pos + m[0].length;
  const bad = (message: string) => new FilterSyntaxError(message, valuePos, Math.max(1, value.length));
  if (value === "") {
    const example = {
      tag: "tag:home",
      priority: "priority:high",
      status: "status:open",
      due: "due:today",
      created: "created>=2025-01-01",
      updated: "updated:today",
      completed: "completed:last-week",
      project: 'project:inbox or project:"Home reno"',
      section: "section:next",
      assignee: "assignee:me",
      assigner: "assigner:me",
      is: "is:recurring",
    }[field];
    throw new FilterSyntaxError(`"${m[0]}" needs a value, e.g. ${example}`, pos, m[0].length);
  }
  const lower = value.toLowerCase();
  switch (field) {
    case "tag":
      if (op !== "=") throw new FilterSyntaxError(`tags cannot be compared with "${rawOp}": write tag:name`, pos + m[1]!.length, rawOp.length);
      return { kind: "tag", tag: tagValue(value, valuePos, m[0]) };
    case "priority":
      if (!(PRIORITY_LEVELS as readonly string[]).includes(lower)) {
        throw bad(`unknown priority "${value}": use high, medium, low or none (e.g. priority:high or priority>=medium)`);
      }
      return { kind: "priority", op, level: lower as PriorityLevel };
    case "status": {
      if (op !== "=") throw new FilterSyntaxError(`status cannot be compared with "${rawOp}": write status:open, status:completed or status:all`, pos + m[1]!.length, rawOp.length);
      const status = lower === "done" ? "completed" : lower;
      if (status !== "open" && status !== "completed" && status !== "all") throw bad(`unknown status "${value}": use open, completed or all`);
      return { kind: "status", status };
    }
    case "project":
    case "section":
      if (op !== "=") throw new FilterSyntaxError(`${field}s cannot be compared with "${rawOp}": write ${field}:name`, pos + m[1]!.length, rawOp.length);
      if (!/[\p{L}\p{N}]/u.test(value)) throw bad(`"${value}" is not a ${field} name: write ${field}:name, or ${field}:"two words"`);
      return { kind: field, name: nameKey(value) };
    case "assignee":
    case "assigner": {
      const by = field === "assignee" ? "to" : "by";
      if (op !== "=" || !MEMBER_NAME.test(lower)) throw bad(`use ${field}:me (assigned ${by} you), ${field}:none (${by} nobody), or a member's e-mail or its part before the @ (${field}:bob)`);
      return { kind: field, who: lower };
    }
    case "is":
      if (op !== "=" || !(IS_VALUES as readonly string[]).includes(lower)) throw bad(`use is:recurring (repeating tasks), is:subtask (tasks with a parent) or is:shared (tasks of shared projects)`);
      return { kind: "is", what: lower as IsValue };
    default:
      return dateTerm(field, op, value, valuePos);
  }
}

/** `due.before:eow`, `due.none:`, `due.not:today`. */
function modified(field: DateField, modifier: string, rawOp: string, value: string, pos: number, length: number): FilterNode {
  const meaning = Object.hasOwn(MODIFIERS, modifier.toLowerCase()) ? MODIFIERS[modifier.toLowerCase()] : undefined;
  const valuePos = pos + length;
  if (meaning === undefined || rawOp !== ":") {
    throw new FilterSyntaxError(
      `"${field}.${modifier}${rawOp}" is not a date comparison: write ${field}.before:, .after:, .by:, .is:, .not:, .none: or .any: (e.g. ${field}.before:eow), or ${field}<…`,
      pos,
      length,
    );
  }
  if (meaning === "none" || meaning === "any") {
    if (value !== "") throw new FilterSyntaxError(`"${field}.${modifier}:" takes no value: write ${field}.${modifier}:`, valuePos, value.length);
    if (field !== "due") throw new FilterSyntaxError(`"${field}.${modifier}:" is not available: only a due can be missing; use a date such as ${field}:today`, pos, length);
    return { kind: "due", state: meaning };
  }
  if (value === "") throw new FilterSyntaxError(`"${field}.${modifier}:" needs a date after it, e.g. ${field}.${modifier}:eow`, pos, length);
  if (meaning === "not") return { kind: "not", child: dateTerm(field, "=", value, valuePos) };
  return dateTerm(field, meaning, value, valuePos);
}

function tagValue(raw: string, pos: number, written: string): string | null {
  const tag = raw.toLowerCase();
  if (tag === "none") return null;
  if (!TAG.test(tag)) {
    throw new FilterSyntaxError(
      raw === "" ? `"${written}" needs a tag name, e.g. #home or tag:home` : `"${raw}" is not a tag name: tags are 1-64 letters, digits, '-', '_', '.' or '/' (and '*' matches any of them)`,
      raw === "" ? pos - written.length : pos,
      raw === "" ? written.length : raw.length,
    );
  }
  return tag;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
