// The fault suite's short run in the test command: every service, PostgreSQL, Kafka and the registry
// as processes with Toxiproxy between them, killed, slowed, stalled and partitioned under load
// (bench/chaos.ts --short, which starts everything itself and exits 1 on any loss or duplicate). Each
// of its checks is a test here, so a failure says which guarantee broke.
import { beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const CHECKS = ["writes", "events", "reminders", "recurrence", "live", "deadletters"];
describe("kill -9, latency, stalls and a partition under load lose and duplicate nothing", () => {
  let code: number | null;
  let report: string;
  let results: Map<string, { ok: boolean; detail: string }>;

  beforeAll(async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bench/chaos.ts"), "--short"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    report = output
      .split("\n")
      .filter((line) => !line.startsWith("[infra"))
      .join("\n");
    console.log(report);
    results = new Map([...report.matchAll(/^\[chaos [\d:]+\] (ok|FAIL) +(\w+) +(.*)$/gm)].map((m) => [m[2]!, { ok: m[1] === "ok", detail: m[3]! }]));
  }, 15 * 60_000);

  test("the suite ran every check, and its exit code says whether every check passed", () => {
    assert.deepEqual([...results.keys()], CHECKS, `the suite ran every check (exit ${code})\n${report}`);
    assert.equal(
      code === 0,
      [...results.values()].every((r) => r.ok),
      `the exit code (${code}) says whether every check passed`,
    );
  });

  for (const name of CHECKS) {
    test(name, () => {
      const result = results.get(name);
      assert.ok(result, `${name} did not report`);
      assert.ok(result.ok, result.detail);
    });
  }
});
