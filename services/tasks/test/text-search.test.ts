// A text term with a symbol that makes it what it is ("C++", "C#", "100%", "a<b") finds the tasks
// that contain it as written, not every task with a word starting like it, also inside what the
// full-text parser reads as one word (an address, a number); other punctuation ("e-mail", "it's")
// still lets its words match in any order and form.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { tasksUnderTest } from "./fixtures.js";

const as = (user: string) => ({ headers: { "x-user-id": user, "x-time-zone": "UTC" } });

describe("text search", () => {
  const service = tasksUnderTest({
    storedBefore: {
      migration: "Migration20261206160000_symbol_search",
      sql: `INSERT INTO tasks.tasks (id, user_id, title, notes, created_at, updated_at) VALUES
         ('00000000-0000-4000-8000-000000000001', 'before-symbols', 'Port the C++ parser', 'then the C# one', now(), now())`,
    },
  });
  const found = async (query: string) => (await service.tasks.listTasks({ query, orderBy: "title" }, as("searcher"))).tasks.map((t) => t.title);

  test("a term with a symbol matches as written; words joined by other punctuation still match as words", async () => {
    const titles = [
      "C++ refactor",
      "C# tests",
      "Call mom",
      "100% done",
      "1000 things",
      "if a<b swap",
      "Email Bob",
      "e-mail Alice",
      "it's late",
      "Got an A+",
      "Pay $1000 rent",
      "libc++ upgrade",
      "Pay $1.50 fee",
      "Mail bob@example.com",
    ];
    for (const title of titles) await service.tasks.createTask({ title }, as("searcher"));
    assert.deepEqual(await found("C++"), ["C++ refactor", "libc++ upgrade"]);
    assert.deepEqual(await found("A+"), ["Got an A+"], "a stop word with a symbol");
    assert.deepEqual(await found("$100"), ["Pay $1000 rent"]);
    assert.deepEqual(await found("$1.5"), ["Pay $1.50 fee"], "in a number the full-text parser reads whole");
    assert.deepEqual(await found("bob@ex"), ["Mail bob@example.com"], "in an address the full-text parser reads whole");
    assert.deepEqual(await found("c#"), ["C# tests"]);
    assert.deepEqual(await found("100%"), ["100% done"]);
    assert.deepEqual(await found("a<b"), ["if a<b swap"]);
    assert.deepEqual(await found("100"), ["100% done", "1000 things", "Pay $1000 rent"]);
    assert.deepEqual(await found("e-mail"), ["e-mail Alice"]);
    assert.deepEqual(await found("mail alice"), ["e-mail Alice"]);
    assert.deepEqual(await found("it's"), ["it's late"]);
    assert.deepEqual(await found("+"), ["C++ refactor", "Got an A+", "libc++ upgrade"], "a symbol alone");
    assert.deepEqual(await found("c+"), ["C++ refactor", "libc++ upgrade"]);
    assert.deepEqual(await found('"++ r"'), ["C++ refactor"], "a phrase across a blank");
  });

  test("a task stored before the symbols' neighbourhoods were indexed is found by its symbols", async () => {
    const search = async (query: string) => (await service.tasks.listTasks({ query }, as("before-symbols"))).tasks.map((t) => t.title);
    assert.deepEqual(await search("c++"), ["Port the C++ parser"]);
    assert.deepEqual(await search("C#"), ["Port the C++ parser"], "in the notes");
    assert.deepEqual(await search("PARSER"), ["Port the C++ parser"]);
    assert.deepEqual(await search("rs"), ["Port the C++ parser"], "two characters");
    assert.deepEqual(await search("+"), ["Port the C++ parser"], "a symbol alone");
  });

  test("a term of one or two characters finds every task that contains it, in any case and accent, and follows edits", async () => {
    const titles = ["Quiz night", "Jazz", "Zürich trip", "Die Straße fegen", "日本語 homework", "Call at 9pm", "Œuvre list"];
    const created = new Map<string, { id: string; version: bigint }>();
    for (const title of titles) created.set(title, (await service.tasks.createTask({ title, notes: title === "Call at 9pm" ? "then\nsleep" : "" }, as("typist"))).task!);
    const search = async (query: string) => (await service.tasks.listTasks({ query, orderBy: "title" }, as("typist"))).tasks.map((t) => t.title);
    assert.deepEqual(await search("qu"), ["Quiz night"], "a word's start");
    assert.deepEqual(await search("IZ"), ["Quiz night"], "inside a word, in another case");
    assert.deepEqual(await search("zz"), ["Jazz"]);
    assert.deepEqual(await search('"zz"'), ["Jazz"], "a phrase");
    assert.deepEqual(await search("z"), ["Jazz", "Quiz night", "Zürich trip"]);
    assert.deepEqual(await search("ZÜ"), ["Zürich trip"], "an accent");
    assert.deepEqual(await search("zu"), ["Zürich trip"], "without its accent");
    assert.deepEqual(await search("ß"), ["Die Straße fegen"], "a letter folded to two");
    assert.deepEqual(await search("oe"), ["Œuvre list"], "a ligature folded to two letters");
    assert.deepEqual(await search("本語"), ["日本語 homework"]);
    assert.deepEqual(await search("9p"), ["Call at 9pm"]);
    assert.deepEqual(await search("ns"), [], "not across a line break in the notes");
    assert.deepEqual(await search("ns OR sl"), ["Call at 9pm"], "in the notes");
    assert.deepEqual(await search("qz"), []);
    const quiz = created.get("Quiz night")!;
    await service.tasks.updateTask({ task: { id: quiz.id, title: "Puzzle night" }, updateMask: { paths: ["title"] }, expectedVersion: quiz.version }, as("typist"));
    assert.deepEqual(await search("qu"), []);
    assert.deepEqual(await search("zz"), ["Jazz", "Puzzle night"]);
  });

  test("a symbol term finds what is written in the notes, in any case and accent, and follows edits", async () => {
    const { task } = await service.tasks.createTask({ title: "Maths", notes: "Solve X^2 = 4 for €5 by Thursday" }, as("editor"));
    const search = async (query: string) => (await service.tasks.listTasks({ query }, as("editor"))).tasks.map((t) => t.title);
    assert.deepEqual(await search("x^2"), ["Maths"]);
    assert.deepEqual(await search("€5"), ["Maths"]);
    assert.deepEqual(await search("= 4"), ["Maths"]);
    assert.deepEqual(await search("ÉQ=x"), []);
    await service.tasks.updateTask({ task: { id: task!.id, title: "Learn F# and C#", notes: "" }, updateMask: { paths: ["title", "notes"] }, expectedVersion: task!.version }, as("editor"));
    assert.deepEqual(await search("x^2"), []);
    assert.deepEqual(await search("f#"), ["Learn F# and C#"]);
    assert.deepEqual(await search("c#"), ["Learn F# and C#"]);
  });
});
