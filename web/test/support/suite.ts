// One embedded app and one Chromium for a test file, and pages of that app whose uncaught errors
// (and CSP refusals) fail the test that caused them. A failed test leaves a screenshot of each page
// still open and prints what each showed, so that a failure in CI can be read from its log.
import { afterAll, afterEach, beforeAll } from "vitest";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startApp, type RunningApp } from "./app.js";
import { launchBrowser, screenshot } from "./browser.js";
import { openPage, type PageOptions } from "./session.js";

export interface AppInBrowser {
  /** The running app (set once the file's `before` ran). */
  readonly app: RunningApp;
  /** Errors of pages opened some other way (a tab the service worker opens) go here too. */
  readonly errors: string[];
  /** A new browser context on the app's page. */
  page(options?: Omit<PageOptions, "errors">): Promise<{ context: BrowserContext; page: Page }>;
}

export function appInBrowser(): AppInBrowser {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  const errors: string[] = [];
  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });
  afterEach(async ({ task }) => {
    if (task.result?.state === "fail") await showPages(browser!, task.name);
    assert.deepEqual(errors.splice(0), [], "uncaught errors in the page");
  });
  return {
    get app() {
      return app!;
    },
    errors,
    page: (options = {}) => openPage(browser!, app!.url, { ...options, errors }),
  };
}

async function showPages(browser: Browser, testName: string): Promise<void> {
  const pages = browser.contexts().flatMap((context) => context.pages());
  const name = testName.replace(/[^\w]+/g, "-").slice(0, 60);
  for (const [i, page] of pages.entries()) {
    const shot = `failed-${name}-${i + 1}`;
    const shown = await screenshot(page, shot)
      // biome-ignore lint/performance/useDomNodeTextContent: what the page showed, as laid out, not its hidden text
      .then(() => page.locator("body").innerText())
      .catch((err: Error) => `(could not read the page: ${err.message})`);
    process.stderr.write(`page ${i + 1} of the failed test (${page.url()}; test-artifacts/web/${shot}.png):\n${shown.slice(0, 1500)}\n`);
  }
}
