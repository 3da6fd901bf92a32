// Accounts in Chromium against the embedded app with an SMTP server (a real one, smtp-server): sign
// up, told to check the inbox, open the e-mailed link and be signed in; a guessable password refused
// with the reason; forgot the password, open the reset link, choose a new one, sign in with it.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startSmtpServer, type TestSmtpServer } from "@taskmesh/testing/smtp";
import { freePort } from "@taskmesh/testing/infra";
import { startApp, type RunningApp } from "./support/app.js";
import { axeViolations, formatFindings, type AxeFinding } from "./support/axe.js";
import { launchBrowser, screenshot } from "./support/browser.js";

let app: RunningApp;
let smtp: TestSmtpServer;
let browser: Browser;
let publicUrl: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  app = await startApp({ PORT: String(port), SMTP_URL: smtp.url, TASKMESH_PUBLIC_URL: publicUrl });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await smtp?.close();
});

async function linkIn(to: string, subject: string, path: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mail = smtp.mails.findLast((m) => m.subject === subject && (m.to as { text: string }).text === to);
    const link = new RegExp(`${publicUrl}${path}#token=[\\w-]+`).exec(mail?.text ?? "")?.[0];
    if (link) return link;
    if (Date.now() > deadline) throw new Error(`no "${subject}" to ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

test("sign up by e-mail link, a guessable password refused, reset by e-mail link", async () => {
  const email = `inbox-${Date.now()}@example.com`;
  const { page, errors } = await newPage();
  const findings: AxeFinding[] = [];
  await page.goto(app.url);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("password1");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("alert").filter({ hasText: "commonly used password" }).waitFor();
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `Check ${email}` })
    .waitFor();
  findings.push(...(await axeViolations(page, "check your inbox")));
  await screenshot(page, "accounts-check-inbox");

  await page.goto(await linkIn(email, "Confirm your taskmesh account", "/verify-email"));
  await page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/", "the link's address (and token) is left behind");
  assert.equal(new URL(page.url()).hash, "");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  await page.getByRole("button", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByRole("status").filter({ hasText: "a link to choose a new password is on its way" }).waitFor();

  await page.goto(await linkIn(email, "Reset your taskmesh password", "/reset-password"));
  await page.getByLabel("New password").fill("qwertyuiop");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.getByRole("alert").filter({ hasText: "most used passwords" }).waitFor();
  findings.push(...(await axeViolations(page, "new password")));
  await page.getByLabel("New password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.getByRole("status").filter({ hasText: "Your password has changed" }).waitFor();
  await screenshot(page, "accounts-password-changed");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).waitFor();

  assert.deepEqual(errors, []);
  assert.equal(findings.length, 0, formatFindings(findings));
  await page.context().close();
});
