// Every deployable refuses a bad configuration the same way: before opening anything, every wrong
// variable listed with what it expects, exit code 2, no stack trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { prepareConfig } from "../src/prepare-config.js";
import { root } from "./tools.js";

test("the release hook's settings: a bad value and a missing required one are listed together", () => {
  assert.deepEqual(prepareConfig.check({ SCHEMA_REGISTRY_URL: "registry", LOG_LEVEL: "loud" }).problems, [
    'LOG_LEVEL: expected one of `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`, got "loud"',
    "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
    'SCHEMA_REGISTRY_URL: expected a URL (http or https), e.g. http://host:port, got "registry"',
  ]);
});

const service = { env: { PORT: "http", DRAIN_DELAY_MS: "soon" }, wrong: ["PORT", "DRAIN_DELAY_MS"] };
const withDatabase = { ...service, wrong: [...service.wrong, "DATABASE_URL"] };
/** Each deployable's entry, variables set wrong, and every variable the refusal must name. */
const CASES: Record<string, { main: string; env: Record<string, string>; wrong: string[] }> = {
  tasks: { main: "services/tasks/src/main.ts", ...withDatabase },
  recurrence: { main: "services/recurrence/src/main.ts", ...service },
  reminders: { main: "services/reminders/src/main.ts", ...withDatabase },
  audit: { main: "services/audit/src/main.ts", ...withDatabase },
  gateway: { main: "gateway/src/main.ts", ...withDatabase, wrong: [...withDatabase.wrong, "TASKMESH_JWT_SECRET", "TASKS_URL"] },
  app: { main: "services/app/src/main.ts", ...service },
  prepare: { main: "deploy/src/prepare.ts", env: { LOG_LEVEL: "loud" }, wrong: ["LOG_LEVEL", "DATABASE_URL", "SCHEMA_REGISTRY_URL"] },
};

function run(main: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  // Only PATH from this environment: a variable of the test runner must not make a setting valid.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, main)], { cwd: root, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

for (const [name, { main, env, wrong }] of Object.entries(CASES)) {
  test(`${name}: wrong settings stop the start with exit 2 and every one of them listed`, { timeout: 60_000 }, async () => {
    const { code, stderr, stdout } = await run(main, env);
    assert.equal(code, 2, stderr);
    const listed = stderr.split("\n").flatMap((l) => (l.startsWith("  - ") ? [l.slice(4).split(":")[0]] : []));
    assert.deepEqual(listed.sort(), [...wrong].sort(), stderr);
    assert.match(stderr, new RegExp(`^${name}: not started, ${wrong.length} settings are wrong:\n`));
    assert.doesNotMatch(stderr + stdout, /\n\s+at /, "no stack trace");
    assert.match(stdout, /"msg":"configuration refused"/);
  });
}
