import { test } from "vitest";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseFilter, translateQuestion } from "@taskmesh/filter";
import { QUESTIONS } from "./question-corpus.js";

for (const [question, query] of QUESTIONS) {
  test(`question ${JSON.stringify(question)}`, () => {
    const translation = translateQuestion(question);
    assert.equal(translation.query, query);
    parseFilter(translation.query);
    assert.equal(translateQuestion(query).query, query, "the query, asked again, is itself");
  });
}

test("the corpus is large and has no question twice", () => {
  assert.ok(QUESTIONS.length >= 150, `${QUESTIONS.length} questions`);
  assert.equal(new Set(QUESTIONS.map(([q]) => q.toLowerCase())).size, QUESTIONS.length);
});

test("the explanation reads the query back and names the words searched as text", () => {
  assert.deepEqual(translateQuestion("what's overdue at home"), {
    query: "due:overdue tag:home",
    explanation: "Showing tasks where overdue AND tag:home",
    translated: true,
  });
  assert.deepEqual(translateQuestion("buy milk tomorrow"), {
    query: "buy milk due:tomorrow",
    explanation: 'Showing tasks where title/notes contain "buy" AND title/notes contain "milk" AND due tomorrow; not understood, so searched for in titles and notes: "buy", "milk"',
    translated: true,
  });
  assert.deepEqual(translateQuestion("call mom"), {
    query: "call mom",
    explanation: 'Showing tasks where title/notes contain "call" AND title/notes contain "mom"; not understood, so searched for in titles and notes: "call", "mom"',
    translated: false,
  });
  assert.deepEqual(translateQuestion("   "), { query: "", explanation: "all tasks", translated: false });
  assert.deepEqual(translateQuestion("show me everything"), { query: "", explanation: "Showing all tasks", translated: true });
});

test("terms the language reads without a word to search for mean the same asked as a question", () => {
  for (const typed of ["due: in 3 days", "shared", "assigned", "!assigned", "assigned by: me", "created before: -365 days", "due before: +4 hours", "date: next Monday", "friday", "p1 or p2"]) {
    const t = translateQuestion(typed);
    assert.deepEqual(parseFilter(t.query), parseFilter(typed), `${typed} read as ${t.query}`);
  }
});

test("a filter query is left as it is", () => {
  for (const query of [
    "#home !high due:today",
    "(#a OR #b) -#c",
    'project:"Home reno"',
    "tag:x AND NOT due:none",
    "due:2025-13-45 (broken",
    "status:open priority:urgent",
    "#nothing-here priority:urgent",
    "remind me staus:open",
    "##garden /raised-beds",
    "#work /meetings !high",
  ]) {
    const t = translateQuestion(query);
    assert.equal(t.query, query);
    assert.equal(t.translated, false);
    assert.match(t.explanation, /^Already a filter query/);
  }
});

// Questions glued from the translator's own vocabulary, the language's terms and random text.
// biome-ignore format: a table of short entries, several to a line
const PIECES = [
  "show", "me", "what's", "tasks", "work", "home", "high", "priority", "high-priority", "p1", "p5", "!2", "due", "before", "after", "by",
  "until", "since", "today", "tomorrow", "friday", "fri", "next", "last", "this", "week", "month", "7", "400", "0", "days", "weeks", "in",
  "project", "section", "Garden", "Home", "Reno", "\"Big plan\"", "\"", "tagged", "at", "@", "@home", "#x", "#", "tag:", "due:", "due<7d",
  "due.before:eow", "overdue", "no", "date", "without", "a", "not", "or", "and", "or or", "created", "finished", "did", "I", "finish",
  "open", "completed", "assigned", "to", "me", "unassigned", "inbox", "end", "of", "the", "eow", "2026-12-25", "2026-02-30", "?", ",", ":",
  "-", "—", "é", "İstanbul", "'", "’", "(", ")", "|", "&", "AND", "NOT", "next-7-days", "milk", "shared", "hours", "ago", "past", "-7",
];
const question = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((p) => p.join(" ")),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((p) => p.join("")),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

test("every translation of a question that is not already a query parses, and says how it was read", () => {
  fc.assert(
    fc.property(question, (q) => {
      const t = translateQuestion(q);
      assert.ok(t.explanation.length > 0);
      assert.deepEqual(translateQuestion(q), t, "the same question gives the same answer");
      if (t.explanation.startsWith("Already a filter query")) return;
      if (t.explanation.startsWith("Not understood:")) {
        assert.throws(() => parseFilter(q), "only a question the language refuses in any reading is passed on as it is");
        return;
      }
      const ast = parseFilter(t.query);
      const filters = /"kind":"(all|tag|priority|status|date|due|project|section|assignee|assigner|moment|is)"/.test(JSON.stringify(ast));
      if (q.trim() !== "") assert.equal(t.translated, filters, `translated says whether ${JSON.stringify(t.query)} is more than a text search`);
    }),
    { numRuns: Number(process.env.FILTER_FUZZ_RUNS ?? 3000) },
  );
});
