// Webhook (HMAC-signed, retried with backoff, given up after N attempts, redirects not followed),
// e-mail through a real SMTP server process (smtp-server) and quiet hours, on PostgreSQL. The
// signatures are checked as the README tells integrators, and with Standard Webhooks' own
// libraries: its TypeScript one, and its Python one in a process of its own.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { NotificationChannel } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { ensurePythonVenv } from "@taskmesh/testing/infra";
import { startSmtpServer } from "@taskmesh/testing/smtp";
import { afterQuietHours, EVENT_ID_HEADER, SIGNATURE_HEADER } from "../src/index.js";
import { as, eventually, firstDelivery, sleep, startStack, type Stack } from "./harness.js";
import { startLocalServer } from "./local-server.js";

interface Hook {
  url: string;
  requests: { body: string; eventId: string; signatureValid: boolean; standardValid: boolean; headers: Record<string, string> }[];
  close(): Promise<void>;
}

/** Whether Standard Webhooks' TypeScript library accepts the request. */
function standardValid(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/** A webhook receiver that verifies signatures as the README tells integrators to, and answers `status(n)` to the n-th call. */
async function webhookReceiver(secret: () => string, status: (n: number) => number): Promise<Hook> {
  const requests: Hook["requests"] = [];
  const server = await startLocalServer((res, req) => {
    const body = req.body.toString();
    const header = String(req.headers[SIGNATURE_HEADER] ?? "");
    const parts = Object.fromEntries(header.split(",").map((p) => p.split("=") as [string, string]));
    const expected = createHmac("sha256", secret()).update(`${parts.t}.${body}`).digest();
    const given = Buffer.from(parts.v1 ?? "", "hex");
    const fresh = Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
    const signatureValid = fresh && given.length === expected.length && timingSafeEqual(given, expected);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    requests.push({ body, eventId: String(req.headers[EVENT_ID_HEADER]), signatureValid, standardValid: secret() !== "" && standardValid(secret(), body, headers), headers });
    res.writeHead(signatureValid ? status(requests.length) : 401).end();
  });
  return { url: `${server.base}/hooks/reminders`, requests, close: server.close };
}

const inMs = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

describe("reminder deliveries", () => {
  let db: FreshDatabase;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let stack: Stack;
  beforeAll(async () => {
    db = await freshDatabase();
    smtp = await startSmtpServer();
    // The receivers listen on 127.0.0.1 over http: allowed only because this stack opts in (by default, public https only).
    stack = await startStack(db.url, {
      smtp: { url: smtp.url, from: "taskmesh <reminders@taskmesh.test>" },
      delivery: { retryMs: 200, maxAttempts: 3 },
      webhooks: { allowedHosts: "loopback", allowHttp: true },
    });
  });
  afterAll(async () => {
    await stack.stop();
    await smtp.close();
    await db.drop();
  });

  test("webhook: signed POST, retried with backoff until it is accepted", async () => {
    const user = as("hook-user");
    let secret = "";
    const hook = await webhookReceiver(
      () => secret,
      (n) => (n <= 2 ? 503 : 204),
    );
    try {
      const prefs = await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.IN_APP, NotificationChannel.WEBHOOK], webhookUrl: hook.url } }, user);
      secret = prefs.webhookSigningSecret;
      const { task } = await stack.tasks.createTask({ title: "Feed the cat", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(1_000) } }] }, user);
      await eventually("three webhook calls", () => hook.requests.length >= 3 || undefined);
      assert.ok(
        hook.requests.every((r) => r.signatureValid),
        "every call signed with the user's secret",
      );
      assert.ok(
        hook.requests.every((r) => r.standardValid),
        "every call verified by Standard Webhooks' library",
      );
      assert.equal(hook.requests[0]!.headers["webhook-id"], hook.requests[0]!.eventId);
      assert.equal(standardValid(secret, `${hook.requests[0]!.body} `, hook.requests[0]!.headers), false, "a changed body is refused");
      const python = await ensurePythonVenv(path.join(import.meta.dirname, "standard-webhooks", "requirements.txt"));
      const verified = spawnSync(python, [path.join(import.meta.dirname, "standard-webhooks", "verify.py"), secret], { input: JSON.stringify(hook.requests[0]), encoding: "utf8" });
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(JSON.parse(verified.stdout).taskTitle, "Feed the cat", "Python's Standard Webhooks library verified the call");
      const body = JSON.parse(hook.requests[0]!.body) as Record<string, string>;
      assert.equal(body.type, "reminder.fired");
      assert.equal(body.taskId, task!.id);
      assert.equal(body.taskTitle, "Feed the cat");
      assert.equal(new Set(hook.requests.map((r) => r.eventId)).size, 1, "one event id across retries (receivers dedupe by it)");
      assert.equal(hook.requests[0]!.eventId, body.eventId);
      const [fired] = stack.fired(task!.id);
      assert.equal(fired!.eventId, body.eventId, "the same id as the in-app ReminderEvent");
      const row = await firstDelivery(stack, "hook-user", "delivered");
      assert.equal(row.attempts, 3);
      await sleep(500);
      assert.equal(hook.requests.length, 3, "nothing after success");
    } finally {
      await hook.close();
    }
  });

  test("webhook: given up after maxAttempts, recorded as failed", async () => {
    const user = as("dead-hook-user");
    const hook = await webhookReceiver(
      () => "",
      () => 500,
    );
    try {
      await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK], webhookUrl: hook.url } }, user);
      await stack.tasks.createTask({ title: "Doomed", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
      const row = await firstDelivery(stack, "dead-hook-user", "failed");
      assert.equal(row.attempts, 3);
      assert.match(row.last_error, /401|500/);
      await sleep(1_000);
      assert.equal(hook.requests.length, 3);
    } finally {
      await hook.close();
    }
  });

  test("webhook: a redirect is not followed; the delivery fails at once", async () => {
    const user = as("redirect-user");
    const elsewhere = await webhookReceiver(
      () => "",
      () => 204,
    );
    const redirecting = await startLocalServer((res) => res.writeHead(302, { location: elsewhere.url }).end());
    try {
      const url = `${redirecting.base}/hooks/old`;
      await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK], webhookUrl: url } }, user);
      await stack.tasks.createTask({ title: "Moved", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
      const row = await firstDelivery(stack, "redirect-user", "failed");
      assert.equal(row.attempts, 1, "not retried: the same URL redirects again");
      assert.match(row.last_error, /HTTP 302 redirecting to http:\/\/127\.0\.0\.1:\d+\/hooks\/reminders: redirects are not followed/);
      await sleep(500);
      assert.equal(redirecting.requests.length, 1);
      assert.equal(elsewhere.requests.length, 0, "the redirect target got nothing");
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });

  test("e-mail through SMTP", async () => {
    const user = as("mail-user");
    await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.EMAIL], emailAddress: "dave@example.test" } }, user);
    await stack.tasks.createTask({ title: "Renew passport", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
    const mail = await eventually("the e-mail", () => smtp.mails.find((m) => m.subject === "Reminder: Renew passport"));
    assert.equal((mail.to as { text: string }).text, "dave@example.test");
    assert.match(mail.from!.text, /reminders@taskmesh\.test/);
    assert.match(mail.text ?? "", /Renew passport/);
    assert.equal(mail.headers.get("auto-submitted"), "auto-generated", "RFC 3834: no auto-reply to it");
    // The server has the mail before the sender hears its answer and records the delivery.
    await firstDelivery(stack, "mail-user", "delivered");
  });

  test("quiet hours defer webhook and e-mail to their end; the in-app event goes out at once", async () => {
    const user = as("quiet-user");
    const hook = await webhookReceiver(
      () => "",
      () => 204,
    );
    try {
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      const quiet = { start: hhmm(new Date(Date.now() - 3_600_000)), end: hhmm(new Date(Date.now() + 3_600_000)) };
      await stack.reminders.updateNotificationPreferences(
        {
          preferences: {
            channels: [NotificationChannel.IN_APP, NotificationChannel.WEBHOOK, NotificationChannel.EMAIL],
            webhookUrl: hook.url,
            emailAddress: "quiet@example.test",
            quietHours: quiet,
            timeZone: "UTC",
          },
        },
        user,
      );
      const { task } = await stack.tasks.createTask({ title: "Shh", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
      const [fired] = await eventually("the in-app event", () => (stack.fired(task!.id).length ? stack.fired(task!.id) : undefined));
      const rows = await eventually("two deliveries", async () => {
        const all = await stack.deliveries("quiet-user");
        return all.length === 2 ? all : undefined;
      });
      if (fired!.event.case !== "fired") return assert.fail();
      const firedAt = new Date(Number(fired!.event.value.firedAt!.seconds) * 1000 + fired!.event.value.firedAt!.nanos / 1e6);
      const end = afterQuietHours(firedAt, { ...quiet, timeZone: "UTC" });
      assert.ok(end.getTime() > Date.now() + 30 * 60_000, "the end of quiet hours is ahead");
      for (const row of rows) {
        assert.equal(row.status, "pending");
        assert.equal(new Date(row.not_before).getTime(), end.getTime());
      }
      await sleep(1_000);
      assert.equal(hook.requests.length, 0);
      assert.equal(smtp.mails.filter((m) => (m.to as { text: string }).text === "quiet@example.test").length, 0);
    } finally {
      await hook.close();
    }
  });
});

test("quiet hours: inside, outside, across midnight and a DST change", () => {
  const berlin = (start: string, end: string) => ({ start, end, timeZone: "Europe/Berlin" });
  // 23:30 in Berlin (CET = UTC+1) inside 22:00–07:00: waits for 07:00 the next morning.
  assert.equal(afterQuietHours(new Date("2027-01-10T22:30:00Z"), berlin("22:00", "07:00")).toISOString(), "2027-01-11T06:00:00.000Z");
  // 06:00 local, same night: 07:00 that morning.
  assert.equal(afterQuietHours(new Date("2027-01-11T05:00:00Z"), berlin("22:00", "07:00")).toISOString(), "2027-01-11T06:00:00.000Z");
  // Noon: not quiet.
  assert.equal(afterQuietHours(new Date("2027-01-11T11:00:00Z"), berlin("22:00", "07:00")).toISOString(), "2027-01-11T11:00:00.000Z");
  // Same-day window 12:00–14:00, at 13:00 CEST (UTC+2).
  assert.equal(afterQuietHours(new Date("2027-07-01T11:00:00Z"), berlin("12:00", "14:00")).toISOString(), "2027-07-01T12:00:00.000Z");
  // The night clocks go forward (2027-03-28, 02:00 → 03:00): 07:00 is CEST, UTC+2.
  assert.equal(afterQuietHours(new Date("2027-03-27T23:00:00Z"), berlin("22:00", "07:00")).toISOString(), "2027-03-28T05:00:00.000Z");
  // An end that does not exist that night (02:30) resolves forward, as the wall clock does.
  assert.equal(afterQuietHours(new Date("2027-03-28T00:30:00Z"), berlin("01:00", "02:30")).toISOString(), "2027-03-28T01:30:00.000Z");
  // Equal start and end: no quiet hours.
  assert.equal(afterQuietHours(new Date("2027-01-11T11:00:00Z"), berlin("08:00", "08:00")).toISOString(), "2027-01-11T11:00:00.000Z");
  assert.equal(afterQuietHours(new Date("2027-01-11T11:00:00Z"), undefined).toISOString(), "2027-01-11T11:00:00.000Z");
});
