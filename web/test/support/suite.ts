// One embedded app and one Chromium for a test file, and pages of that app whose uncaught errors
// (and CSP refusals) fail the test that caused them.
import { afterAll, afterEach, beforeAll } from "vitest";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startApp, type RunningApp } from "./app.js";
import { launchBrowser } from "./browser.js";
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
  afterEach(() => assert.deepEqual(errors.splice(0), [], "uncaught errors in the page"));
  return {
    get app() {
      return app!;
    },
    errors,
    page: (options = {}) => openPage(browser!, app!.url, { ...options, errors }),
  };
}
