import { hasTerm, isSectionWord, type FilterNode } from "./ast.js";
import { FilterSyntaxError } from "./errors.js";
import { explainFilter, normalizeFilter } from "./explain.js";
import { parseFilter } from "./parser.js";
import { FILLER, NOUN, RULES, TAG_BEFORE_NOUN, type State, type Term } from "./question-rules.js";

export interface Translation {
  /** A filter query (`due:overdue tag:home`); the question itself when it already was one. */
  query: string;
  /** How the question was read, in words, including the words searched as text. */
  explanation: string;
  /** Some part of the question became a filter term, or it asked for everything (false: the query is a text search of its words, or the question was already a query). */
  translated: boolean;
}

/**
 * Reads a plain-English question ("what's overdue at home", "high priority tasks in project
 * Garden") as a filter query, by fixed rules: the same question always gives the same query.
 * Days stay the language's relative words (`due:friday`), which the server resolves in the
 * user's time zone. Words it does not know stay in the query as a text search.
 */
export function translateQuestion(text: string): Translation {
  const question = text.trim();
  if (question === "") return { query: "", explanation: "all tasks", translated: false };
  if (isFilterQuery(question)) return { query: question, explanation: alreadyQuery(question), translated: false };
  // Terms the language reads without a word to search for (`p1`, `due: in 3 days`, `shared`) mean
  // what they mean to every other client: shown in the language's own spelling.
  if (allTerms(question)) {
    const ast = parseFilter(question);
    return { query: normalizeFilter(ast), explanation: explain(ast, { terms: [], searched: [], notes: [] }), translated: true };
  }
  const reading = read(question);
  const query = reading.terms.join(" ");
  try {
    const ast = parseFilter(query);
    // Nothing but filler ("show me everything") is all tasks, not a search for those words.
    return { query, explanation: explain(ast, reading), translated: ast.kind === "all" || !textOnly(ast) };
  } catch (e) {
    // Only text the filter language refuses anywhere (a NUL, over the length limit) gets here:
    // the question goes on as it is, for the list to point at the mistake.
    if (e instanceof FilterSyntaxError) return { query: question, explanation: `Not understood: ${e.message}`, translated: false };
    throw e;
  }
}

// ---- reading ----------------------------------------------------------------------------------

interface Reading {
  terms: string[];
  /** Words kept as a text search. */
  searched: string[];
  notes: string[];
}

function read(question: string): Reading {
  // Plain apostrophes, and punctuation that ends a word blanked out (offsets stay the question's).
  const original = question.replace(/[’‘]/g, "'").replace(/[?.!,;:]+(?=\s|$)/gu, (p) => " ".repeat(p.length));
  const reading: Reading = { terms: [], searched: [], notes: [] };
  const state: State = { field: "due", negate: false, or: false };
  const add = (term: Term): void => {
    let text = typeof term === "string" ? term : term.term;
    if (typeof term !== "string" && !reading.notes.includes(term.note)) reading.notes.push(term.note);
    if (state.negate) text = `-${text}`;
    const last = reading.terms.at(-1);
    if (state.or && last !== undefined) reading.terms[reading.terms.length - 1] = `(${last.replace(/^\((.*)\)$/, "$1")} OR ${text})`;
    else reading.terms.push(text);
    state.negate = false;
    state.or = false;
  };
  let i = 0;
  while (i < original.length) {
    if (/\s/.test(original[i]!)) {
      i++;
      continue;
    }
    const closing = original[i] === '"' ? original.indexOf('"', i + 1) : -1;
    if (closing > i + 1 && original.slice(i + 1, closing).trim() !== "") {
      const value = original.slice(i + 1, closing);
      reading.searched.push(value);
      add(normalizeFilter({ kind: "text", value, phrase: true }));
      i = closing + 1;
      continue;
    }
    const end = wordEnd(original, i);
    const word = original.slice(i, end).toLowerCase();
    const syntax = filterTerm(original.slice(i, end));
    if (syntax) {
      add(syntax);
      i = end;
      continue;
    }
    const rule = matchRule(original, i, state);
    if (rule) {
      for (const t of rule.terms) add(t);
      i = rule.end;
      continue;
    }
    const tags = FILLER.has(word) ? null : TAG_BEFORE_NOUN.exec(original.slice(i));
    // "work and home tasks" are the tasks of either.
    const names = tags ? tags[1]!.toLowerCase().split(/\s+(?:or|and)\s+/) : [];
    const tagTerm = names.length === 1 ? `tag:${names[0]}` : `(${names.map((n) => `tag:${n}`).join(" OR ")})`;
    if (tags && filterTerm(tagTerm) !== undefined) {
      add(tagTerm);
      i += tags[1]!.length;
      continue;
    }
    if (!FILLER.has(word) && !NOUN.test(word)) {
      const value = original.slice(i, end);
      reading.searched.push(value);
      // Quoted when a rule reads it on its own ("friday" after "completed"), so the query asked again is itself.
      const alone = matchRule(value, 0, { field: "due", negate: false, or: false });
      add(normalizeFilter({ kind: "text", value, phrase: alone !== undefined }));
    }
    i = end;
  }
  // "completed:last-week" says the status already.
  if (reading.terms.some((t) => t.startsWith("completed"))) reading.terms = reading.terms.filter((t) => t !== "status:completed");
  return reading;
}

function matchRule(text: string, at: number, state: State): { terms: Term[]; end: number } | undefined {
  for (const rule of RULES) {
    rule.pattern.lastIndex = at;
    const m = rule.pattern.exec(text);
    if (!m) continue;
    const before = { ...state };
    const out = rule.apply(m, state);
    const terms = out === undefined || out === null ? [] : Array.isArray(out) ? out : [out];
    // A term the language refuses ("due:2026-02-30") means the words were not this rule's either.
    if (out === null || !terms.every((t) => filterTerm(typeof t === "string" ? t : t.term) !== undefined)) {
      Object.assign(state, before);
      continue;
    }
    return { terms, end: at + m[0].length };
  }
  return undefined;
}

/** A word written in the filter language itself (`#home`, `due<7d`, `!high`, `search:today`): kept as it is. */
function filterTerm(word: string): string | undefined {
  if (!/[:#<>=!]/.test(word)) return undefined;
  try {
    const node = parseFilter(word);
    return node.kind === "text" && !/^search:/i.test(word) ? undefined : normalizeFilter(node);
  } catch (e) {
    if (e instanceof FilterSyntaxError) return undefined;
    throw e;
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function wordEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && !/\s/.test(text[i]!)) i++;
  return i;
}

/**
 * Filter syntax already: operators and grouping, every word a field term, a field term with a
 * mistake, or Todoist's lists separated by commas (`today, overdue`, `p1, p2`), each all terms.
 */
function isFilterQuery(text: string): boolean {
  if (/[()|&]|:"|\b(AND|OR|NOT)\b/.test(text)) return true;
  if (/,(\s|$)/.test(text) && text.split(/,(?:\s+|$)/).every(allTerms)) return true;
  const words = text.split(/\s+/);
  return words.some(mistakenFieldTerm) || words.every((w) => (/[:#<>=]|^!/.test(w) && filterTerm(w) !== undefined) || isSectionWord(w));
}

/**
 * `priority:urgent`, `staus:open`: written as a field term and refused by the language. Read as
 * words, it would become a quiet text search; the list points at the mistake instead.
 */
function mistakenFieldTerm(word: string): boolean {
  if (!/^-?\p{L}[\p{L}\d_.]*:[^\s/]/u.test(word)) return false;
  try {
    parseFilter(word);
    return false;
  } catch (e) {
    if (e instanceof FilterSyntaxError) return true;
    throw e;
  }
}

/** Parses to terms only, no word to search for (`today`, `#work`, `p1`); an empty part too. */
function allTerms(text: string): boolean {
  try {
    return !hasTerm(parseFilter(text), (t) => t.kind === "text");
  } catch (e) {
    if (e instanceof FilterSyntaxError) return false;
    throw e;
  }
}

/** Nothing but a text search. */
function textOnly(n: FilterNode): boolean {
  if (n.kind === "and" || n.kind === "or") return n.children.every(textOnly);
  if (n.kind === "not") return textOnly(n.child);
  return n.kind === "text";
}

function alreadyQuery(query: string): string {
  try {
    return `Already a filter query: ${explainFilter(parseFilter(query))}`;
  } catch (e) {
    if (e instanceof FilterSyntaxError) return `Already a filter query, with a mistake: ${e.message}`;
    throw e;
  }
}

function explain(ast: FilterNode, reading: Reading): string {
  const parts = [ast.kind === "all" ? "all tasks" : `tasks where ${explainFilter(ast)}`];
  if (reading.searched.length > 0) parts.push(`not understood, so searched for in titles and notes: ${reading.searched.map((w) => JSON.stringify(w)).join(", ")}`);
  parts.push(...reading.notes);
  return `Showing ${parts.join("; ")}`;
}
