// Saved filters follow the user: saved on one device, listed on another; forgotten there, gone here
// after a reload; and ones an earlier version kept in a browser's localStorage move to the server.
import { test } from "vitest";
import assert from "node:assert/strict";
import { appInBrowser } from "./support/suite.js";
import { screenshot } from "./support/browser.js";
import { signIn, signUp } from "./support/session.js";

const suite = appInBrowser();

test("saved filters are kept by the server: the same on every device, and moved there from localStorage", async () => {
  const laptop = await suite.page();
  // What an earlier version kept in this browser.
  await laptop.page.evaluate(`localStorage.setItem("taskmesh.savedFilters", JSON.stringify(["#errands"]))`);
  const email = await signUp(laptop.page);
  const savedHere = laptop.page.getByRole("group", { name: "Saved filters" });
  await savedHere.getByRole("button", { name: "#errands", exact: true }).waitFor();
  assert.equal(await laptop.page.evaluate(`localStorage.getItem("taskmesh.savedFilters")`), null, "moved, not copied");
  await laptop.page.getByLabel("Filter tasks").fill("status:open #home");
  await laptop.page.getByRole("button", { name: "Save this filter" }).click();
  await savedHere.getByRole("button", { name: "status:open #home", exact: true }).waitFor();

  const phone = await suite.page();
  await signIn(phone.page, email);
  const savedThere = phone.page.getByRole("group", { name: "Saved filters" });
  await savedThere.getByRole("button", { name: "status:open #home", exact: true }).waitFor();
  await savedThere.getByRole("button", { name: "#errands", exact: true }).waitFor();
  await screenshot(phone.page, "saved-filters-on-second-device");
  await savedThere.getByRole("button", { name: "Forget saved filter #errands" }).click();
  await savedThere.getByRole("button", { name: "#errands", exact: true }).waitFor({ state: "detached" });

  await laptop.page.reload();
  await savedHere.getByRole("button", { name: "status:open #home", exact: true }).waitFor();
  assert.equal(await savedHere.getByRole("button", { name: "#errands", exact: true }).count(), 0);
  await phone.context.close();
  await laptop.context.close();
});
