// The libraries of paths most installs rarely or never take (the MCP server behind /mcp, SMTP, the
// import and export formats, the password dictionaries that only sign-up and reset need, Kafka, which
// the embedded app never opens) are loaded by that path's first use, not with the app: each costs the
// app's memory its source, code and objects (bench/README.md, "Memory after load").
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");

test("loading npm start's composition does not load the MCP SDK, nodemailer, the import and export formats, the password dictionaries or kafkajs", { timeout: 120_000 }, () => {
  // A child of its own, so that nothing this test process loaded counts: every module file it loads, CommonJS too.
  const child = `
    import { registerHooks } from "node:module";
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    await import("./apps/embedded/src/deployable.ts");
    console.log(JSON.stringify(loaded));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", child], { cwd: root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  const loaded = JSON.parse(r.stdout) as string[];
  // The routes that load them on first use are there: the list is the app's.
  for (const route of ["/gateway/src/mcp.ts", "/gateway/src/interchange/routes.ts", "/gateway/src/auth/account-mail.ts", "/services/reminders/src/email.ts"]) {
    assert.ok(
      loaded.some((url) => url.endsWith(route)),
      `${route} loaded`,
    );
  }
  for (const lazy of [
    "/node_modules/@modelcontextprotocol/sdk/",
    "/packages/mcp/src/tools.ts",
    "/node_modules/nodemailer/",
    "/packages/interchange/",
    "/node_modules/csv-parse/",
    "/node_modules/ical-generator/",
    "/node_modules/kafkajs/",
    "/node_modules/@zxcvbn-ts/",
  ]) {
    assert.deepEqual(
      loaded.filter((url) => url.includes(lazy)),
      [],
      `${lazy} not loaded at start`,
    );
  }
});
