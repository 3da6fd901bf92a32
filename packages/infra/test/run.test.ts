// The infra scripts run one-shot commands (initdb, pg_ctl, go, java) with their output kept for errors.
import { test } from "vitest";
import assert from "node:assert/strict";
import { run } from "../src/cache.js";

test("a command that exits without reading its input does not crash the caller", async () => {
  // Writing to the closed pipe fails with EPIPE, which must not become an uncaught 'error'.
  const input = "x".repeat(4 * 1024 * 1024);
  for (let i = 0; i < 5; i++) assert.equal(await run("true", [], { input }), "");
});

test("a failing command rejects with its output", async () => {
  await assert.rejects(run("sh", ["-c", "echo broken >&2; exit 3"]), /broken/);
});
