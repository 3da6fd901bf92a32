import { chromium, type Page } from "playwright-core";
const base = "http://localhost:8090";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const errors: string[] = [];
async function user(email: string, width = 1280): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push(`${email} pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`${email} console: ${m.text()}`); });
  await page.goto(base);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Quick add a task").waitFor();
  return page;
}
const shot = (p: Page, n: string) => p.screenshot({ path: `/tmp/shots/${n}.png` });
const step = process.argv[2];
try {
  const mod = await import(`/tmp/step-${step}.mts`);
  await mod.default({ user, shot, errors });
} catch (e) { console.log("FAILED", e); }
console.log(errors.join("\n"));
await browser.close();
