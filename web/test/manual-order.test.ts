// Manual order in Chromium against the real embedded app: a task dragged with the mouse, another
// moved with the keyboard (space, arrows, space), the order kept by the server and shown on a
// second device live. Screenshot in test-artifacts/web (manual-order-*.png).
import { test } from "vitest";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { appInBrowser } from "./support/suite.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signIn, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

/** Waits until the list shows exactly these titles, in this order. */
async function listIs(page: Page, titles: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const shown = (await page.locator("li.task .task-title").allTextContents()).map((t) => t.trim());
    if (JSON.stringify(shown) === JSON.stringify(titles)) return;
    if (Date.now() > deadline) assert.deepEqual(shown, titles);
    await page.waitForTimeout(100);
  }
}

const handle = (page: Page, title: string) => taskRow(page, title).getByRole("button", { name: `Move ${title}` });

test("reordering by drag and drop and by keyboard, kept by the server and shown on another device", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  for (const title of ["one", "two", "three", "four"]) await quickAdd(page, title);
  assert.equal(await page.locator(".drag-handle").count(), 0, "no handles while the list is sorted by due date");
  await page.getByLabel("Sort by").selectOption("manual");
  await listIs(page, ["one", "two", "three", "four"]);

  const other = await suite.page();
  await other.page.getByLabel("Email").waitFor();
  await signIn(other.page, email);
  await other.page.getByLabel("Sort by").selectOption("manual");
  await listIs(other.page, ["one", "two", "three", "four"]);

  // The mouse: "four" dragged up onto "one" goes before it.
  const from = (await handle(page, "four").boundingBox())!;
  const to = (await taskRow(page, "one").boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2, from.y - 10, { steps: 5 });
  await page.mouse.move(from.x + from.width / 2, to.y + to.height / 4, { steps: 15 });
  await page.mouse.up();
  await listIs(page, ["four", "one", "two", "three"]);
  await listIs(other.page, ["four", "one", "two", "three"]);

  // The keyboard: space picks "one" up, two steps down, space drops it after "three".
  await handle(page, "one").focus();
  // Each key waits for the rows to settle: the sensor measures where the row is after the last step.
  for (const key of ["Space", "ArrowDown", "ArrowDown", "Space"]) {
    await page.keyboard.press(key);
    await page.waitForTimeout(300);
  }
  await listIs(page, ["four", "two", "three", "one"]);
  await listIs(other.page, ["four", "two", "three", "one"]);
  await screenshot(page, "manual-order-01-moved");
  const findings = await axeViolations(page, "task list in manual order");
  assert.deepEqual(findings, [], formatFindings(findings));

  await page.reload();
  await listIs(page, ["four", "two", "three", "one"]);
  await other.context.close();
  await context.close();
});
