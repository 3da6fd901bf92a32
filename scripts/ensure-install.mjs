// Runs before `npm start` and `npm test`: installs the workspace's packages on a fresh clone, and
// again whenever package-lock.json is newer than the install (a pull brought new dependencies).
import { existsSync, statSync } from "node:fs";
import { execSync } from "node:child_process";

const marker = "node_modules/.package-lock.json";
const stale = !existsSync(marker) || statSync("package-lock.json").mtimeMs > statSync(marker).mtimeMs;
if (stale) {
  process.stderr.write("Installing dependencies (npm ci; first run only, about a minute)…\n");
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}
