// Issue 7's proof, in the test command: two task-service and two gateway replicas, each its own
// process, rolled one by one under writes, reads and live devices (bench/zero-downtime.ts, which
// starts its own PostgreSQL, Kafka and Apicurio and exits 1 on any failed request, lost or
// duplicated event, live change missed, or replica that did not drain by itself).
import { test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

test("rolling every replica under load fails no request and loses or duplicates nothing", { timeout: 15 * 60_000 }, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bench/zero-downtime.ts")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const report = output
    .split("\n")
    .filter((line) => !line.startsWith("[infra"))
    .join("\n");
  console.log(report);
  assert.equal(code, 0, report);
});
