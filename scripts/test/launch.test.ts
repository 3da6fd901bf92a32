// scripts/launch.mjs, the start of `npm start`/`npm test`: run by the machine's node, it runs the
// command on Node 24, says so once, and passes on exit codes and signals. Uses the Node 24 it
// already put in the cache (npm test itself runs through it).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, test } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const launcher = path.join(root, "scripts/launch.mjs");
const machineNode = process.env.TASKMESH_MACHINE_NODE ?? process.execPath;
const machineMajor = Number(spawnSync(machineNode, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.split(".")[0]);
const dir = mkdtempSync(path.join(tmpdir(), "taskmesh-launch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

/** The environment of a shell: no npm script variables, no marks of an enclosing launcher. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("npm_") && !["NODE", "TASKMESH_NODE_NOTED", "TASKMESH_MACHINE_NODE", "NODE_OPTIONS"].includes(k)) env[k] = v;
  env.PATH = [path.dirname(machineNode), ...(process.env.PATH ?? "").split(path.delimiter).filter((p) => p !== path.dirname(process.execPath))].join(path.delimiter);
  return env;
}

test("on an older node, the command runs on Node 24 with it first on PATH, and the output says so once", (ctx) => {
  if (machineMajor >= 24) ctx.skip("the machine's node is 24 or newer");
  const file = script(
    "versions.ts",
    `import { execFileSync } from "node:child_process";\nconsole.log(JSON.stringify({ self: process.version, onPath: execFileSync("node", ["--version"], { encoding: "utf8" }).trim() }));\n`,
  );
  const r = spawnSync(machineNode, [launcher, "ts", file], { cwd: root, env: shellEnv(), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const { self, onPath } = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { self: string; onPath: string };
  assert.match(self, /^v24\./);
  assert.equal(onPath, self, "children that run `node` get Node 24 too (npm ci, vite, tsc)");
  const notes = r.stderr.split("\n").filter((l) => l.startsWith("using Node"));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0]!, new RegExp(`^using Node ${self} from .*node \\(the machine has v${machineMajor}\\.`));
});

test("the command's exit code is the launcher's", () => {
  const file = script("exit.ts", "process.exit(7);\n");
  const r = spawnSync(machineNode, [launcher, "ts", file], { cwd: root, env: shellEnv(), encoding: "utf8" });
  assert.equal(r.status, 7, r.stderr);
});

test("SIGTERM to the launcher reaches the command once; it exits as the command does", async () => {
  const file = script(
    "signals.ts",
    `let n = 0;\nprocess.on("SIGTERM", () => { n++; setTimeout(() => { console.log("got " + n); process.exit(3); }, 300); });\nconsole.log("ready");\nsetInterval(() => {}, 1000);\n`,
  );
  const child = spawn(machineNode, [launcher, "ts", file], { cwd: root, env: shellEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise<void>((resolve) => child.stdout.on("data", () => out.includes("ready") && resolve()));
  child.kill("SIGTERM");
  child.kill("SIGTERM"); // npm relays what it receives: the command still gets it once
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(code, 3);
  assert.match(out, /got 1\n/);
});
