import { test } from "vitest";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FilterSyntaxError,
  LIMITS,
  PRIORITY_LEVELS,
  PRIORITY_RANK,
  RELATIVE_DAYS,
  STATUS_CODE,
  compileFilterToSql,
  explainFilter,
  normalizeFilter,
  parseFilter,
  type Comparison,
  type FilterNode,
  type IsoDate,
} from "@taskmesh/filter";

const CTX = { now: new Date("2025-03-30T10:00:00Z"), timeZone: "Europe/Berlin", placeholder: (i: number) => `$${i}` };
const RUNS = { numRuns: Number(process.env.FILTER_FUZZ_RUNS ?? 2000) };

// ---- generators ------------------------------------------------------------------------------

const HOSTILE = ["'", '"', ";", "\\", "--", "/*", "*/", "%", "_", "$1", "?", "'); DROP TABLE tasks; --", "\u0000", "\n", "é", "🙂", "\ud800", " "];
const hostileString = fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "binary", maxLength: 4 })), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(""));

const BARE_CHARS = [..."abcxyzABCXYZ0189üßé._%'\\;/*$?,", "'"];
// A comma that ends a word separates lists: no bare word ends with one.
const bareWord = fc.string({ unit: fc.constantFrom(...BARE_CHARS), minLength: 1, maxLength: 8 }).filter((w) => !/^(and|or|not)$/i.test(w) && !w.endsWith(","));
const tagName = fc.string({ unit: fc.constantFrom(..."abz09_./-üß"), minLength: 1, maxLength: 10 }).filter((t) => t !== "none");
const op = fc.constantFrom<Comparison>("=", "<", "<=", ">", ">=");
const nextDays = fc.integer({ min: 1, max: 366 }).map((n) => `next-${n}-days` as const);
const countedDays = fc.oneof(
  fc.integer({ min: 1, max: 3660 }).map((n) => `in-${n}-days` as const),
  fc.integer({ min: 1, max: 3660 }).map((n) => `${n}-days-ago` as const),
  fc.constantFrom("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday").map((d) => `next-${d}` as const),
);
const member = fc.constantFrom("me", "none", "bob", "bob@example.com", "o'neil");
const isoDate = fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2199-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10) as IsoDate);

function leaf(text: fc.Arbitrary<string>, phrase: fc.Arbitrary<string>, tag: fc.Arbitrary<string>): fc.Arbitrary<FilterNode> {
  return fc.oneof(
    text.map((value): FilterNode => ({ kind: "text", value, phrase: false })),
    phrase.filter((v) => v.trim() !== "").map((value): FilterNode => ({ kind: "text", value, phrase: true })),
    fc.option(tag, { nil: null }).map((t): FilterNode => ({ kind: "tag", tag: t })),
    fc.record({ op, level: fc.constantFrom(...PRIORITY_LEVELS) }).map((r): FilterNode => ({ kind: "priority", ...r })),
    fc.constantFrom("open", "completed", "all").map((status): FilterNode => ({ kind: "status", status })),
    fc
      .record({ field: fc.constantFrom("due", "created", "updated", "completed"), op, day: fc.oneof(fc.constantFrom(...RELATIVE_DAYS), nextDays, countedDays, isoDate) })
      .map((r): FilterNode => ({ kind: "date", ...r })),
    fc
      .record({ field: fc.constantFrom("due", "created", "updated", "completed"), op: fc.constantFrom<"<" | ">">("<", ">"), hours: fc.integer({ min: -8784, max: 8784 }).filter((h) => h !== 0) })
      .map((r): FilterNode => ({ kind: "moment", ...r })),
    fc.record({ kind: fc.constantFrom<"assignee" | "assigner">("assignee", "assigner"), who: member }).map(({ kind, who }): FilterNode => ({ kind, who })),
    fc.constantFrom("recurring", "subtask", "shared").map((what): FilterNode => ({ kind: "is", what })),
    fc.constantFrom("none", "any", "overdue", "all-day").map((state): FilterNode => ({ kind: "due", state })),
  );
}

/** Trees in the canonical shape parseFilter produces (flattened and/or, no double negation). */
function tree(leaves: fc.Arbitrary<FilterNode>): fc.Arbitrary<FilterNode> {
  return fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 5, depthSize: "small" },
      leaves,
      fc.array(tie("node"), { minLength: 2, maxLength: 4 }).map((cs): FilterNode => ({ kind: "and", children: cs.flatMap((c) => (c.kind === "and" ? c.children : [c])) })),
      fc.array(tie("node"), { minLength: 2, maxLength: 4 }).map((cs): FilterNode => ({ kind: "or", children: cs.flatMap((c) => (c.kind === "or" ? c.children : [c])) })),
      tie("node").map((c): FilterNode => (c.kind === "not" ? c.child : { kind: "not", child: c })),
    ),
  })).node;
}

const validTree = tree(
  leaf(
    bareWord,
    fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((s) => !s.includes("\u0000")),
    tagName,
  ),
);
const hostileTree = tree(leaf(bareWord, hostileString, tagName));

/** Queries made of the language's own pieces, glued in random order: mostly near-misses. */
// biome-ignore format: a table of short entries, several to a line
const FRAGMENTS = [
  "(", ")", '"', "\\", " ", " ", "AND", "or", "NOT", "&", "|", "!", "-", "#", ":", "tag:", "tags:", "priority", "priority>=",
  "!high", "status:", "due:", "due<", "due:before:", "created>=", "updated:", "today", "next-7-days", "2025-02-30", "2025-01-31",
  "none", "high", "urgent", "foo:", "x", "milk", "é", "\ud83d", "'", ";", "%", "no", "date", "next", "7", "days", "before:", "due.",
  ".before:", "eow", "7d", "friday", "this-month", "completed", "constructor", "__proto__", "toString", "constructor:",
];
const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(""));
const anyQuery = fc.oneof(soup, fc.string({ unit: "binary", maxLength: 120 }), fc.string({ maxLength: 120 }));

// ---- checks ----------------------------------------------------------------------------------

// biome-ignore format: a table of short entries, several to a line
const ALLOWED_SQL = new Set([
  "TRUE", "AND", "OR", "NOT", "IS", "NULL", "search", "search_text", "to_tsquery", "'tasks.folded'", ".", ":", "LIKE", "tasks", "search_folded", "symbol_query", "tag_text", "tags", "ARRAY",
  "::text[]", "'{}'", "coalesce", "recurrence", "parent_id", "'infinity'", "timestamptz", "priority", "status", "due_at", "created_at", "updated_at", "completed_at", "due_date", "CASE", "WHEN", "THEN", "ELSE", "END", "project_id", "ANY", "uuid", "assignee_id", "assigned_by",
  "EXISTS", "SELECT", "FROM", "unnest", "AS", "g", "tag", "WHERE", "1",
  "(", ")", ",", "[", "]", "=", "<", ">", "<=", ">=", "@@", "@>", "||",
  // The codes of priorities and statuses, written in (one digit each).
  ...[...Object.values(PRIORITY_RANK), ...Object.values(STATUS_CODE)].map(String),
]);

/** The SQL is made only of the compiler's own vocabulary plus placeholders $first..$first+n-1, each once, in order. */
function assertSafeSql(sql: string, params: unknown[], first: number): void {
  const TOKEN = /\$\d+|'[^']*'|[A-Za-z_]+|::text\[\]|@@|@>|\|\||<=|>=|\S/g;
  const tokens = sql.match(TOKEN) ?? [];
  assert.match(sql.replace(TOKEN, ""), /^ *$/);
  const placeholders = tokens.filter((t) => t.startsWith("$"));
  assert.deepEqual(
    placeholders,
    params.map((_, i) => `$${first + i}`),
  );
  for (const t of tokens) if (!t.startsWith("$")) assert.ok(ALLOWED_SQL.has(t), `unexpected SQL token ${JSON.stringify(t)} in ${sql}`);
}

function check(query: string): void {
  let ast: FilterNode;
  try {
    ast = parseFilter(query);
  } catch (e) {
    if (!(e instanceof FilterSyntaxError)) throw e;
    assert.ok(e.position >= 0 && e.length >= 0 && e.position + e.length <= query.length, `${e.position}+${e.length} within ${query.length}`);
    assert.ok(e.message.length > 10);
    return;
  }
  explainFilter(ast);
  const { sql, params } = compileFilterToSql(ast, CTX);
  assertSafeSql(sql, params, 1);
  const text = normalizeFilter(ast);
  if (text.length <= LIMITS.maxLength) assert.deepEqual(parseFilter(text), ast, `re-parse of ${JSON.stringify(text)}`);
}

test("any input either parses or throws a FilterSyntaxError that points inside the query", () => {
  fc.assert(fc.property(anyQuery, check), RUNS);
});

test("every prefix of a valid query either parses or throws a FilterSyntaxError", () => {
  fc.assert(
    fc.property(validTree, (ast) => {
      const text = normalizeFilter(ast);
      for (let i = 0; i <= text.length; i += Math.max(1, Math.floor(text.length / 20))) check(text.slice(0, i));
    }),
    { numRuns: 300 },
  );
});

function terms(n: FilterNode): number {
  return n.kind === "and" || n.kind === "or" ? n.children.reduce((s, c) => s + terms(c), 0) : n.kind === "not" ? terms(n.child) : 1;
}

test("round trip: parseFilter(normalizeFilter(ast)) deep-equals ast", () => {
  fc.assert(
    fc.property(validTree, (ast) => {
      const text = normalizeFilter(ast);
      fc.pre(text.length <= LIMITS.maxLength && terms(ast) <= LIMITS.maxTerms);
      assert.deepEqual(parseFilter(text), ast, `query ${JSON.stringify(text)}`);
      assert.equal(normalizeFilter(parseFilter(text)), text);
    }),
    RUNS,
  );
  assert.deepEqual(parseFilter(normalizeFilter({ kind: "all" })), { kind: "all" });
});

test("compiled SQL never contains user text; placeholders match params one to one", () => {
  fc.assert(
    fc.property(hostileTree, fc.integer({ min: 1, max: 50 }), (ast, first) => {
      const out = compileFilterToSql(ast, { ...CTX, firstIndex: first });
      assertSafeSql(out.sql, out.params, first);
      const q = compileFilterToSql(ast, { ...CTX, placeholder: () => "?" });
      assert.equal(q.sql.split("?").length - 1, q.params.length);
      assert.deepEqual(q.params, out.params);
    }),
    RUNS,
  );
});

test("hostile text reaches the database only as parameters, with LIKE wildcards escaped", () => {
  fc.assert(
    fc.property(
      hostileString.filter((s) => s.trim() !== ""),
      (value) => {
        const { sql, params } = compileFilterToSql({ kind: "text", value, phrase: true }, CTX);
        assertSafeSql(sql, params, 1);
        const like = params.at(-1) as string;
        assert.equal(like.slice(1, -1).replace(/\\(.)/gs, "$1"), value);
        assert.ok(!/(^|[^\\])(\\\\)*[%_]/.test(like.slice(1, -1)), `unescaped wildcard in ${JSON.stringify(like)}`);
        if (params.length === 2) assert.match(params[0] as string, /^[\p{L}\p{M}\p{N}]+( <-> [\p{L}\p{M}\p{N}]+)*$/u);
      },
    ),
    RUNS,
  );
});
