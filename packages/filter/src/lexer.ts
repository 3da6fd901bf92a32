import { FilterSyntaxError } from "./errors.js";

export type Token =
  | { type: "(" | ")" | "and" | "or" | "not"; pos: number; len: number }
  /** word: a bare word (maybe a field term); phrase: the unescaped text between quotes; priority: `!high` shorthand (text = level). */
  | { type: "word" | "phrase" | "priority"; text: string; pos: number; len: number };

const SPACE = /\s/u;
/** Characters that end a bare word. */
export function isBreak(c: string): boolean {
  return SPACE.test(c) || c === "(" || c === ")" || c === '"' || c === "&" || c === "|";
}
/**
 * A comma that ends a word or stands alone separates Todoist's lists (`today, overdue`), which one
 * list shows together: an OR. A comma inside a word (`1,000`) is part of it; one at the end, as
 * the next list is being typed, separates nothing.
 */
function separates(input: string, i: number): boolean {
  if (input[i] !== ",") return false;
  const next = input[commasEnd(input, i)];
  return next === undefined || isBreak(next);
}
/** The index after the run of commas that starts at `i`. */
function commasEnd(input: string, i: number): number {
  while (input[i] === ",") i++;
  return i;
}
/** `!high`, `!medium`, `!low` as a whole word; any other `!` negates. */
const SHORTHAND = /!(high|medium|low)(?=$|[\s()"&|])/iuy;

/** A leading `-` negates what directly follows it (`-tag:work`, `-(…)`, `-"…"`); a lone `-` is a word. */
function negates(next: string | undefined): boolean {
  return next !== undefined && (!isBreak(next) || next === "(" || next === '"');
}

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (SPACE.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ type: c, pos: i, len: 1 });
      i++;
    } else if (separates(input, i)) {
      const end = commasEnd(input, i);
      if (input.slice(end).trim() !== "") tokens.push({ type: "or", pos: i, len: end - i });
      i = end;
    } else if (c === "&" || c === "|") {
      const len = input[i + 1] === c ? 2 : 1; // `&&` and `||` too
      tokens.push({ type: c === "&" ? "and" : "or", pos: i, len });
      i += len;
    } else if (c === '"') {
      const start = i++;
      let text = "";
      while (i < input.length && input[i] !== '"') {
        if (input[i] === "\\" && i + 1 < input.length) i++;
        text += input[i++];
      }
      if (i >= input.length) {
        throw new FilterSyntaxError('unclosed quote: add a closing " to end the phrase (write \\" for a quote inside it)', start, input.length - start);
      }
      i++;
      tokens.push({ type: "phrase", text, pos: start, len: i - start });
    } else if (c === "!") {
      SHORTHAND.lastIndex = i;
      const m = SHORTHAND.exec(input);
      if (m) {
        tokens.push({ type: "priority", text: m[1]!.toLowerCase(), pos: i, len: m[0].length });
        i += m[0].length;
      } else {
        tokens.push({ type: "not", pos: i, len: 1 });
        i++;
      }
    } else if (c === "-" && negates(input[i + 1])) {
      tokens.push({ type: "not", pos: i, len: 1 });
      i++;
    } else {
      const start = i;
      while (i < input.length && !isBreak(input[i]!) && !separates(input, i)) i++;
      const text = input.slice(start, i);
      const keyword = text.toLowerCase();
      if (keyword === "and" || keyword === "or" || keyword === "not") tokens.push({ type: keyword, pos: start, len: text.length });
      else tokens.push({ type: "word", text, pos: start, len: text.length });
    }
  }
  return tokens;
}
