import { test } from "vitest";
import assert from "node:assert/strict";
import path from "node:path";
import { appConfig } from "../src/config.js";

test("the embedded app's settings: a laptop's defaults", () => {
  const config = appConfig.parse({});
  assert.deepEqual(config.server, { port: 8080, drainDelayMs: 0 });
  assert.equal(config.app.host, "127.0.0.1");
  assert.equal(config.dataDir, path.resolve(".data"));
  assert.equal(config.database.url, undefined, "its own PostgreSQL");
  assert.deepEqual(config.edge.allowedHosts, [], "this machine's names and addresses only");
  assert.equal(config.edge.email.publicUrl, undefined, "account e-mails link to this machine (withDataFolder)");
  assert.equal(appConfig.parse({ SMTP_URL: "smtp://mail:587" }).edge.email.smtpUrl, "smtp://mail:587", "no TASKMESH_PUBLIC_URL needed");
});

test("a bad value and a missing required one are listed together", () => {
  assert.deepEqual(appConfig.check({ PORT: "eighty", TASKMESH_JWT_SECRET: "short", AUDIT_RETENTION_DAYS: "0", TASKMESH_VAPID_PRIVATE_KEY: "private" }).problems, [
    'PORT: expected a TCP port number (0 to 65535), got "eighty"',
    "TASKMESH_JWT_SECRET: expected a random string of at least 32 bytes (e.g. `openssl rand -base64 48`), got another value (a credential: not repeated here)",
    'AUDIT_RETENTION_DAYS: expected a whole number of days from 1 to 36500, got "0"',
    "TASKMESH_VAPID_PUBLIC_KEY: not set; the VAPID keys go together (npx web-push generate-vapid-keys)",
  ]);
});
