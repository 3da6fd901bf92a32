// Browser-test support: Debian's Chromium driven by playwright-core, screenshots kept under
// test-artifacts/web (git-ignored) for people to look at.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

const root = path.resolve(import.meta.dirname, "../../..");
export const artifactsDir = path.join(root, "test-artifacts", "web");

export function chromiumPath(): string {
  const executable = process.env.TASKMESH_TEST_CHROMIUM;
  if (!executable) throw new Error("TASKMESH_TEST_CHROMIUM is not set: run the browser tests through `npm test` (it installs Chromium), or set it to a Chromium executable");
  return executable;
}

export function launchBrowser(): Promise<Browser> {
  // Root in a container has no user namespaces for Chromium's sandbox.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}
