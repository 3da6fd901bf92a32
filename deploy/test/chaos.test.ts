// The fault suite's short run in the test command: every service, PostgreSQL, Kafka and the registry
// as processes with Toxiproxy between them, killed, slowed, stalled and partitioned under load
// (bench/chaos.ts --short, which starts everything itself and exits 1 on any loss or duplicate). Each
// of its checks is a test here, so a failure says which guarantee broke.
import { beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { runBench } from "./tools.js";

const CHECKS = ["writes", "events", "reminders", "recurrence", "live", "deadletters"];
describe("kill -9, latency, stalls and a partition under load lose and duplicate nothing", () => {
  let code: number | null;
  let report: string;
  let results: Map<string, { ok: boolean; detail: string }>;

  beforeAll(async () => {
    ({ code, report } = await runBench("chaos.ts", ["--short"]));
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
