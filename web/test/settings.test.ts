// Settings in the browser: a Todoist export uploaded and its report read, the JSON export
// downloaded, a calendar feed's address made (shown once, as webcal://), fetched and revoked; the
// dialog's keys are its own (Escape closes it, the list's shortcuts wait).
import { test } from "vitest";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { axeViolations, formatFindings } from "./support/axe.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signUp, taskRow } from "./support/session.js";
import { appInBrowser } from "./support/suite.js";

const suite = appInBrowser();
const todoistCsv = fileURLToPath(new URL("../../packages/interchange/test/samples/Home renovation.csv", import.meta.url));

test("import a Todoist CSV, download the export, subscribe to and revoke a calendar feed", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await page.getByRole("button", { name: "Settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Settings" });
  await dialog.getByLabel("File to import").setInputFiles(todoistCsv);
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByRole("status").filter({ hasText: "6 tasks imported, with 1 comment; new projects: Home renovation." }).waitFor();
  await dialog.getByText(/things had no place here or were changed to fit/).click();
  await dialog.getByRole("cell", { name: "RESPONSIBLE" }).waitFor();
  await page
    .getByRole("navigation")
    .getByText("Home renovation")
    .or(page.getByRole("button", { name: /Home renovation/ }))
    .first()
    .waitFor();
  await screenshot(page, "settings-import-report");
  const findings = await axeViolations(page, "settings");
  assert.deepEqual(findings, [], formatFindings(findings));

  // Again: nothing twice.
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByRole("status").filter({ hasText: "0 tasks imported, 6 already there from an earlier import." }).waitFor();

  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Download JSON" }).click()]);
  const exported = JSON.parse(await readFile((await download.path())!, "utf8")) as { format: string; tasks: { title: string }[] };
  assert.equal(exported.format, "taskmesh-export");
  assert.equal(exported.tasks.length, 6);

  await dialog.getByRole("button", { name: "Make an address" }).click();
  const address = await dialog.getByLabel("Calendar feed address").inputValue();
  assert.match(address, /^webcal:\/\/[^/]+\/calendar\/tm_cal_[\w-]+\.ics$/);
  const https = address.replace(/^webcal:/, "http:");
  const feed = await fetch(https);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /SUMMARY:Order skip for rubble/);
  await dialog.getByRole("button", { name: "Revoke" }).click();
  await dialog.getByRole("button", { name: "Revoke" }).waitFor({ state: "detached" });
  assert.equal((await fetch(https)).status, 404);
  await context.close();
});

test("where reminders go: e-mail, a webhook (a refused address said at its field, the signing secret shown once), quiet hours; kept across a reload", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  await page.getByRole("button", { name: "Settings" }).click();
  const reminders = page.getByRole("dialog", { name: "Settings" }).getByRole("region", { name: "Reminders" });
  assert.equal(await reminders.getByLabel("In the app, on every open device").isChecked(), true);
  await reminders.getByLabel("By e-mail").check();
  assert.equal(await reminders.getByLabel("Reminder e-mail address").inputValue(), email, "the account's address to begin with");
  await reminders.getByLabel(/To a webhook/).check();
  await reminders.getByLabel("Webhook URL").fill("http://127.0.0.1:9/hook");
  await reminders.getByRole("button", { name: "Save" }).click();
  await reminders.getByRole("alert").filter({ hasText: "127.0.0.1 is a loopback address" }).waitFor();
  await screenshot(page, "settings-reminders-refused");

  await reminders.getByLabel("Webhook URL").fill("https://hooks.example.com/taskmesh");
  await reminders.getByLabel("Quiet hours").check();
  await reminders.getByLabel("Quiet from").fill("21:30");
  await reminders.getByLabel("Time zone of the quiet hours").fill("Europe/Berlin");
  await reminders.getByRole("button", { name: "Save" }).click();
  await reminders.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  assert.match(await reminders.getByLabel("Webhook signing secret").inputValue(), /^whsec_/);
  await screenshot(page, "settings-reminders-saved");
  const findings = await axeViolations(page, "settings: reminders");
  assert.deepEqual(findings, [], formatFindings(findings));

  await page.reload();
  await page.getByRole("button", { name: "Settings" }).click();
  assert.equal(await reminders.getByLabel("By e-mail").isChecked(), true);
  assert.equal(await reminders.getByLabel("Webhook URL").inputValue(), "https://hooks.example.com/taskmesh");
  assert.deepEqual(
    [await reminders.getByLabel("Quiet from").inputValue(), await reminders.getByLabel("Quiet until").inputValue(), await reminders.getByLabel("Time zone of the quiet hours").inputValue()],
    ["21:30", "07:00", "Europe/Berlin"],
  );
  assert.equal(await reminders.getByLabel("Webhook signing secret").count(), 0, "the secret is not shown again");
  await context.close();
});

test("the account's name and time zone: a zone that does not exist is refused, a real one kept across a reload", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await page.getByRole("button", { name: "Settings" }).click();
  const account = page.getByRole("dialog", { name: "Settings" }).getByRole("region", { name: "Account" });
  await account.getByLabel("Your name").fill("Ada");
  await account.getByLabel("Your time zone").fill("Mars/Olympus_Mons");
  await account.getByRole("button", { name: "Save" }).click();
  await account.getByRole("alert").filter({ hasText: "“Mars/Olympus_Mons” is not a time zone" }).waitFor();
  await account.getByLabel("Your time zone").fill("Asia/Tokyo");
  await account.getByRole("button", { name: "Save" }).click();
  await account.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Settings" }).click();
  await account.getByLabel("Your name").and(page.locator('[value="Ada"]')).waitFor();
  assert.equal(await account.getByLabel("Your time zone").inputValue(), "Asia/Tokyo");
  await context.close();
});

test("an API token made in Settings: its secret shown once, it calls the API until revoked there", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await page.getByRole("button", { name: "Settings" }).click();
  const tokens = page.getByRole("dialog", { name: "Settings" }).getByRole("region", { name: "API tokens" });
  await tokens.getByLabel("Token name").fill("laptop scripts");
  await tokens.getByLabel("Token lifetime").selectOption({ label: "30 days" });
  await tokens.getByRole("button", { name: "Make a token" }).click();
  const secret = await tokens.getByLabel("New API token").inputValue();
  assert.match(secret, /^tm_pat_/);
  await tokens.getByText(`npx taskmesh login --url ${suite.app.url} --token ${secret}`).waitFor();
  const listTasks = () =>
    fetch(`${suite.app.url}/taskmesh.tasks.v1.TaskService/ListTasks`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${secret}` }, body: "{}" });
  assert.equal((await listTasks()).status, 200);
  await tokens.getByRole("listitem").filter({ hasText: "laptop scripts" }).filter({ hasText: "read and write" }).waitFor();
  await screenshot(page, "settings-api-token");

  await tokens.getByRole("button", { name: "Revoke laptop scripts" }).click();
  await tokens.getByRole("listitem").filter({ hasText: "laptop scripts" }).waitFor({ state: "detached" });
  assert.equal((await listTasks()).status, 401);
  await context.close();
});

test("while Settings is open, Escape closes it and the list's shortcuts do nothing to the tasks behind it", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await quickAdd(page, "Water the plants");
  await page.locator("body").click({ position: { x: 5, y: 400 } });
  await page.keyboard.press("j");
  assert.match((await taskRow(page, "Water the plants").getAttribute("class")) ?? "", /\bselected\b/, "x would complete it");
  await page.getByRole("button", { name: "Settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Settings" });
  await dialog.waitFor();
  await page.keyboard.press("x");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  // A completion would show its toast within a moment and take the task out of the open list.
  await page.waitForTimeout(500);
  assert.equal(await page.locator(".toast", { hasText: "Completed" }).count(), 0, "x in the dialog completed the selected task");
  assert.equal(await taskRow(page, "Water the plants").isVisible(), true);
  await context.close();
});
