// Every deployable refuses a bad configuration the same way: before opening anything, every wrong
// variable listed with what it expects, exit code 2, no stack trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { test } from "vitest";
import type { AnyPiece, ConfigSchema } from "@taskmesh/kit";
import { gatewayConfig } from "../../gateway/src/config.js";
import { auditConfig } from "../../services/audit/src/config.js";
import { recurrenceConfig } from "../../services/recurrence/src/config.js";
import { remindersConfig } from "../../services/reminders/src/config.js";
import { tasksConfig } from "../../services/tasks/src/config.js";
import { prepareConfig } from "../src/prepare-config.js";
import { topicsConfig } from "../src/topics-config.js";
import { find, render, root, type Manifest, type Profile } from "./tools.js";

test("the release hook's settings: a bad value and a missing required one are listed together", () => {
  assert.deepEqual(prepareConfig.check({ SCHEMA_REGISTRY_URL: "registry", LOG_LEVEL: "loud" }).problems, [
    'LOG_LEVEL: expected one of `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`, got "loud"',
    "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
    'SCHEMA_REGISTRY_URL: expected a URL (http or https), e.g. http://host:port, got "registry"',
  ]);
});

const DEPLOYMENTS: Record<string, ConfigSchema<Record<string, AnyPiece>>> = {
  tasks: tasksConfig,
  recurrence: recurrenceConfig,
  reminders: remindersConfig,
  audit: auditConfig,
  gateway: gatewayConfig,
};

/** The chart's variables of a workload; those from the Secret with a valid stand-in (the Secret holds real ones). */
function chartEnv(workload: Manifest): Record<string, string> {
  const env: { name: string; value?: string; valueFrom?: unknown }[] = workload.spec.template.spec.containers[0].env;
  const standIns: Record<string, string> = { DATABASE_URL: "postgres://taskmesh@postgres:5432/taskmesh", KAFKA_BROKERS: "kafka:9092", TASKMESH_JWT_SECRET: "j".repeat(48) };
  return Object.fromEntries(env.map((e) => [e.name, e.valueFrom ? standIns[e.name]! : (e.value ?? "")]));
}

for (const profile of ["local", "cloud"] satisfies Profile[]) {
  test(`${profile} chart: every variable a Deployment gets is one its schema reads, and every workload's settings pass`, () => {
    const manifests = render(profile);
    for (const [name, schema] of Object.entries(DEPLOYMENTS)) {
      const env = chartEnv(find(manifests, "Deployment", name));
      const read = new Set(schema.variables().map((v) => v.name));
      assert.deepEqual(
        Object.keys(env).filter((v) => !read.has(v)),
        [],
        `${name} reads every variable the chart sets`,
      );
      assert.deepEqual(schema.check(env).problems, undefined, name);
    }
    const prepare = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("prepare-"));
    assert.ok(prepare, "the prepare Job");
    assert.deepEqual(prepareConfig.check(chartEnv(prepare)).problems, undefined, "prepare");
    const topics = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("kafka-topics-"));
    // Only the local profile runs a Kafka of its own, and so the Job that makes its topics.
    assert.equal(Boolean(topics), profile === "local", "the kafka-topics Job");
    if (topics) assert.deepEqual(topicsConfig.check(chartEnv(topics)).problems, undefined, "kafka-topics");
  });
}

const service = { env: { PORT: "http", DRAIN_DELAY_MS: "soon" }, wrong: ["PORT", "DRAIN_DELAY_MS"] };
const withDatabase = { ...service, wrong: [...service.wrong, "DATABASE_URL"] };
/** Each deployable's entry, variables set wrong, and every variable the refusal must name. */
const CASES: Record<string, { main: string; env: Record<string, string>; wrong: string[] }> = {
  tasks: { main: "services/tasks/src/main.ts", ...withDatabase },
  recurrence: { main: "services/recurrence/src/main.ts", ...service },
  reminders: { main: "services/reminders/src/main.ts", ...withDatabase },
  audit: { main: "services/audit/src/main.ts", ...withDatabase },
  gateway: { main: "gateway/src/main.ts", ...withDatabase, wrong: [...withDatabase.wrong, "TASKMESH_JWT_SECRET", "TASKS_URL"] },
  app: { main: "apps/embedded/src/main.ts", ...service },
  prepare: { main: "deploy/src/prepare.ts", env: { LOG_LEVEL: "loud" }, wrong: ["LOG_LEVEL", "DATABASE_URL", "SCHEMA_REGISTRY_URL"] },
  "kafka-topics": { main: "deploy/src/topics.ts", env: { KAFKA_TOPIC_PARTITIONS: "0" }, wrong: ["KAFKA_BROKERS", "KAFKA_TOPIC_PARTITIONS"] },
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
