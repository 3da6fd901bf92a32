// Comments in the task editor, in Chromium against the real embedded app: two members of a shared
// project with the same task open, each one's comment (and its edit and deletion) appearing on the
// other's page live, with its author and time, and in the task's activity. Screenshots in test-artifacts/web (comments-*.png).
import { test } from "vitest";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { appInBrowser } from "./support/suite.js";
import { screenshot } from "./support/browser.js";
import { createProject, invite, sidebar } from "./support/projects.js";
import { quickAdd, signUp, taskRow } from "./support/session.js";

const suite = appInBrowser();

const editorOf = (page: Page) => page.getByRole("complementary", { name: "Task details" });
const commentsOf = (page: Page) => editorOf(page).getByRole("region", { name: /^Comments/ });

async function comment(page: Page, text: string): Promise<void> {
  await commentsOf(page).getByLabel("Add a comment").fill(text);
  await commentsOf(page).getByRole("button", { name: "Comment" }).click();
  await commentsOf(page).locator(".comment-body", { hasText: text }).waitFor();
}

test("a comment from another member appears live in the open editor, with its author and time, and in the activity", async () => {
  const guest = await suite.page();
  const guestEmail = await signUp(guest.page);
  const owner = await suite.page();
  const ownerEmail = await signUp(owner.page);

  await createProject(owner.page, "Trip");
  await quickAdd(owner.page, "Book the flights");
  // A viewer: comments are open to every member, viewers too.
  const dialog = await invite(owner.page, "Trip", guestEmail, "Viewer");
  await dialog.getByRole("button", { name: "Close sharing" }).click();

  await guest.page.reload();
  await guest.page.getByRole("region", { name: "Invitations" }).getByRole("button", { name: "Accept" }).click();
  await sidebar(guest.page).getByRole("button", { name: /^Trip/ }).click();

  // Both open the task.
  for (const page of [owner.page, guest.page]) {
    await taskRow(page, "Book the flights").getByRole("button", { name: "Book the flights" }).click();
    await commentsOf(page).getByText("No comments yet.").waitFor();
  }

  await comment(owner.page, "Which airline?");
  const mine = commentsOf(owner.page).locator("li", { hasText: "Which airline?" });
  assert.equal(await mine.locator("strong").textContent(), "You");
  assert.equal(await mine.locator("time").textContent(), "just now");

  // On the guest's page, without a reload: the owner's comment under the owner's e-mail.
  const theirs = commentsOf(guest.page).locator("li", { hasText: "Which airline?" });
  await theirs.waitFor();
  assert.equal(await theirs.locator("strong").textContent(), ownerEmail);
  assert.equal(await theirs.locator("time").textContent(), "just now");

  // The viewer answers; it reaches the owner's open editor live, after the first comment.
  await comment(guest.page, "KLM, please.\nWindow seat if we can.");
  await commentsOf(owner.page).locator("li", { hasText: "KLM, please." }).waitFor();
  assert.deepEqual(
    (await commentsOf(owner.page).locator(".comment-body").allTextContents()).map((t) => t.split("\n")[0]),
    ["Which airline?", "KLM, please."],
  );
  assert.equal(await commentsOf(owner.page).locator("li", { hasText: "KLM, please." }).locator("strong").textContent(), guestEmail);
  await editorOf(owner.page).getByRole("heading", { name: "Comments (2)" }).waitFor();

  // Both comments are in the task's history.
  const activity = editorOf(owner.page).getByRole("region", { name: "Activity" });
  await activity.getByText('commented "KLM, please.').waitFor();
  await activity.getByText('commented "Which airline?"').waitFor();
  assert.ok(((await activity.locator("li", { hasText: 'commented "KLM, please.' }).textContent()) ?? "").includes(`by ${guestEmail}`), "the author by e-mail");
  await screenshot(owner.page, "comments-01-owner");
  await screenshot(guest.page, "comments-02-viewer");

  // Each edits and deletes only their own: the change reaches the other page live.
  assert.equal(await commentsOf(guest.page).locator("li", { hasText: "Which airline?" }).getByRole("button", { name: "Edit comment" }).count(), 0);
  await commentsOf(owner.page).locator("li", { hasText: "Which airline?" }).getByRole("button", { name: "Edit comment" }).click();
  await commentsOf(owner.page).getByLabel("Edited comment").fill("Which airline? The cheapest is fine.");
  await commentsOf(owner.page).getByRole("button", { name: "Save" }).click();
  const edited = commentsOf(guest.page).locator("li", { hasText: "The cheapest is fine." });
  await edited.waitFor();
  assert.equal(await edited.locator("time").textContent(), "just now (edited)");
  await commentsOf(guest.page).locator("li", { hasText: "KLM, please." }).getByRole("button", { name: "Delete comment" }).click();
  await commentsOf(owner.page).locator("li", { hasText: "KLM, please." }).waitFor({ state: "detached" });
  await editorOf(owner.page).getByRole("heading", { name: "Comments (1)" }).waitFor();
  await activity.getByText("deleted a comment").waitFor();
  await screenshot(guest.page, "comments-03-edited");

  // A blank comment cannot be sent.
  await commentsOf(guest.page).getByLabel("Add a comment").fill("   ");
  assert.equal(await commentsOf(guest.page).getByRole("button", { name: "Comment" }).isDisabled(), true);

  // Deleted, then Undo in the toast: the same task comes back with its comment, on both pages.
  await editorOf(owner.page).getByRole("button", { name: "Delete", exact: true }).click();
  await taskRow(guest.page, "Book the flights").waitFor({ state: "detached" });
  await owner.page.locator(".toast", { hasText: "Deleted “Book the flights”" }).getByRole("button", { name: "Undo" }).click();
  await taskRow(guest.page, "Book the flights").getByRole("button", { name: "Book the flights" }).click();
  await commentsOf(guest.page).locator("li", { hasText: "The cheapest is fine." }).waitFor();
  await editorOf(guest.page).getByRole("region", { name: "Activity" }).getByText('restored "Book the flights"').waitFor();
  await guest.context.close();
  await owner.context.close();
});
