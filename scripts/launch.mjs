// Where the README's commands start (`npm start`, `npm test`, `npm run stack`, `npm run bench`). npm
// runs this file with whatever `node` the machine has, so it is plain JavaScript for any Node ≥ 18;
// everything after it runs on Node 24 LTS:
//
//   1. Node 24 (scripts/project-node.mjs: the machine's when it is recent enough, else the
//      project's own, fetched once from the npm registry), said once in the output.
//   2. Dependencies (scripts/ensure-install.mjs) and the web app (web/ensure-build.mjs), with Node
//      24 first on PATH, so `npm ci` and every tool it starts run on it.
//   3. `start`: the server compiled by `tsc -b tsconfig.build.json` (incremental: a second or less
//      when nothing changed), then `node apps/embedded/dist/main.js` with the heap and allocator
//      bounds of scripts/app-node.mjs. `ts <file.ts> [args]`:
//      `node --import tsx <file.ts> [args]` (tests, the local stack, benchmarks run TypeScript).
//
// The command runs as this process's only child, stdio inherited; its exit code (or signal) becomes
// ours, and SIGTERM/SIGHUP (and SIGINT not sent by the terminal, which reaches the child itself) are
// passed on to it once.
//
//   node scripts/launch.mjs start
//   node scripts/launch.mjs ts scripts/test.ts [files…]
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { appNodeArgs, appNodeEnv } from "./app-node.mjs";
import { ensureNode, fail, runAsOnlyChild } from "./project-node.mjs";

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "..");

const [command, ...rest] = process.argv.slice(2);
if (command !== "start" && command !== "ts") fail("usage: node scripts/launch.mjs start | ts <file.ts> [args]");
if (command === "ts" && !rest[0]) fail("usage: node scripts/launch.mjs ts <file.ts> [args]");

const node = await ensureNode();
// Every child (npm ci and its scripts, vite, tsc, the test runner's own children) finds this node first.
const env = {
  ...process.env,
  PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ""}`,
  npm_node_execpath: node,
  NODE: node,
  TASKMESH_NODE_NOTED: "1",
  TASKMESH_MACHINE_NODE: process.env.TASKMESH_MACHINE_NODE || process.execPath,
};

function run(args, what) {
  const r = spawnSync(node, args, { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) fail(`${what} failed (${r.error?.message ?? (r.signal || `exit ${r.status}`)})`);
}

run(["scripts/ensure-install.mjs"], "installing dependencies");
run(["web/ensure-build.mjs"], "building the web app");

let args;
/** What the command's process alone adds to its environment (npm ci, tsc and the web build run without). */
let appEnv = {};
if (command === "start") {
  build();
  // Heap and allocator bounds that keep the app's memory near its live heap (scripts/app-node.mjs).
  args = [...appNodeArgs(), "--conditions=taskmesh-dist", "--enable-source-maps", "apps/embedded/dist/main.js", ...rest];
  appEnv = appNodeEnv();
} else {
  args = ["--import", "tsx", ...rest];
}

/**
 * `tsc -b`: the server's JavaScript into each package's dist/, only what changed since the last
 * build (well under a second when nothing did). Emit only (--noCheck), as tsx ran the sources
 * unchecked before: the type check is `npm test`'s first step.
 */
function build() {
  // the projects tsconfig.build.json references (each writes dist/tsconfig.build.tsbuildinfo)
  const projects = [...readFileSync(path.join(root, "tsconfig.build.json"), "utf8").matchAll(/"path":\s*"([^"]+)"/g)].map((m) => path.dirname(m[1]));
  const stamps = () => projects.map((dir) => path.join(root, dir, "dist", "tsconfig.build.tsbuildinfo")).map((info) => (existsSync(info) ? statSync(info).mtimeMs : 0));
  const before = stamps();
  if (before.includes(0)) process.stderr.write("Compiling the server (tsc -b into dist/, a few seconds)…\n");
  const started = Date.now();
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(node, [tsc, "-b", "tsconfig.build.json", "--noCheck"], { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) fail(`compiling the server failed (tsc -b tsconfig.build.json: ${r.signal || `exit ${r.status}`})`);
  if (stamps().join() !== before.join()) process.stderr.write(`compiled the server (tsc -b, ${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

runAsOnlyChild(node, args, { cwd: root, env: { ...env, ...appEnv } });
