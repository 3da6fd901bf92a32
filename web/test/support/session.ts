// A signed-up user in a fresh browser context of the app under test: signing up and in, quick add,
// a task's row, and pages with the context settings a suite needs (the viewer's zone and locale).
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { screenshot } from "./browser.js";

export const PASSWORD = "correct horse battery";
let users = 0;

export interface PageOptions extends Pick<BrowserContextOptions, "timezoneId" | "locale" | "serviceWorkers"> {
  /** Uncaught page errors and refusals by the page's CSP land here: the test asserts it stays empty. */
  errors: string[];
}

export async function openPage(browser: Browser, url: string, options: PageOptions): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    timezoneId: options.timezoneId ?? "Europe/Berlin",
    locale: options.locale ?? "en-GB",
    serviceWorkers: options.serviceWorkers,
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on("pageerror", (err) => options.errors.push(err.message));
  // A resource (the service worker, the manifest…) the page's Content-Security-Policy refused is a broken feature too.
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) options.errors.push(message.text());
  });
  await page.goto(url);
  return { context, page };
}

/** A new account, signed in; `shot`: a screenshot of the filled-in form under that name. */
export async function signUp(page: Page, shot?: string): Promise<string> {
  const email = `web-${process.pid}-${++users}-${Date.now()}@example.com`;
  await createAccount(page, email, shot);
  await page.getByLabel("Quick add a task").waitFor();
  return email;
}

/** From the sign-in form: the sign-up form filled in with `email` and sent (what follows is the caller's to wait for). */
export async function createAccount(page: Page, email: string, shot?: string): Promise<void> {
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  if (shot) await screenshot(page, shot);
  await page.getByRole("button", { name: "Create account" }).click();
}

export async function signIn(page: Page, email: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Quick add a task").waitFor();
}

/** Types a line into quick add and saves it. */
export async function quickAdd(page: Page, line: string): Promise<void> {
  await page.getByLabel("Quick add a task").fill(line);
  await page.getByLabel("Quick add a task").press("Enter");
  await page.locator(".toast", { hasText: "Added" }).first().waitFor();
}

export const taskRow = (page: Page, title: string) => page.locator("li.task", { has: page.getByRole("button", { name: title, exact: true }) });
