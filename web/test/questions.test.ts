// A question typed into the filter box ("what's overdue at home?") is read as a filter query: the
// box keeps the question, the query and its reading show under it, and the list is that query's.
import { test } from "vitest";
import assert from "node:assert/strict";
import { appInBrowser } from "./support/suite.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

test("a question in the filter box lists what it asks for, with the query it became and how it was read", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await quickAdd(page, "Pay rent on 2 January 2025 #home");
  await quickAdd(page, "Call plumber on 2 January 2025 #work");
  await quickAdd(page, "Water plants tomorrow #home");
  const filter = page.getByLabel("Filter tasks");
  const feedback = page.locator("#filter-feedback");

  await filter.fill("what's overdue at home?");
  await feedback.locator("code", { hasText: "due:overdue tag:home" }).waitFor();
  await feedback.getByText("Showing tasks where overdue AND tag:home", { exact: true }).waitFor();
  await taskRow(page, "Water plants").waitFor({ state: "detached" });
  await taskRow(page, "Call plumber").waitFor({ state: "detached" });
  await taskRow(page, "Pay rent").waitFor();
  assert.equal(await filter.inputValue(), "what's overdue at home?", "the box keeps the question");
  await screenshot(page, "question-overdue-at-home");

  // A word it does not know is searched for, and the reading says so.
  await filter.fill("plumber overdue");
  await feedback.locator("code", { hasText: "plumber due:overdue" }).waitFor();
  await feedback.getByText('not understood, so searched for in titles and notes: "plumber"', { exact: false }).waitFor();
  await taskRow(page, "Pay rent").waitFor({ state: "detached" });
  await taskRow(page, "Call plumber").waitFor();
  await screenshot(page, "question-with-unknown-word");

  // The query can take the question's place, to be edited in the filter language.
  await feedback.getByRole("button", { name: "Edit as a filter" }).click();
  assert.equal(await filter.inputValue(), "plumber due:overdue");
  await feedback.getByText('Showing tasks where title/notes contain "plumber" AND overdue', { exact: true }).waitFor();
  await taskRow(page, "Call plumber").waitFor();

  // A completion day is kept (completed_at): what was finished today is that task alone.
  await filter.fill("");
  await taskRow(page, "Water plants").getByRole("checkbox", { name: "Complete Water plants" }).click();
  await filter.fill("what did I finish today?");
  await feedback.locator("code", { hasText: "completed:today" }).waitFor();
  await taskRow(page, "Call plumber").waitFor({ state: "detached" });
  await taskRow(page, "Water plants").waitFor();
  assert.equal(await page.locator("li.task").count(), 1);

  // Words with nothing a filter could use stay the text search they always were.
  await filter.fill("water plants");
  await feedback.getByText('Showing tasks where title/notes contain "water" AND title/notes contain "plants"', { exact: true }).waitFor();
  await taskRow(page, "Water plants").waitFor();
  assert.equal(await feedback.locator("code").count(), 0);

  // Todoist's terms mean what the filter language says, for the box as for every other client:
  // "due: in 3 days" is that day, not the next three.
  await quickAdd(page, "Renew passport in 3 days");
  await quickAdd(page, "Book dentist in 2 days");
  await filter.fill("due: in 3 days");
  await feedback.locator("code", { hasText: "due:in-3-days" }).waitFor();
  await taskRow(page, "Book dentist").waitFor({ state: "detached" });
  await taskRow(page, "Renew passport").waitFor();
  assert.equal(await page.locator("li.task").count(), 1);
  await screenshot(page, "question-todoist-term");
  await context.close();
});
