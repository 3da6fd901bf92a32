import { test } from "vitest";
import assert from "node:assert/strict";
import { remindersConfig } from "../src/config.js";

const database = { DATABASE_URL: "postgres://reminders@db:5432/taskmesh" };

test("the reminders service's settings: the scheduler, e-mail, webhooks, Web Push", () => {
  const config = remindersConfig.parse(database);
  assert.deepEqual(config.scheduler, { kind: "postgres", leaseMs: 10_000 });
  assert.equal(config.smtp, undefined);
  assert.deepEqual(config.webhooks, { allowedHosts: "external", allowHttp: true });
  assert.deepEqual(config.vapid, { subject: "mailto:admin@localhost" });
  const set = remindersConfig.parse({ ...database, REMINDERS_SCHEDULER: "dapr-jobs", DAPR_HTTP_PORT: "3501", SMTP_URL: "smtp://mail:587", NODE_ENV: "production" });
  assert.deepEqual(set.scheduler, { kind: "dapr-jobs", daprHttpUrl: "http://127.0.0.1:3501" });
  assert.deepEqual(set.smtp, { url: "smtp://mail:587", from: "taskmesh <reminders@localhost>" });
  assert.equal(set.webhooks.allowHttp, false);
});

test("a bad value and a missing required one are listed together", () => {
  assert.deepEqual(
    remindersConfig.check({ REMINDERS_SCHEDULER: "cron", SCHEDULER_LEASE_MS: "10s", SMTP_URL: "mail:25", TASKMESH_WEBHOOK_ALLOWED_HOSTS: "lan", TASKMESH_VAPID_PUBLIC_KEY: "BPublic" }).problems,
    [
      "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
      'REMINDERS_SCHEDULER: expected `postgres` or `dapr-jobs`, got "cron"',
      'SCHEDULER_LEASE_MS: expected a whole number of milliseconds from 1 to 3600000, got "10s"',
      "SMTP_URL: expected a URL (smtp or smtps), e.g. smtp://user:pass@host:587, got another value (a credential: not repeated here)",
      'TASKMESH_WEBHOOK_ALLOWED_HOSTS: "lan" is not external, private, loopback, *, an IP address, a CIDR range or a host name with a dot',
      "TASKMESH_VAPID_PRIVATE_KEY: not set; the VAPID keys go together (npx web-push generate-vapid-keys)",
    ],
  );
});
