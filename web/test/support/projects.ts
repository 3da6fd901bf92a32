// Projects as a person handles them in the sidebar: making one, and sharing it with someone by e-mail.
import type { Locator, Page } from "playwright-core";

export const sidebar = (page: Page) => page.getByRole("navigation", { name: "Projects" });

/** A new project from the sidebar; resolves once its header shows. */
export async function createProject(page: Page, name: string): Promise<void> {
  await sidebar(page).getByRole("button", { name: "+ New project" }).click();
  await sidebar(page).getByLabel("New project name").fill(name);
  await sidebar(page).getByRole("button", { name: "Save" }).click();
  await page.getByRole("region", { name: `Sections of ${name}` }).waitFor();
}

/** Invites `email` to the project as `role` from its share dialog; resolves to the dialog, still open, once the invitation is listed. */
export async function invite(page: Page, project: string, email: string, role: "Viewer" | "Editor" | "Admin"): Promise<Locator> {
  await sidebar(page).getByLabel(`Actions for ${project}`).click();
  await sidebar(page).getByRole("button", { name: "Share…" }).click();
  const dialog = page.getByRole("dialog", { name: `Share “${project}”` });
  await dialog.getByLabel("Invite by e-mail").fill(email);
  await dialog.getByLabel("Role of the invited person").selectOption({ label: role });
  await dialog.getByRole("button", { name: "Invite" }).click();
  await dialog.locator(".member-list li.pending", { hasText: email }).waitFor();
  return dialog;
}
