// A task kept in New York's zone, viewed from Berlin (Chromium's zone overridden through the
// DevTools protocol, Emulation.setTimezoneOverride, as playwright's timezoneId does): its times
// read as New York keeps them, labelled; the repeat presets and the preview start from its New York
// date; the history reads in words, on the viewer's own clock (24-hour in en-GB, 12-hour in en-US).
import { test } from "vitest";
import assert from "node:assert/strict";
import { appInBrowser } from "./support/suite.js";
import { screenshot } from "./support/browser.js";
import { quickAdd, signIn, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

test("a New York task seen from Berlin: labelled times, presets and preview on its own date, history in words", async () => {
  const { context, page } = await suite.page({ timezoneId: "Europe/Berlin", locale: "en-GB" });
  const email = await signUp(page);
  // Thursday 7 January 2027, 21:00 in New York: Friday 03:00 in Berlin.
  await quickAdd(page, "Call Ana jan 7 2027 at 9pm America/New_York");
  const row = taskRow(page, "Call Ana");
  assert.equal(await row.locator(".due").textContent(), "Thu, 7 Jan 2027 21:00 (New York)");
  await screenshot(page, "tz-1-list-new-york-from-berlin");

  await row.getByRole("button", { name: "Call Ana" }).click();
  const editor = page.getByRole("complementary", { name: "Task details" });
  const repeat = editor.getByLabel("Repeat", { exact: true });
  // The form appears once GetTask answers; its options are read only after.
  await repeat.waitFor();
  const presets = await repeat.locator("option").allTextContents();
  assert.ok(presets.includes("Every week on Thursday"), presets.join(", "));
  assert.ok(presets.includes("Every month on day 7"), presets.join(", "));
  await repeat.selectOption({ label: "Every week on Thursday" });
  const preview = editor.locator(".recurrence-summary .muted");
  await preview.waitFor();
  assert.match((await preview.textContent()) ?? "", /^Next: Thu, 7 Jan 2027 21:00 \(New York\) · Thu, 14 Jan 2027 21:00 \(New York\)/);
  await screenshot(page, "tz-2-editor-presets-preview");
  await editor.getByRole("button", { name: "Save" }).click();
  await row.locator(".repeats").waitFor();
  await editor.getByLabel("Due time").fill("20:30");
  await editor.getByRole("button", { name: "Save" }).click();

  const history = editor.locator(".activity-list");
  const moved = history.locator("li", { hasText: "due moved" });
  await moved.waitFor();
  assert.match((await moved.locator(".activity-summary").textContent()) ?? "", /^due moved from Thu, 7 Jan 2027 21:00 \(New York\) to Thu, 7 Jan 2027 20:30 \(New York\)(; repeat edited)?$/);
  const repeatSet = history.locator("li", { hasText: "repeat set" });
  await repeatSet.waitFor();
  assert.match((await repeatSet.locator(".activity-summary").textContent()) ?? "", /^repeat set: every Thursday/);
  assert.doesNotMatch((await history.textContent()) ?? "", /FREQ=|BYDAY/);
  await screenshot(page, "tz-3-history-en-gb");
  await context.close();

  // The same account in an en-US browser in Berlin: the same history on a 12-hour clock.
  const us = await suite.page({ timezoneId: "Europe/Berlin", locale: "en-US" });
  await signIn(us.page, email);
  await taskRow(us.page, "Call Ana").getByRole("button", { name: "Call Ana" }).click();
  const usMoved = us.page.locator(".activity-list li", { hasText: "due moved" }).locator(".activity-summary");
  await usMoved.waitFor();
  assert.match((await usMoved.textContent()) ?? "", /from Thu, Jan 7, 2027 9:00\s?PM \(New York\) to Thu, Jan 7, 2027 8:30\s?PM \(New York\)/);
  await screenshot(us.page, "tz-4-history-en-us");
  await us.context.close();
});
