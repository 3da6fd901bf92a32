// Production runs JavaScript compiled by `tsc -b tsconfig.build.json` (npm start, the images), with
// `--conditions=taskmesh-dist` selecting each workspace's dist/. The compiled entries must load
// without a single TypeScript file and without reading the repository's .proto files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "vitest";
import { DEPLOYABLES, root } from "./tools.js";

const ENTRY_DIRS = [...DEPLOYABLES.map((d) => (d === "gateway" ? "gateway" : `services/${d}`)), "apps/embedded"];

test("tsc -b compiles every server workspace into its dist/", () => {
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-b", "tsconfig.build.json", "--noCheck"], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const dir of ENTRY_DIRS) assert.ok(fs.existsSync(path.join(root, dir, "dist/main.js")), `${dir}/dist/main.js`);
  assert.ok(fs.existsSync(path.join(root, "deploy/dist/prepare.js")), "deploy/dist/prepare.js");
  assert.ok(fs.existsSync(path.join(root, "apps/embedded/dist/main.js.map")), "source maps");
});

test("under --conditions=taskmesh-dist the compiled modules load only JavaScript, and no .proto file is read", () => {
  // Loads each deployable's module (not main.js, which would start it) and the event schemas'
  // texts; a resolve hook records every file URL, fs.readFileSync every read.
  const script = `
    import { registerHooks } from "node:module";
    import fs from "node:fs";
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
    const reads = [];
    const readFileSync = fs.readFileSync;
    fs.readFileSync = (file, ...rest) => { reads.push(String(file)); return readFileSync(file, ...rest); };
    for (const m of ${JSON.stringify(ENTRY_DIRS.map((d) => `./${d}/dist/${d === "apps/embedded" ? "embedded" : "index"}.js`))}) await import(m);
    const { TOPICS, registerSchemas } = await import("@taskmesh/events");
    const registered = [];
    await registerSchemas({ registry: { async setCompatibility() {}, async register(subject, d) { registered.push(subject); return { id: registered.length, version: 1 }; } } });
    console.log(JSON.stringify({ loaded: loaded.filter((u) => u.startsWith("file:")), reads, registered, topics: TOPICS.length }));
  `;
  const r = spawnSync(process.execPath, ["--conditions=taskmesh-dist", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  const { loaded, reads, registered, topics } = JSON.parse(r.stdout) as { loaded: string[]; reads: string[]; registered: string[]; topics: number };
  const ours = loaded.filter((u) => !u.includes("/node_modules/"));
  assert.ok(ours.length > 50, `loaded ${ours.length} of our modules`);
  assert.deepEqual(
    ours.filter((u) => !/\/(packages\/[^/]+|services\/[^/]+|apps\/[^/]+|gateway)\/dist\/.*\.js$/.test(u)),
    [],
    "every module of ours comes from a dist/",
  );
  assert.deepEqual(
    loaded.filter((u) => u.endsWith(".ts")),
    [],
    "no TypeScript",
  );
  assert.deepEqual(
    reads.filter((f) => f.endsWith(".proto")),
    [],
    "schemas from the code (schema-sources.ts), not from .proto files",
  );
  assert.ok(registered.includes("task-events-value") && registered.includes("buf/validate/validate.proto"), registered.join(", "));
  assert.equal(topics, 3);
});
