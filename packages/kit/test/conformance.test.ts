// The wire, checked by the protocol's own suite: Connect's conformance runner (connectconformance,
// built by scripts/test.ts) drives its reference client at the ConformanceService served through
// startServer (conformance/server.ts): kit's one-port HTTP/1.1 + h2c socket, its interceptors and
// error mapping. Every server case for Connect, gRPC and gRPC-Web that conformance/config.yaml
// selects must pass, except those in conformance/known-failing.txt (each with its reason), which
// must fail. packages/kit/README.md has the figures.
import { test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

const runner = process.env.TASKMESH_TEST_CONNECTCONFORMANCE;
const dir = path.join(import.meta.dirname, "conformance");

test("Connect's conformance suite passes against kit's server (Connect, gRPC, gRPC-Web; HTTP/1.1 and h2c)", { timeout: 20 * 60_000 }, async ({ signal, skip }) => {
  if (!runner) skip("TASKMESH_TEST_CONNECTCONFORMANCE is not set: run the suites with `npm test`, which builds connectconformance");
  const args = [
    "--mode",
    "server",
    "--conf",
    path.join(dir, "config.yaml"),
    "--known-failing",
    `@${path.join(dir, "known-failing.txt")}`,
    // two cores, shared with the rest of the suite
    "--parallel",
    "2",
    "--max-servers",
    "2",
    "--",
    process.execPath,
    "--import",
    "tsx",
    path.join(dir, "server.ts"),
  ];
  // A case that hangs would hold the runner: the test's timeout ends it.
  const child = spawn(runner!, args, { stdio: ["ignore", "pipe", "pipe"], signal });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  // What failed and the summary ("Total cases: N", "N passed, N failed", the known failures
  // that failed as expected); the known failures' own reports (INFO, with their details) left out.
  const report = output.replace(/^INFO: .* failed \(as expected\):\n(?:\t.*\n)*/gm, "").trimEnd();
  console.log(`${report}\n(connectconformance took ${((Date.now() - t0) / 1000).toFixed(0)}s)`);
  assert.equal(code, 0, "connectconformance failed: the cases above did not pass (or a known failure passed; then drop it from known-failing.txt)");
});
