// A text search ignores accents on either side, in its full-text and its substring match, for tasks
// written before the search folded accents as for new ones; so does the title order.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { tasksUnderTest } from "./fixtures.js";

const as = (user: string) => ({ headers: { "x-user-id": user, "x-time-zone": "UTC" } });

describe("accent-insensitive search", () => {
  const service = tasksUnderTest({
    storedBefore: {
      migration: "Migration20261205220000_folded_search",
      sql: `INSERT INTO tasks.tasks (id, user_id, title, notes, created_at, updated_at) VALUES
         ('00000000-0000-4000-8000-000000000001', 'before-folding', 'Réunion à Zürich', 'apporter le café', now(), now())`,
    },
  });

  const found = async (user: string, query: string) => (await service.tasks.listTasks({ query, orderBy: "title" }, as(user))).tasks.map((t) => t.title);

  test("a task stored before finds by its words without their accents", async () => {
    assert.deepEqual(await found("before-folding", "reunion"), ["Réunion à Zürich"]);
    assert.deepEqual(await found("before-folding", "cafe"), ["Réunion à Zürich"], "in the notes");
    assert.deepEqual(await found("before-folding", "zuri"), ["Réunion à Zürich"], "part of a word");
  });

  test("words, parts of words and phrases match with or without accents, in any case", async () => {
    const user = "accents";
    for (const title of ["Réunion à Zürich", "Cafe plain", "Café avec Renée", "Straße fegen", "naïve résumé"]) await service.tasks.createTask({ title }, as(user));
    assert.deepEqual(await found(user, "reunion"), ["Réunion à Zürich"]);
    assert.deepEqual(await found(user, "ZÜRICH"), ["Réunion à Zürich"]);
    assert.deepEqual(await found(user, "zuri"), ["Réunion à Zürich"]);
    assert.deepEqual(await found(user, "café"), ["Café avec Renée", "Cafe plain"]);
    assert.deepEqual(await found(user, "cafe"), ["Café avec Renée", "Cafe plain"]);
    assert.deepEqual(await found(user, '"avec renee"'), ["Café avec Renée"]);
    assert.deepEqual(await found(user, "strasse"), ["Straße fegen"]);
    assert.deepEqual(await found(user, "resumes"), ["naïve résumé"], "another form of the word");
    assert.deepEqual(await found(user, "naive -résumé"), []);
  });

  test("a Greek word's final sigma matches its capital: case folded as Unicode folds it, not only lowered", async () => {
    const user = "greek";
    await service.tasks.createTask({ title: "ΟΔΟΣ ΑΘΗΝΑΣ 12" }, as(user));
    await service.tasks.createTask({ title: "Σπίτι", notes: "καθαρισμός" }, as(user));
    assert.deepEqual(await found(user, "οδος"), ["ΟΔΟΣ ΑΘΗΝΑΣ 12"]);
    assert.deepEqual(await found(user, "Οδός"), ["ΟΔΟΣ ΑΘΗΝΑΣ 12"]);
    assert.deepEqual(await found(user, '"οδος αθηνας"'), ["ΟΔΟΣ ΑΘΗΝΑΣ 12"]);
    assert.deepEqual(await found(user, "ΚΑΘΑΡΙΣΜΟΣ"), ["Σπίτι"]);
    assert.deepEqual(await found(user, "σπιτι"), ["Σπίτι"]);
  });

  test("the title order puts accented letters among their plain ones, in both directions and across pages", async () => {
    const user = "title-order";
    for (const title of ["zoo", "Épicerie", "ecole", "Eau", "Ärzte", "banane", "avion", "Öl", "orange"]) await service.tasks.createTask({ title }, as(user));
    const sorted = ["Ärzte", "avion", "banane", "Eau", "ecole", "Épicerie", "Öl", "orange", "zoo"];
    const titles = async (orderBy: string, pageSize: number) => {
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await service.tasks.listTasks({ orderBy, pageSize, pageToken }, as(user));
        seen.push(...page.tasks.map((t) => t.title));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return seen;
    };
    assert.deepEqual(await titles("title", 50), sorted);
    assert.deepEqual(await titles("title", 2), sorted);
    assert.deepEqual(await titles("title desc", 4), [...sorted].reverse());
  });
});
