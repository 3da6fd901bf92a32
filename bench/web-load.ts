// `npm run bench -- web-load`: what the web app costs a browser. Prints the built bundle's size
// (each asset under web/dist, raw and gzip -9, source maps left out) and the cold time to
// interactive: Chromium (TASKMESH_CHROMIUM or /usr/bin/chromium) in a new context each round (empty
// cache, no service worker yet) loads the embedded app's page until the sign-in form's button can
// be clicked; BENCH_WEB_ROUNDS (7) rounds, median (min–max), with DOMContentLoaded beside it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { chromium } from "playwright-core";
import { startApp } from "../web/test/support/app.js";

const ROUNDS = Number(process.env.BENCH_WEB_ROUNDS ?? 7);
const dist = path.resolve(import.meta.dirname, "../web/dist");

function assets(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? assets(full) : /\.(js|css|html|webmanifest|svg)$/.test(entry) ? [full] : [];
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const app = await startApp();
try {
  let raw = 0;
  let zipped = 0;
  console.log("asset                                   raw        gzip");
  for (const file of assets(dist).sort()) {
    const body = readFileSync(file);
    const gz = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    zipped += gz;
    console.log(`${path.relative(dist, file).padEnd(38)} ${kb(body.length).padStart(10)} ${kb(gz).padStart(10)}`);
  }
  console.log(`${"total".padEnd(38)} ${kb(raw).padStart(10)} ${kb(zipped).padStart(10)}\n`);

  const browser = await chromium.launch({ executablePath: process.env.TASKMESH_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const tti: number[] = [];
  const dcl: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(app.url, { waitUntil: "commit" });
    await page.getByRole("button", { name: "Create an account" }).click({ trial: true, timeout: 30_000 });
    tti.push(Date.now() - started);
    dcl.push(Math.round(await page.evaluate<number>("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")));
    await context.close();
  }
  await browser.close();
  const fmt = (xs: number[]) => `${median(xs)} ms (${Math.min(...xs)}–${Math.max(...xs)})`;
  console.log(`cold time to interactive (sign-in form clickable), ${ROUNDS} rounds: ${fmt(tti)}`);
  console.log(`DOMContentLoaded: ${fmt(dcl)}`);
} finally {
  await app.stop();
}
