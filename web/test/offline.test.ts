// Working without the server, in Chromium against the real app: the network cut for the page and
// its service worker (DevTools Network.emulateNetworkConditions, as playwright's setOffline sends
// it), a reload that still opens the app with the kept list, changes queued in IndexedDB and shown
// as waiting (across another reload), then sent in order when the network is back, through the
// per-field merge: a title changed meanwhile on another device is reported, not overwritten.
import { test } from "vitest";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { appInBrowser } from "./support/suite.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signIn, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

const pending = (page: Page) => page.locator(".pending-changes");
const editor = (page: Page) => page.getByRole("complementary", { name: "Task details" });

async function rename(page: Page, from: string, to: string): Promise<void> {
  await taskRow(page, from).getByRole("button", { name: from, exact: true }).click();
  await editor(page).getByLabel("Title").fill(to);
  await editor(page).getByRole("button", { name: "Save" }).click();
}

test("offline: the app opens from its cache, changes wait in order and are sent on reconnect; a conflict is reported, not overwritten", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  await quickAdd(page, "Pay rent");
  await quickAdd(page, "Buy milk");
  // Once the worker controls the page, the list and the task it opens are kept for later.
  await page.evaluate("navigator.serviceWorker.ready");
  await page.reload();
  await page.waitForFunction("navigator.serviceWorker.controller !== null");
  // Installable: Chromium finds nothing missing (manifest, icon, a worker that handles fetches) but
  // a profile of its own (a test's context is an incognito one).
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: { errorId: string }[] };
  assert.deepEqual(
    installabilityErrors.map((e) => e.errorId).filter((id) => id !== "in-incognito"),
    [],
  );
  await cdp.detach();
  await taskRow(page, "Buy milk").getByRole("button", { name: "Buy milk", exact: true }).click();
  await editor(page).getByLabel("Title").waitFor();
  await page.getByRole("button", { name: "Close details" }).click();

  await context.setOffline(true);
  // The browser says the network went: live sync says so at once, not when TCP notices.
  await page.getByText("Offline — reconnecting").waitFor();
  // The projects were read before the server went away: a /word is looked up among the Inbox's
  // sections, which cannot be read now, so it stays in the title and the line is kept as typed.
  await page.getByLabel("Quick add a task").fill("Call dad /asap");
  await page.getByLabel("Quick add a task").press("Enter");
  await page.locator(".toast-info", { hasText: "Added “Call dad /asap” on this device" }).waitFor();
  // A task never opened before opens from the list on screen (GetTask waits for the server).
  await taskRow(page, "Pay rent").getByRole("button", { name: "Pay rent", exact: true }).click();
  assert.equal(await editor(page).getByLabel("Title").inputValue(), "Pay rent");
  // Its comments and history cannot be read now, which is not the same as having none.
  await editor(page).getByText("You are offline: the comments show once the server answers again.").waitFor();
  await editor(page).getByText("You are offline: the changes show once the server answers again.").waitFor();
  // A comment is not kept offline: it fails saying why, in words, not the browser's "Failed to fetch".
  await editor(page).getByLabel("Add a comment").fill("Ask the landlord");
  await editor(page).getByLabel("Add a comment").press("Control+Enter");
  await editor(page).getByRole("alert").filter({ hasText: "The server cannot be reached: check the connection, then try again" }).waitFor();
  await page.getByRole("button", { name: "Close details" }).click();
  // A filter not read before cannot be: said, with the last list kept on screen, marked as such.
  await page.getByLabel("Filter tasks").fill("plumber");
  await page.getByRole("alert").filter({ hasText: "The server cannot be reached, and this list was not read on this device before" }).waitFor();
  await page.getByText("The last results: the list could not be refreshed.").waitFor();
  await page.getByLabel("Filter tasks").fill("status:open");
  await page.getByRole("alert").waitFor({ state: "detached" });
  // The address follows the filter box once typing settles: reloaded before, it is the unread list.
  await page.waitForURL((url) => !url.search.includes("plumber"));
  await page.reload();
  await taskRow(page, "Pay rent").waitFor();
  await taskRow(page, "Buy milk").waitFor();
  await screenshot(page, "offline-1-reloaded-without-server");

  await taskRow(page, "Pay rent").getByRole("checkbox", { name: "Complete Pay rent" }).click();
  // Kept, not failed: said as news, not as an error.
  await page.locator(".toast-info", { hasText: "You are offline" }).first().waitFor();
  await page.getByLabel("Quick add a task").fill("Call mom");
  await page.getByLabel("Quick add a task").press("Enter");
  await page.locator(".toast-info", { hasText: "Added “Call mom” on this device" }).waitFor();
  assert.equal(await page.getByLabel("Quick add a task").inputValue(), "", "the line is taken");
  // A repeat phrase is read in the page, as the server reads it: its chip shows, and the line is kept.
  await page.getByLabel("Quick add a task").fill("Water the ferns every monday");
  await page.locator('.understood [data-kind="recurrence"]', { hasText: "every Monday" }).waitFor();
  await page.getByLabel("Quick add a task").press("Enter");
  await page.locator(".toast-info", { hasText: "Added “Water the ferns every monday” on this device" }).waitFor();
  await rename(page, "Buy milk", "Buy oat milk");
  await editor(page).waitFor({ state: "detached" });
  assert.equal(await page.locator(".toast-error").count(), 0, "nothing reported as failed");
  await pending(page).getByText("5 changes waiting to be sent").waitFor();
  assert.deepEqual(await pending(page).locator("li").allTextContents(), ["Add “Call dad /asap”", "Complete “Pay rent”", "Add “Call mom”", "Add “Water the ferns”", "Edit “Buy oat milk”"]);
  await taskRow(page, "Pay rent").getByText("waiting to be sent").waitFor();
  await screenshot(page, "offline-2-changes-waiting");
  const findings = await axeViolations(page, "changes waiting offline");
  assert.equal(findings.length, 0, formatFindings(findings));
  // Kept across a reload (IndexedDB), still without the server.
  await page.reload();
  await pending(page).getByText("5 changes waiting to be sent").waitFor();
  // A list never read on this device says why it is missing, and what will bring it.
  await page.getByLabel("Filter tasks").fill("plumber");
  await page.getByRole("alert").filter({ hasText: "The server cannot be reached, and this list was not read on this device before" }).waitFor();
  await page.getByLabel("Filter tasks").fill("status:open");
  await taskRow(page, "Pay rent").waitFor();

  // Meanwhile another device, online, renames the same task.
  const other = await suite.page();
  await signIn(other.page, email);
  await rename(other.page, "Buy milk", "Buy whole milk");
  await taskRow(other.page, "Buy whole milk").waitFor();
  await other.context.close();

  await context.setOffline(false);
  await page.evaluate("window.dispatchEvent(new Event('online'))");
  await pending(page).waitFor({ state: "detached", timeout: 20_000 });
  await page.getByText("Live", { exact: true }).waitFor();
  await page.locator(".toast-error", { hasText: "Not applied: Edit “Buy oat milk” — changed on another device meanwhile (title)" }).waitFor();
  await taskRow(page, "Call mom").waitFor();
  await taskRow(page, "Call dad /asap").waitFor();
  await taskRow(page, "Water the ferns").getByText("↻").first().waitFor();
  await taskRow(page, "Buy whole milk").waitFor();
  await taskRow(page, "Pay rent").waitFor({ state: "detached" });
  assert.equal(await taskRow(page, "Buy oat milk").count(), 0, "the other device's title is kept");
  await screenshot(page, "offline-3-sent-conflict-reported");
  await context.close();
});
