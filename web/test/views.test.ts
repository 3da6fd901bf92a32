// The views in Chromium against the real embedded app: Today and Upcoming grouped by day with tasks
// dragged to another day (mouse and keyboard, seen live on a second device), the month calendar (live too), a
// project's board with cards dragged between sections, and the phone's layouts, light and dark, with a finger's drags.
// Screenshots in test-artifacts/web (views-*.png).
import { test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { Temporal } from "temporal-polyfill";
import { appInBrowser } from "./support/suite.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { artifactsDir, screenshot } from "./support/browser.js";
import { createProject, sidebar } from "./support/projects.js";
import { quickAdd, signIn, signUp } from "./support/session.js";

const suite = appInBrowser();
const ZONE = "Europe/Berlin";
const today = () => Temporal.Now.plainDateISO(ZONE);
const day = (days: number) => today().add({ days }).toString();

const daySection = (page: Page, date: string) => page.locator(`section.day-group[data-day="${date}"]`);
const titlesIn = async (where: Locator) => (await where.locator("li.task .task-title").allTextContents()).map((t) => t.trim());

/** Waits until `where` lists exactly these titles (in any order). */
async function shows(where: Locator, titles: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const shown = (await titlesIn(where)).sort();
    if (JSON.stringify(shown) === JSON.stringify([...titles].sort())) return;
    if (Date.now() > deadline) assert.deepEqual(shown, [...titles].sort());
    await where.page().waitForTimeout(100);
  }
}

/** Drags a task by its handle with the mouse and drops it in the middle of `target`; `shotName`: a screenshot before the drop. */
async function drag(page: Page, title: string, target: Locator, shotName?: string): Promise<void> {
  // In the middle of the window: a drag near its edge scrolls the page, and the target with it.
  await target.evaluate((e) => e.scrollIntoView({ block: "center" }));
  const from = (await page.getByRole("button", { name: `Move ${title}`, exact: true }).boundingBox())!;
  const to = (await target.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 + 12, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 15 });
  // Of the viewport alone: a full-page screenshot resizes the window, which cancels a drag.
  if (shotName) await page.waitForTimeout(200);
  if (shotName) await page.screenshot({ path: path.join(artifactsDir, `${shotName}.png`) });
  await page.mouse.up();
}

/** Drags a task by its handle with a finger (touch events through the DevTools protocol) onto the middle of `target`. */
async function touchDrag(page: Page, title: string, target: Locator): Promise<void> {
  await target.evaluate((e) => e.scrollIntoView({ block: "center" }));
  const from = (await page.getByRole("button", { name: `Move ${title}`, exact: true }).boundingBox())!;
  const to = (await target.boundingBox())!;
  const [x0, y0, x1, y1] = [from.x + from.width / 2, from.y + from.height / 2, to.x + to.width / 2, to.y + to.height / 2];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: x0, y: y0 }] });
  for (let i = 1; i <= 15; i++) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x0 + ((x1 - x0) * i) / 15, y: y0 + ((y1 - y0) * i) / 15 }] });
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

/** Picks a task up by keyboard, presses `keys`, drops it. */
async function keyboardMove(page: Page, title: string, keys: string[]): Promise<void> {
  await page.getByRole("button", { name: `Move ${title}`, exact: true }).focus();
  // Each key waits for the drag to settle: the sensor measures where the row is after the last step.
  for (const key of ["Space", ...keys, "Space"]) {
    await page.keyboard.press(key);
    await page.waitForTimeout(300);
  }
}

/** Waits until the list answers the filter the summary describes (the last list's tasks stay on screen until then). */
const answered = (page: Page, summary: string | RegExp) => page.locator(".explain", { hasText: summary }).waitFor();

/** A screenshot of the page from its top, without the toasts of the steps before. */
async function shot(page: Page, name: string): Promise<void> {
  const dismiss = page.locator(".toast").getByRole("button", { name: "Dismiss" });
  // A toast may also go by itself between the count and the click.
  while ((await dismiss.count()) > 0)
    await dismiss
      .first()
      .click({ timeout: 2_000 })
      .catch(() => undefined);
  await page.evaluate("window.scrollTo(0, 0)");
  await screenshot(page, name);
}

async function noAxeFindings(page: Page, screen: string): Promise<void> {
  const findings = await axeViolations(page, screen);
  assert.deepEqual(findings, [], formatFindings(findings));
}

/** Screenshots and axe in the light and the dark scheme; the page is left light. */
async function bothSchemes(page: Page, name: string, screen: string): Promise<void> {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await shot(page, `${name}-${scheme}`);
    await noAxeFindings(page, `${screen}, ${scheme}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

test("Today and Upcoming grouped by day; a drag by mouse or keyboard moves a task to another day, live on another device", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  await quickAdd(page, "Old errand yesterday");
  await quickAdd(page, "Call mum today");
  await quickAdd(page, "Water plants tomorrow");
  await quickAdd(page, "Dentist tomorrow at 3pm");
  await quickAdd(page, "Pay bills in 3 days");

  await sidebar(page).getByRole("button", { name: "Today", exact: true }).click();
  const overdue = page.getByRole("region", { name: /^Overdue/ });
  await shows(overdue, ["Old errand"]);
  await shows(daySection(page, day(0)), ["Call mum"]);
  assert.deepEqual(
    await page
      .locator(".day-group h2")
      .allTextContents()
      .then((h) => h.map((t) => t.split(" ")[0])),
    ["Overdue", "Today"],
  );
  await shot(page, "views-01-today");
  await noAxeFindings(page, "today");
  // The overdue task onto today, by keyboard: today is the only day to drop it on.
  await keyboardMove(page, "Old errand", ["ArrowDown"]);
  await shows(daySection(page, day(0)), ["Call mum", "Old errand"]);
  assert.equal(await overdue.count(), 0, "nothing overdue any more");
  // A line without a date typed here is due today, so it shows where it was typed.
  await page.getByLabel("Quick add a task").fill("Call the bank");
  await page.locator('.understood [data-kind="due"]', { hasText: "Today" }).waitFor();
  await page.getByLabel("Quick add a task").press("Enter");
  await shows(daySection(page, day(0)), ["Call mum", "Old errand", "Call the bank"]);

  await sidebar(page).getByRole("button", { name: "Upcoming", exact: true }).click();
  await page.waitForURL(/q=due%3Anext-7-days/);
  // Seven days, the empty ones too, headed by their names.
  assert.deepEqual(await page.locator("section.day-group").evaluateAll((s) => s.map((e) => e.getAttribute("data-day"))), [0, 1, 2, 3, 4, 5, 6].map(day));
  assert.match((await daySection(page, day(1)).locator("h2").textContent())!, /^Tomorrow/);
  await shows(daySection(page, day(1)), ["Water plants", "Dentist"]);
  await shows(daySection(page, day(3)), ["Pay bills"]);
  await shows(daySection(page, day(2)), []);

  const other = await suite.page();
  await other.page.getByLabel("Email").waitFor();
  await signIn(other.page, email);
  await sidebar(other.page).getByRole("button", { name: "Upcoming", exact: true }).click();
  await shows(daySection(other.page, day(1)), ["Water plants", "Dentist"]);

  // The mouse: "Water plants" from tomorrow onto the empty day after.
  await drag(page, "Water plants", daySection(page, day(2)), "views-02-upcoming-dragging");
  await shows(daySection(page, day(2)), ["Water plants"]);
  await shows(daySection(other.page, day(2)), ["Water plants"]);
  await shows(daySection(other.page, day(1)), ["Dentist"]);

  // The keyboard: the 15:00 dentist two days on, still at 15:00.
  await keyboardMove(page, "Dentist", ["ArrowDown", "ArrowDown"]);
  await shows(daySection(page, day(3)), ["Pay bills", "Dentist"]);
  await shows(daySection(other.page, day(3)), ["Pay bills", "Dentist"]);
  const dentist = daySection(page, day(3)).locator("li.task", { hasText: "Dentist" });
  assert.match((await dentist.locator(".due").textContent())!, /15:00/);
  await bothSchemes(page, "views-02-upcoming-moved", "upcoming");
  await shot(other.page, "views-03-upcoming-other-device");

  // The editor agrees: the date moved, the time stayed.
  await dentist.getByRole("button", { name: "Dentist", exact: true }).click();
  const editor = page.getByRole("complementary", { name: "Task details" });
  assert.equal(await editor.getByLabel("Due date", { exact: true }).inputValue(), day(3));
  assert.equal(await editor.getByLabel("Due time").inputValue(), "15:00");

  // A move says where to, and its Undo puts the task back on its day at its time.
  await keyboardMove(page, "Dentist", ["ArrowUp"]);
  await shows(daySection(page, day(2)), ["Water plants", "Dentist"]);
  await page.locator(".toast", { hasText: "Moved “Dentist” to" }).getByRole("button", { name: "Undo" }).click();
  await shows(daySection(page, day(3)), ["Pay bills", "Dentist"]);
  await shows(daySection(other.page, day(3)), ["Pay bills", "Dentist"]);
  assert.match((await dentist.locator(".due").textContent())!, /15:00/);
  await other.context.close();
  await context.close();
});

test("the month calendar: tasks on their days, today marked, previous and next month, a task opens the editor, live on another device", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  await quickAdd(page, "Book train today");
  await quickAdd(page, "Renew passport next month");
  await sidebar(page).getByRole("button", { name: "Calendar", exact: true }).click();
  await page.waitForURL(/view=calendar/);
  const title = page.locator("#calendar-title");
  const month = (m: Temporal.PlainYearMonth) => new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(Date.UTC(m.year, m.month - 1, 1));
  await title.filter({ hasText: month(today().toPlainYearMonth()) }).waitFor();
  const cellOf = (p: Page, date: string) => p.locator(`td[data-day="${date}"]`);
  const cell = (date: string) => cellOf(page, date);
  await cell(day(0)).getByRole("button", { name: "Book train" }).waitFor();
  assert.equal(await cell(day(0)).getAttribute("aria-current"), "date");
  await bothSchemes(page, "views-04-calendar", "calendar");

  const next = today().toPlainYearMonth().add({ months: 1 });
  await page.getByRole("button", { name: "Next month" }).click();
  await title.filter({ hasText: month(next) }).waitFor();
  await cell(next.toPlainDate({ day: 1 }).toString())
    .getByRole("button", { name: "Renew passport" })
    .waitFor();
  await page.getByRole("button", { name: "Previous month" }).click();
  await page.getByRole("button", { name: "Previous month" }).click();
  await title.filter({ hasText: month(next.subtract({ months: 2 })) }).waitFor();
  await page.getByRole("button", { name: "This month" }).click();
  await cell(day(0)).getByRole("button", { name: "Book train" }).click();
  const editor = page.getByRole("complementary", { name: "Task details" });
  assert.equal(await editor.getByLabel("Title").inputValue(), "Book train");
  await shot(page, "views-04-calendar-with-editor");

  const other = await suite.page();
  await other.page.getByLabel("Email").waitFor();
  await signIn(other.page, email);
  await sidebar(other.page).getByRole("button", { name: "Calendar", exact: true }).click();
  await cellOf(other.page, day(0)).getByRole("button", { name: "Book train" }).waitFor();
  await quickAdd(page, "Call the bank today");
  await cellOf(other.page, day(0)).getByRole("button", { name: "Call the bank" }).waitFor();
  await other.context.close();
  await context.close();
});

test("a project's board: a column per section, a card moved between them by mouse and by keyboard, live on another device", async () => {
  const { context, page } = await suite.page();
  const email = await signUp(page);
  await createProject(page, "Garden");
  const header = page.getByRole("region", { name: "Sections of Garden" });
  for (const name of ["Doing", "Done"]) {
    await header.getByLabel("New section name").fill(name);
    await header.getByRole("button", { name: "Add" }).click();
    await header.getByRole("button", { name, exact: true }).waitFor();
  }
  await quickAdd(page, "Plant tulips");
  await quickAdd(page, "Mow the lawn");
  await header.getByRole("radio", { name: "Board" }).click();
  await page.waitForURL(/view=board/);
  const column = (p: Page, name: string) => p.getByRole("region", { name: new RegExp(`^${name}`) });
  await shows(column(page, "No section"), ["Plant tulips", "Mow the lawn"]);
  await shows(column(page, "Doing"), []);

  const other = await suite.page();
  await other.page.getByLabel("Email").waitFor();
  await signIn(other.page, email);
  await sidebar(other.page).getByRole("button", { name: "Garden", exact: true }).click();
  await other.page.getByRole("radio", { name: "Board" }).click();
  await shows(column(other.page, "No section"), ["Plant tulips", "Mow the lawn"]);

  await drag(page, "Plant tulips", column(page, "Doing"), "views-05-board-dragging");
  await shows(column(page, "Doing"), ["Plant tulips"]);
  await shows(column(other.page, "Doing"), ["Plant tulips"]);
  // The keyboard: right arrows step from column to column.
  await keyboardMove(page, "Mow the lawn", ["ArrowRight", "ArrowRight"]);
  await shows(column(page, "Done"), ["Mow the lawn"]);
  await shows(column(other.page, "Done"), ["Mow the lawn"]);
  await shows(column(page, "No section"), []);
  await bothSchemes(page, "views-05-board", "board");

  // The list of a section agrees.
  await header.getByRole("radio", { name: "List" }).click();
  await header.getByRole("button", { name: "Done", exact: true }).click();
  await shows(page.locator("ul.task-list"), ["Mow the lawn"]);

  // A move says where to, and its Undo puts the card back.
  await keyboardMove(other.page, "Plant tulips", ["ArrowLeft"]);
  await shows(column(other.page, "No section"), ["Plant tulips"]);
  const toast = other.page.locator(".toast", { hasText: "Moved “Plant tulips” to No section" });
  await toast.getByRole("button", { name: "Undo" }).click();
  await shows(column(other.page, "Doing"), ["Plant tulips"]);
  await shows(column(other.page, "No section"), []);
  await other.context.close();
  await context.close();
});

test("on a phone, light and dark: Upcoming, the calendar as a list of days, the board's columns one under another; a finger drags a card and a task", async () => {
  const { context, page } = await suite.page();
  await page.setViewportSize({ width: 390, height: 844 });
  await signUp(page);
  await createProject(page, "Garden");
  const header = page.getByRole("region", { name: "Sections of Garden" });
  await header.getByLabel("New section name").fill("Doing");
  await header.getByRole("button", { name: "Add" }).click();
  await header.getByRole("button", { name: "Doing", exact: true }).waitFor();
  await quickAdd(page, "Plant tulips tomorrow");
  await quickAdd(page, "Buy seeds today at 6pm");
  await quickAdd(page, "Prune the roses in 3 days !high");

  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await sidebar(page).getByRole("button", { name: "Upcoming", exact: true }).click();
    await answered(page, "due in next 7 days");
    await shows(daySection(page, day(1)), ["Plant tulips"]);
    await shot(page, `views-06-phone-upcoming-${scheme}`);
    await noAxeFindings(page, `upcoming on a phone, ${scheme}`);

    await sidebar(page).getByRole("button", { name: "Calendar", exact: true }).click();
    await answered(page, /where status = open$/);
    // A list of the month's days with tasks, no grid.
    await page.locator(".agenda").waitFor();
    assert.equal(await page.locator("table.month-grid").count(), 0);
    await shot(page, `views-07-phone-calendar-${scheme}`);
    await noAxeFindings(page, `calendar on a phone, ${scheme}`);

    await sidebar(page).getByRole("button", { name: "Garden", exact: true }).click();
    await header.getByRole("radio", { name: "Board" }).click();
    await answered(page, 'project is "garden"');
    await shows(page.getByRole("region", { name: /^No section/ }), ["Plant tulips", "Buy seeds", "Prune the roses"]);
    const [first, second] = await Promise.all(["No section", "Doing"].map((n) => page.getByRole("region", { name: new RegExp(`^${n}`) }).boundingBox()));
    assert.ok(second!.y > first!.y + first!.height - 1, "the columns are one under another");
    await shot(page, `views-08-phone-board-${scheme}`);
    await noAxeFindings(page, `board on a phone, ${scheme}`);
    await header.getByRole("radio", { name: "List" }).click();
  }

  // A finger drags a card down to the next column, and a task onto another day.
  await header.getByRole("radio", { name: "Board" }).click();
  await touchDrag(page, "Buy seeds", page.getByRole("region", { name: /^Doing/ }));
  await shows(page.getByRole("region", { name: /^Doing/ }), ["Buy seeds"]);
  await sidebar(page).getByRole("button", { name: "Upcoming", exact: true }).click();
  await answered(page, "due in next 7 days");
  await touchDrag(page, "Plant tulips", daySection(page, day(2)));
  await shows(daySection(page, day(2)), ["Plant tulips"]);
  await context.close();
});
