// Subtasks in Chromium against the real embedded app: added from the editor four levels deep,
// shown indented under their parents, folded and unfolded (by keyboard too), and a parent completed
// only after the question about its open subtasks. Screenshots in test-artifacts/web (subtasks-*.png).
import { test } from "vitest";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { appInBrowser } from "./support/suite.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

/** The list's rows as [title, depth], top to bottom, once it shows exactly `count` rows. */
async function rows(page: Page, count: number): Promise<[string, number][]> {
  await page
    .locator("li.task")
    .nth(count - 1)
    .waitFor();
  await page.locator("li.task").nth(count).waitFor({ state: "detached" });
  const all = await page.locator("li.task").evaluateAll((lis) => lis.map((li) => [li.querySelector(".task-title")!.textContent!.trim(), Number(li.getAttribute("data-depth"))]));
  return all as [string, number][];
}

async function addSubtask(page: Page, parent: string, title: string): Promise<void> {
  await taskRow(page, parent).getByRole("button", { name: parent, exact: true }).click();
  const editor = page.getByRole("complementary", { name: "Task details" });
  await editor
    .getByLabel("Title")
    .and(page.locator(`[value="${parent}"]`))
    .waitFor();
  await editor.getByLabel("Add a subtask").fill(title);
  await editor.getByLabel("Add a subtask").press("Enter");
  await taskRow(page, title).waitFor();
}

test("subtasks four levels deep, indented, folded, and completed with their parent after a question", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await quickAdd(page, "Plan the trip");
  await addSubtask(page, "Plan the trip", "Book flights");
  await addSubtask(page, "Book flights", "Compare prices");
  await addSubtask(page, "Compare prices", "Check airline sites");
  await addSubtask(page, "Plan the trip", "Pack bags");
  await page.keyboard.press("Escape");

  const tree = await rows(page, 5);
  assert.deepEqual(Object.fromEntries(tree), { "Plan the trip": 0, "Book flights": 1, "Compare prices": 2, "Check airline sites": 3, "Pack bags": 1 });
  // Each subtask comes after its parent, with nothing shallower between them.
  const at = (title: string) => tree.findIndex(([t]) => t === title);
  assert.deepEqual([at("Book flights") + 1, at("Compare prices") + 1], [at("Compare prices"), at("Check airline sites")]);
  assert.ok(at("Pack bags") > at("Plan the trip"));
  const indent = async (title: string) => (await taskRow(page, title).locator(".check").boundingBox())!.x;
  assert.ok((await indent("Check airline sites")) > (await indent("Compare prices")) && (await indent("Compare prices")) > (await indent("Book flights")));
  await screenshot(page, "subtasks-01-tree");
  const findings = await axeViolations(page, "task list with subtasks");
  assert.deepEqual(findings, [], formatFindings(findings));

  // Folding hides the subtree and says how much it holds; the keyboard reaches the fold button.
  await page.getByRole("button", { name: "Hide 4 subtasks of Plan the trip" }).click();
  assert.deepEqual(await rows(page, 1), [["Plan the trip", 0]]);
  await taskRow(page, "Plan the trip").getByText("4 subtasks").waitFor();
  await page.getByRole("button", { name: "Show 4 subtasks of Plan the trip" }).focus();
  await page.keyboard.press("Enter");
  await rows(page, 5);
  await page.getByRole("button", { name: "Hide 2 subtasks of Book flights" }).click();
  assert.deepEqual((await rows(page, 3)).map(([t]) => t).sort(), ["Book flights", "Pack bags", "Plan the trip"]);
  await page.getByRole("button", { name: "Show 2 subtasks of Book flights" }).click();
  await rows(page, 5);

  // Completing a task with open subtasks asks first; declining changes nothing.
  const questions: string[] = [];
  page.once("dialog", (dialog) => {
    questions.push(dialog.message());
    void dialog.dismiss();
  });
  await taskRow(page, "Compare prices").getByRole("checkbox", { name: "Complete Compare prices" }).click();
  await page.waitForTimeout(500);
  await rows(page, 5);
  page.once("dialog", (dialog) => {
    questions.push(dialog.message());
    void dialog.accept();
  });
  await taskRow(page, "Plan the trip").getByRole("checkbox", { name: "Complete Plan the trip" }).click();
  await page.locator(".toast", { hasText: "Completed “Plan the trip”" }).waitFor();
  await page.locator("li.task").first().waitFor({ state: "detached" });
  assert.deepEqual(questions, ["Complete 1 open subtask too?", "Complete 4 open subtasks too?"]);
  // Undo puts back all it completed: the task and its subtasks, open again where they were.
  await page.locator(".toast", { hasText: "Completed “Plan the trip”" }).getByRole("button", { name: "Undo" }).click();
  assert.deepEqual((await rows(page, 5)).map(([t]) => t).sort(), ["Book flights", "Check airline sites", "Compare prices", "Pack bags", "Plan the trip"]);
  await context.close();
});
