// Issue 7's proof, in the test command: two task-service and two gateway replicas, each its own
// process, rolled one by one under writes, reads and live devices (bench/zero-downtime.ts, which
// starts its own PostgreSQL, Kafka and Apicurio and exits 1 on any failed request, lost or
// duplicated event, live change missed, or replica that did not drain by itself).
import { test } from "vitest";
import assert from "node:assert/strict";
import { runBench } from "./tools.js";

test("rolling every replica under load fails no request and loses or duplicates nothing", { timeout: 15 * 60_000 }, async () => {
  const { code, report } = await runBench("zero-downtime.ts");
  console.log(report);
  assert.equal(code, 0, report);
});
