// scripts/app-node.mjs, the node options and environment `npm start` gives the app: they take
// effect on the project's Node (a renamed or dropped V8 flag would be ignored or refused), and what
// NODE_OPTIONS or the environment already sets wins.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "vitest";
import { appNodeArgs, appNodeEnv } from "../app-node.mjs";

const MiB = 1024 * 1024;

test("the app's node keeps its young generation at two 16 MiB semi-spaces and its old one at 256 MiB under churn", () => {
  // Objects that live a little while (a burst of requests' worth), over and over: without the bound V8
  // grows the young generation to 128 MiB here.
  const churn = `let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 200000) keep = []; }
    const v8 = require("node:v8");
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
    console.log(JSON.stringify({ young, limit: v8.getHeapStatistics().heap_size_limit }));`;
  const r = spawnSync(process.execPath, [...appNodeArgs(""), "-e", churn], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  const { young, limit } = JSON.parse(r.stdout) as { young: number; limit: number };
  assert.ok(young <= 32 * MiB, `young generation ${young / MiB} MiB`);
  assert.ok(limit < 320 * MiB, `heap limit ${limit / MiB} MiB`);
});

test("an option NODE_OPTIONS sets is left to it; the others stay", () => {
  assert.deepEqual(appNodeArgs("--max-old-space-size=1024"), ["--max-semi-space-size=16"]);
  assert.deepEqual(appNodeArgs("--max-semi-space-size=64 --max-old-space-size=512"), []);
});

test("glibc's malloc arenas are bounded unless the environment already sets MALLOC_ARENA_MAX", () => {
  assert.deepEqual(appNodeEnv({}), { MALLOC_ARENA_MAX: "2" });
  assert.deepEqual(appNodeEnv({ MALLOC_ARENA_MAX: "8" }), {});
});
