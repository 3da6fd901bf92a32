// Projects and sharing in Chromium against the real embedded app: the sidebar, sections, quick add's
// #project, moving a task, and a project shared between two people, live. Screenshots in
// test-artifacts/web (projects-*.png).
import { test } from "vitest";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { appInBrowser } from "./support/suite.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { screenshot } from "./support/browser.js";
import { createProject, invite, sidebar } from "./support/projects.js";
import { quickAdd, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

/** Waits until the list shows exactly these titles (in any order). */
async function listShows(page: Page, titles: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const shown = (await page.locator("li.task .task-title").allTextContents()).map((t) => t.trim()).sort();
    if (JSON.stringify(shown) === JSON.stringify([...titles].sort())) return;
    if (Date.now() > deadline) assert.deepEqual(shown, [...titles].sort());
    await page.waitForTimeout(100);
  }
}

test("projects in the sidebar, sections, #project in quick add, moving a task", async () => {
  const { context, page } = await suite.page();
  await signUp(page);
  await sidebar(page).getByRole("button", { name: "Inbox", exact: true }).waitFor();
  await quickAdd(page, "Call the plumber #errands");

  await createProject(page, "Home reno");
  await page.waitForURL(/q=project%3Ahome-reno/);
  await listShows(page, []);
  const header = page.getByRole("region", { name: "Sections of Home reno" });
  await header.getByLabel("New section name").fill("Paint");
  await header.getByRole("button", { name: "Add" }).click();
  await header.getByRole("button", { name: "Paint", exact: true }).waitFor();

  // #home-reno names the project: a chip says so, and the other #word stays a tag.
  await page.getByLabel("Quick add a task").fill("Paint the hall #home-reno #weekend");
  await page.locator('.understood [data-kind="project"]', { hasText: "Home reno" }).waitFor();
  assert.deepEqual(await page.locator('.understood [data-kind="tag"]').allTextContents(), ["#weekend"]);
  await screenshot(page, "projects-01-quick-add");
  await page.getByLabel("Quick add a task").press("Enter");
  await listShows(page, ["Paint the hall"]);
  // On a project's page a line without #project goes there too.
  await quickAdd(page, "Buy rollers");
  await listShows(page, ["Paint the hall", "Buy rollers"]);

  // Moving the Inbox task into the project and its section, from the editor.
  await sidebar(page).getByRole("button", { name: "Inbox", exact: true }).click();
  await listShows(page, ["Call the plumber"]);
  await taskRow(page, "Call the plumber").getByRole("button", { name: "Call the plumber" }).click();
  const editor = page.getByRole("complementary", { name: "Task details" });
  await editor.getByLabel("Project").selectOption({ label: "Home reno" });
  await listShows(page, []);
  await editor.getByLabel("Section").selectOption({ label: "Paint" });
  await editor.getByLabel("Section").and(page.locator(":not([disabled])")).waitFor();
  await page.keyboard.press("Escape");
  await sidebar(page).getByRole("button", { name: "Home reno", exact: true }).click();
  await listShows(page, ["Paint the hall", "Buy rollers", "Call the plumber"]);
  await header.getByRole("button", { name: "Paint", exact: true }).click();
  await listShows(page, ["Call the plumber"]);
  // On a section's page a new line goes into that section, so it shows where it was typed.
  await page.getByLabel("Quick add a task").fill("Buy brushes");
  await page.locator('.understood [data-kind="section"]', { hasText: "Paint" }).waitFor();
  await page.getByLabel("Quick add a task").press("Enter");
  await listShows(page, ["Call the plumber", "Buy brushes"]);
  await screenshot(page, "projects-02-project-and-section");

  // Rename and archive from the project's menu.
  await sidebar(page).getByLabel("Actions for Home reno").click();
  await sidebar(page).getByRole("button", { name: "Rename" }).click();
  await sidebar(page).getByLabel("Rename Home reno").fill("House");
  await sidebar(page).getByRole("button", { name: "Save" }).click();
  await sidebar(page).getByRole("button", { name: "House", exact: true }).waitFor();

  // In the filter too, #name is the project of that name (as Todoist users type it), and a line
  // added there goes into it; a #word that names no project is a tag.
  await page.getByLabel("Filter tasks").fill("#house");
  await listShows(page, ["Paint the hall", "Buy rollers", "Call the plumber", "Buy brushes"]);
  await quickAdd(page, "Sand the door");
  await listShows(page, ["Paint the hall", "Buy rollers", "Call the plumber", "Buy brushes", "Sand the door"]);
  await page.getByLabel("Filter tasks").fill("#errands");
  await listShows(page, ["Call the plumber"]);
  // Todoist's /section: a line added there goes into the project's section.
  await page.getByLabel("Filter tasks").fill("#house /paint");
  await listShows(page, ["Call the plumber", "Buy brushes"]);
  await quickAdd(page, "Buy tape");
  await listShows(page, ["Call the plumber", "Buy brushes", "Buy tape"]);
  // Quick add reads /section as Todoist's does: from the Inbox, a line naming the project and its
  // section goes there, as the chips say before it is saved.
  await sidebar(page).getByRole("button", { name: "Inbox", exact: true }).click();
  await page.getByLabel("Quick add a task").fill("Buy a scraper #house /paint");
  await page.locator('.understood [data-kind="section"]', { hasText: "Paint" }).waitFor();
  assert.equal(await page.locator('.understood [data-kind="title"]').textContent(), "Buy a scraper");
  await page.getByLabel("Quick add a task").press("Enter");
  await page.getByLabel("Filter tasks").fill("#house /paint");
  await listShows(page, ["Call the plumber", "Buy brushes", "Buy tape", "Buy a scraper"]);
  await createProject(page, "Old stuff");
  await sidebar(page).getByLabel("Actions for Old stuff").click();
  await sidebar(page).getByRole("button", { name: "Archive" }).click();
  await sidebar(page).getByRole("button", { name: "Archived (1)" }).waitFor();
  assert.equal(await sidebar(page).getByRole("button", { name: "Old stuff", exact: true }).count(), 0);

  // Today and Upcoming are filters across projects.
  await quickAdd(page, "Order tiles today");
  await sidebar(page).getByRole("button", { name: "Today", exact: true }).click();
  await page.waitForURL(/q=due%3C%3Dtoday/);
  await listShows(page, ["Order tiles"]);
  await sidebar(page).getByRole("button", { name: "Upcoming", exact: true }).click();
  await listShows(page, ["Order tiles"]);

  const findings = await axeViolations(page, "projects sidebar");
  assert.deepEqual(findings, [], formatFindings(findings));
  await context.close();
});

/** Holds the page's answers to `rpc` back until `release()`, which resolves once they are sent on. */
async function holdAnswers(page: Page, rpc: RegExp): Promise<{ release(): Promise<void> }> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const held: Promise<void>[] = [];
  const hold = (route: Parameters<Parameters<Page["route"]>[1]>[0]) => {
    held.push(opened.then(() => route.continue()));
  };
  await page.route(rpc, hold);
  return {
    async release() {
      open();
      await Promise.all(held);
      await page.unroute(rpc, hold);
    },
  };
}

/** The field still holds `value` a second later. */
async function keeps(field: Locator, value: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    assert.equal(await field.inputValue(), value);
    await field.page().waitForTimeout(100);
  }
}

test("what is typed next while the last entry is still being saved stays typed: a section, an invitation, a subtask, a comment", async () => {
  // Answers are held back by page.route, which the service worker's own fetches would bypass.
  const { context, page } = await suite.page({ serviceWorkers: "block" });
  await signUp(page);
  await createProject(page, "Garden");
  const header = page.getByRole("region", { name: "Sections of Garden" });
  const sectionName = header.getByLabel("New section name");
  // The lists refreshed after each addition answer late, as on a busy server.
  let lists = await holdAnswers(page, /TaskService\/ListTasks$/);
  await sectionName.fill("Doing");
  await header.getByRole("button", { name: "Add" }).click();
  await header.getByRole("button", { name: "Doing", exact: true }).waitFor();
  await sectionName.fill("Done");
  await lists.release();
  await keeps(sectionName, "Done");
  await header.getByRole("button", { name: "Add" }).click();
  await header.getByRole("button", { name: "Done", exact: true }).waitFor();
  assert.equal(await sectionName.inputValue(), "");

  lists = await holdAnswers(page, /TaskService\/ListTasks$/);
  const dialog = await invite(page, "Garden", "first@example.com", "Viewer");
  const address = dialog.getByLabel("Invite by e-mail");
  await address.fill("second@example.com");
  await lists.release();
  await keeps(address, "second@example.com");
  await dialog.getByRole("button", { name: "Close sharing" }).click();

  await quickAdd(page, "Plant tulips");
  await taskRow(page, "Plant tulips").getByRole("button", { name: "Plant tulips", exact: true }).click();
  const subtask = page.getByRole("complementary", { name: "Task details" }).getByLabel("Add a subtask");
  const creates = await holdAnswers(page, /TaskService\/CreateTask$/);
  await subtask.fill("Buy bulbs");
  await subtask.press("Enter");
  await subtask.fill("Dig holes");
  await creates.release();
  await taskRow(page, "Buy bulbs").waitFor();
  await keeps(subtask, "Dig holes");

  const comments = page.getByRole("complementary", { name: "Task details" }).getByRole("region", { name: /^Comments/ });
  const comment = comments.getByLabel("Add a comment");
  const added = await holdAnswers(page, /TaskService\/AddComment$/);
  await comment.fill("Tulips want sun");
  await comment.press("Control+Enter");
  await comment.fill("And well-drained soil");
  await added.release();
  await comments.locator(".comment-body", { hasText: "Tulips want sun" }).waitFor();
  await keeps(comment, "And well-drained soil");
  await context.close();
});

test("a project shared by e-mail: invite, accept, changes live both ways, removal takes the tasks away at once", async () => {
  const guest = await suite.page();
  const guestEmail = await signUp(guest.page);
  const owner = await suite.page();
  const ownerEmail = await signUp(owner.page);
  await createProject(owner.page, "Trip");
  await quickAdd(owner.page, "Book the flights");
  await listShows(owner.page, ["Book the flights"]);

  const dialog = await invite(owner.page, "Trip", guestEmail, "Editor");
  await screenshot(owner.page, "projects-03-share-dialog");
  const findings = await axeViolations(owner.page, "share dialog");
  assert.deepEqual(findings, [], formatFindings(findings));
  await dialog.getByRole("button", { name: "Close sharing" }).click();

  // The guest sees the invitation (the sidebar polls; a reload shows it at once) and accepts.
  await guest.page.reload();
  const invitations = guest.page.getByRole("region", { name: "Invitations" });
  await invitations.getByText("invites you to").waitFor();
  await screenshot(guest.page, "projects-04-invitation");
  await invitations.getByRole("button", { name: "Accept" }).click();
  await sidebar(guest.page).getByRole("button", { name: /^Trip/ }).click();
  await listShows(guest.page, ["Book the flights"]);

  // Live both ways: the guest adds, the owner sees it; the owner adds, the guest sees it.
  await quickAdd(guest.page, "Pack the tent");
  await listShows(owner.page, ["Book the flights", "Pack the tent"]);
  await quickAdd(owner.page, "Renew passports");
  await listShows(guest.page, ["Book the flights", "Pack the tent", "Renew passports"]);
  await screenshot(guest.page, "projects-05-shared-project-guest");

  // Assigned from the editor: both rows say to whom, the history names them, and the guest finds it
  // under "Assigned to me".
  const guestName = guestEmail.split("@")[0]!;
  await taskRow(owner.page, "Book the flights").getByRole("button", { name: "Book the flights" }).click();
  const editor = owner.page.getByRole("complementary", { name: "Task details" });
  await editor.getByLabel("Assigned to").selectOption({ label: guestEmail });
  await taskRow(owner.page, "Book the flights")
    .locator(".assignee", { hasText: `→ ${guestName}` })
    .waitFor();
  await taskRow(guest.page, "Book the flights").locator(".assignee", { hasText: "→ you" }).waitFor();
  await taskRow(guest.page, "Book the flights").locator(`.assignee[title="Assigned to you by ${ownerEmail}"]`).waitFor();
  await editor.getByRole("region", { name: "Activity" }).getByText(`assigned to ${guestEmail}`).waitFor();
  await screenshot(owner.page, "projects-05b-assigned");
  await guest.page.getByRole("button", { name: "Assigned to me" }).click();
  await listShows(guest.page, ["Book the flights"]);
  await guest.page.getByRole("button", { name: "Assigned to me" }).click();
  await listShows(guest.page, ["Book the flights", "Pack the tent", "Renew passports"]);

  // Quick add assigns with `+name` (Todoist's habit), and says to whom before saving.
  await guest.page.getByLabel("Quick add a task").fill(`Buy sunscreen +${ownerEmail.split("@")[0]} tomorrow`);
  await guest.page.locator('.understood [data-kind="assignee"]', { hasText: ownerEmail }).waitFor();
  assert.equal(await guest.page.locator('.understood [data-kind="title"]').textContent(), "Buy sunscreen");
  await screenshot(guest.page, "projects-05c-quick-add-assign");
  await guest.page.getByLabel("Quick add a task").press("Enter");
  await taskRow(owner.page, "Buy sunscreen").locator(".assignee", { hasText: "→ you" }).waitFor();
  await guest.page.getByLabel("Complete Buy sunscreen").click();
  await listShows(owner.page, ["Book the flights", "Pack the tent", "Renew passports"]);

  // Deleted, then Undo in the toast: back in the project, still assigned.
  await editor.getByRole("button", { name: "Delete" }).click();
  await listShows(owner.page, ["Pack the tent", "Renew passports"]);
  await owner.page.locator(".toast", { hasText: "Deleted “Book the flights”" }).getByRole("button", { name: "Undo" }).click();
  await listShows(owner.page, ["Book the flights", "Pack the tent", "Renew passports"]);
  await taskRow(guest.page, "Book the flights").locator(".assignee", { hasText: "→ you" }).waitFor();

  // Made a viewer: the guest's page (once it read its projects again) offers nothing it would refuse,
  // and commenting still works.
  await sidebar(owner.page).getByLabel("Actions for Trip").click();
  await sidebar(owner.page).getByRole("button", { name: "Share…" }).click();
  await owner.page.getByRole("dialog").getByLabel(`Role of ${guestEmail}`).selectOption({ label: "Viewer" });
  await owner.page.getByRole("dialog").getByRole("button", { name: "Close sharing" }).click();
  await guest.page.reload();
  await listShows(guest.page, ["Book the flights", "Pack the tent", "Renew passports"]);
  assert.equal(await guest.page.getByLabel("Quick add a task").isDisabled(), true);
  assert.equal(await guest.page.getByLabel("Complete Pack the tent").isDisabled(), true);
  await taskRow(guest.page, "Pack the tent").getByRole("button", { name: "Pack the tent" }).click();
  const guestEditor = guest.page.getByRole("complementary", { name: "Task details" });
  await guestEditor.getByText("View only: you are a viewer of “Trip”").waitFor();
  assert.equal(await guestEditor.getByLabel("Title").isDisabled(), true);
  assert.equal(await guestEditor.getByRole("button", { name: "Save" }).count(), 0);
  await guestEditor.getByPlaceholder(/Add a comment/).fill("Tent is in the loft");
  await guestEditor.getByRole("button", { name: "Comment", exact: true }).click();
  await guestEditor.getByText("Tent is in the loft").waitFor();
  await screenshot(guest.page, "projects-05d-viewer");
  await guest.page.keyboard.press("Escape");

  // Removed: the guest's open page loses the project's tasks without a reload.
  await sidebar(owner.page).getByLabel("Actions for Trip").click();
  await sidebar(owner.page).getByRole("button", { name: "Share…" }).click();
  await screenshot(owner.page, "projects-06-members");
  await owner.page.getByRole("dialog").locator(".member-list li", { hasText: guestEmail }).getByRole("button", { name: "Remove" }).click();
  await owner.page.getByRole("dialog").locator(".member-list li", { hasText: guestEmail }).waitFor({ state: "detached" });
  await listShows(guest.page, []);
  await screenshot(guest.page, "projects-07-removed");
  await guest.context.close();
  await owner.context.close();
});
