// Run by scripts/launch.mjs before `npm start` and `npm test`, on the Node they run on: installs the
// workspace's packages on a fresh clone, and again whenever package-lock.json is newer than the
// install (a pull brought new dependencies). An install made by another major version of Node is
// rebuilt (`npm rebuild`: install scripts and native modules for this one).
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const marker = "node_modules/.package-lock.json";
const madeBy = "node_modules/.taskmesh-node-major";
const major = process.versions.node.split(".")[0];

// npm's own CLI, run by this node (npm passes its path to scripts as npm_execpath); `npm` otherwise.
const cli = process.env.npm_execpath;
const npm = (args) =>
  cli && /\.[cm]?js$/.test(cli) ? execFileSync(process.execPath, [cli, ...args], { stdio: "inherit" }) : execFileSync("npm", args, { stdio: "inherit", shell: process.platform === "win32" });

const stale = !existsSync(marker) || statSync("package-lock.json").mtimeMs > statSync(marker).mtimeMs;
if (stale) {
  process.stderr.write(`Installing dependencies (npm ci on Node ${process.version}; first run only, about a minute)…\n`);
  npm(["ci", "--no-audit", "--no-fund"]);
  writeFileSync(madeBy, major);
} else if (!existsSync(madeBy) || readFileSync(madeBy, "utf8").trim() !== major) {
  process.stderr.write(`Rebuilding dependencies for Node ${process.version} (npm rebuild, once)…\n`);
  npm(["rebuild"]);
  writeFileSync(madeBy, major);
}
