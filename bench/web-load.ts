// `npm run bench -- web-load`: what the web app costs a browser. Prints the built bundle's size
// (each asset under web/dist, raw and as sent to a browser that accepts Brotli, source maps left
// out) and the cold time to interactive: Chromium (TASKMESH_CHROMIUM or /usr/bin/chromium) in a new
// context each round (empty cache, no service worker yet) loads the embedded app's page until the
// sign-in form's button can be clicked; BENCH_WEB_ROUNDS (7) rounds, median (min–max), with
// DOMContentLoaded beside it and the bytes the browser received for the page and its files (bodies
// as sent, compressed or not). BENCH_WEB_KBPS (e.g. 1600) and BENCH_WEB_LATENCY_MS (e.g. 150) make
// the link that slow (Chromium's network emulation), as a phone on a mobile network.
// BENCH_WEB_DIRS="before=/path/to/dist,after=web/dist" compares builds, each served by an app of
// its own, their rounds interleaved so a busy machine weighs on both alike.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { startApp } from "../web/test/support/app.js";

const ROUNDS = Number(process.env.BENCH_WEB_ROUNDS ?? 7);
const KBPS = Number(process.env.BENCH_WEB_KBPS ?? 0);
const LATENCY_MS = Number(process.env.BENCH_WEB_LATENCY_MS ?? 0);
const dist = path.resolve(import.meta.dirname, "../web/dist");

function assets(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? assets(full) : /\.(js|css|html|webmanifest|svg)$/.test(entry) ? [full] : [];
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const builds = (process.env.BENCH_WEB_DIRS ?? `now=${dist}`).split(",").map((entry) => {
  const [label, dir] = entry.split("=") as [string, string];
  return { label, dir: path.resolve(dir) };
});
const apps = await Promise.all(builds.map((b) => startApp({ TASKMESH_WEB_DIR: b.dir })));
try {
  for (const build of builds) {
    // What goes to a browser that accepts Brotli: the build's .br copy where it wrote one.
    let raw = 0;
    let sent = 0;
    console.log(`${build.label} (${build.dir})\nasset                                   raw   sent (br)`);
    for (const file of assets(build.dir).sort()) {
      const size = statSync(file).size;
      const br = existsSync(`${file}.br`) ? statSync(`${file}.br`).size : size;
      raw += size;
      sent += br;
      console.log(`${path.relative(build.dir, file).padEnd(38)} ${kb(size).padStart(10)} ${kb(br).padStart(10)}`);
    }
    console.log(`${"total".padEnd(38)} ${kb(raw).padStart(10)} ${kb(sent).padStart(10)}\n`);
  }

  const browser = await chromium.launch({ executablePath: process.env.TASKMESH_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const tti = builds.map(() => [] as number[]);
  const dcl = builds.map(() => [] as number[]);
  const received = builds.map(() => [] as number[]);
  if (KBPS > 0 || LATENCY_MS > 0) console.log(`link: ${KBPS > 0 ? `${KBPS} kbit/s down and up` : "unthrottled"}, ${LATENCY_MS} ms latency\n`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, app] of apps.entries()) {
      const context = await browser.newContext();
      const page = await context.newPage();
      if (KBPS > 0 || LATENCY_MS > 0) {
        const cdp = await context.newCDPSession(page);
        const bytesPerSecond = KBPS > 0 ? (KBPS * 1000) / 8 : -1;
        await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: LATENCY_MS, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond });
      }
      const responses: Promise<number>[] = [];
      page.on("requestfinished", (request) => responses.push(request.sizes().then((s) => s.responseBodySize)));
      const started = Date.now();
      await page.goto(app.url, { waitUntil: "commit" });
      await page.getByRole("button", { name: "Create an account" }).click({ trial: true, timeout: 120_000 });
      tti[i]!.push(Date.now() - started);
      dcl[i]!.push(Math.round(await page.evaluate<number>("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")));
      received[i]!.push((await Promise.all(responses)).reduce((a, b) => a + b, 0));
      await context.close();
    }
  }
  await browser.close();
  const fmt = (xs: number[]) => `${median(xs)} ms (${Math.min(...xs)}–${Math.max(...xs)})`;
  for (const [i, build] of builds.entries()) {
    console.log(`${build.label}: cold time to interactive (sign-in form clickable), ${ROUNDS} rounds: ${fmt(tti[i]!)}; DOMContentLoaded ${fmt(dcl[i]!)}; received ${kb(median(received[i]!))}`);
  }
} finally {
  await Promise.all(apps.map((app) => app.stop()));
}
