// Web Push of fired reminders against a push service run by this test: it speaks RFC 8030 (a POST
// per message, 201 Created), checks the VAPID authorization (RFC 8292, an ES256 JWT verified with
// node:crypto against the key in `k=`), and decrypts the aes128gcm body (RFC 8291) with the
// subscription's own private key and auth secret, written out here with node:crypto rather than
// the library that encrypted it. The notification inbox and the target policy for endpoints too.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import webpush from "web-push";
import { PushSubscription } from "../src/entities.js";
import type { PushPayload } from "../src/index.js";
import { as, eventually, sleep, startStack, type Stack } from "./harness.js";
import { startLocalServer, type LocalServer } from "./local-server.js";

const VAPID = { ...webpush.generateVAPIDKeys(), subject: "mailto:ops@taskmesh.test" };
const b64 = (bytes: Buffer) => bytes.toString("base64url");
const hmac = (key: Buffer, data: Buffer) => createHmac("sha256", key).update(data).digest();

/** A browser's side of a subscription: its P-256 key pair and auth secret. */
function browserKeys(): { ecdh: ECDH; auth: Buffer; p256dh: string; authText: string } {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, p256dh: b64(ecdh.getPublicKey()), authText: b64(auth) };
}

/** RFC 8291 §3.4 and RFC 8188: one aes128gcm record, decrypted as the browser would. */
function decrypt(body: Buffer, ecdh: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const serverPublic = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  const prkKey = hmac(auth, ecdh.computeSecret(serverPublic));
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), serverPublic, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01")).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01")).subarray(0, 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  assert.equal(padded[end], 2, "last-record delimiter");
  return padded.subarray(0, end).toString("utf8");
}

/** RFC 8292: "vapid t=<JWT>, k=<public key>", the JWT signed by the key in k for the endpoint's origin. */
function checkVapid(authorization: string, endpoint: string): void {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(authorization);
  assert.ok(match, `VAPID authorization header, got "${authorization}"`);
  const [, jwt, k] = match;
  assert.equal(k, VAPID.publicKey);
  const [header, claims, signature] = jwt!.split(".") as [string, string, string];
  const point = Buffer.from(k!, "base64url");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64(point.subarray(1, 33)), y: b64(point.subarray(33, 65)) }, format: "jwk" });
  assert.ok(verify("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url")), "JWT signature");
  const body = JSON.parse(Buffer.from(claims, "base64url").toString()) as { aud: string; exp: number; sub: string };
  assert.equal(body.aud, new URL(endpoint).origin);
  assert.equal(body.sub, VAPID.subject);
  assert.ok(body.exp > Date.now() / 1000 && body.exp <= Date.now() / 1000 + 24 * 3600, "expires within 24 hours");
}

const inMs = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

describe("Web Push and the notification inbox", () => {
  let db: FreshDatabase;
  let stack: Stack;
  let push: LocalServer;
  beforeAll(async () => {
    db = await freshDatabase();
    // A push service: every POST recorded; an endpoint with "gone" in its path has expired (410 Gone).
    push = await startLocalServer((res, req) => res.writeHead(req.path.includes("gone") ? 410 : 201).end());
    // The test's push service listens on 127.0.0.1 over http: allowed only because this stack opts in.
    stack = await startStack(db.url, { vapid: VAPID, webhooks: { allowedHosts: "loopback", allowHttp: true }, delivery: { retryMs: 200, maxAttempts: 3 } });
  });
  afterAll(async () => {
    await stack?.stop();
    await push?.close();
    await db?.drop();
  });

  test("a fired reminder reaches every subscribed browser, encrypted for it and signed with the server's VAPID key; the inbox has it unread until read", async () => {
    const user = as("push-user");
    assert.equal((await stack.reminders.getPushConfig({}, user)).vapidPublicKey, VAPID.publicKey);
    const laptop = browserKeys();
    const phone = browserKeys();
    const endpoints = [`${push.base}/push/laptop-${randomBytes(4).toString("hex")}`, `${push.base}/push/phone-${randomBytes(4).toString("hex")}`];
    await stack.reminders.addPushSubscription({ endpoint: endpoints[0]!, p256dh: laptop.p256dh, auth: laptop.authText }, user);
    await stack.reminders.addPushSubscription({ endpoint: endpoints[1]!, p256dh: phone.p256dh, auth: phone.authText }, user);
    const { task } = await stack.tasks.createTask({ title: "Water the plants", reminders: [{ id: "r1", trigger: { case: "absoluteTime", value: inMs(800) } }] }, user);

    const messages = await eventually("a push to each browser", () => {
      const mine = push.requests.filter((r) => endpoints.some((e) => e.endsWith(r.path)));
      return mine.length >= 2 ? mine : undefined;
    });
    const payloads = messages.map((m) => {
      assert.equal(m.headers["content-encoding"], "aes128gcm");
      assert.equal(m.headers.ttl, "86400");
      assert.equal(m.headers.urgency, "high");
      checkVapid(String(m.headers.authorization), `${push.base}${m.path}`);
      const keys = m.path.includes("laptop") ? laptop : phone;
      return JSON.parse(decrypt(m.body, keys.ecdh, keys.auth)) as PushPayload;
    });
    for (const p of payloads) {
      assert.equal(p.type, "reminder");
      assert.equal(p.taskId, task!.id);
      assert.equal(p.reminderId, "r1");
      assert.equal(p.title, "Water the plants");
    }
    // The other browser's keys cannot read it.
    const laptopMessage = messages.find((m) => m.path.includes("laptop"))!;
    assert.throws(() => decrypt(laptopMessage.body, phone.ecdh, phone.auth));

    const inbox = await stack.reminders.listNotifications({}, user);
    assert.equal(inbox.unreadCount, 1);
    assert.equal(inbox.notifications[0]!.id, payloads[0]!.notificationId);
    assert.equal(inbox.notifications[0]!.taskTitle, "Water the plants");
    assert.equal(inbox.notifications[0]!.read, false);
    assert.equal(inbox.notifications[0]!.state, ReminderState.FIRED);
    assert.equal((await stack.reminders.listNotifications({}, as("someone-else"))).notifications.length, 0, "another user's inbox is theirs");

    // Snoozing answers it (read), and the inbox says the reminder is snoozed.
    await stack.reminders.snoozeReminder({ taskId: task!.id, reminderId: "r1", until: { case: "duration", value: { seconds: 600n } } }, user);
    const after = await stack.reminders.listNotifications({}, user);
    assert.equal(after.unreadCount, 0);
    assert.equal(after.notifications[0]!.state, ReminderState.SNOOZED);
  });

  test("marking read: some ids or all, each read published for the reader's other devices; an id that is not one is a field error", async () => {
    const user = as("reader");
    for (const title of ["One", "Two", "Three"]) await stack.tasks.createTask({ title, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
    const inbox = await eventually("three fired", async () => {
      const list = await stack.reminders.listNotifications({}, user);
      return list.unreadCount === 3 ? list : undefined;
    });
    const [first, second, third] = inbox.notifications;
    // The notifications whose reading the bus carried, with the task and reminder of each.
    const reads = (recipient: string) =>
      stack.events.flatMap((e) => (e.recipientId === recipient && e.event.case === "read" ? [[e.event.value.notificationId, e.taskId, e.reminderId].join(" ")] : []));
    const of = (n: typeof first) => [n!.id, n!.taskId, n!.reminderId].join(" ");
    assert.equal((await stack.reminders.markNotificationsRead({ ids: [first!.id] }, user)).unreadCount, 2);
    await eventually("the first read published", () => (reads("reader").length === 1 ? true : undefined));
    assert.deepEqual(reads("reader"), [of(first)]);
    // Another user's ids change nothing of theirs.
    assert.equal((await stack.reminders.markNotificationsRead({ ids: [second!.id] }, as("intruder"))).unreadCount, 0);
    assert.equal((await stack.reminders.listNotifications({}, user)).unreadCount, 2);
    assert.equal((await stack.reminders.markNotificationsRead({ all: true }, user)).unreadCount, 0);
    // `all` publishes the two it marked, not the one read before.
    await eventually("all three reads published", () => (reads("reader").length === 3 ? true : undefined));
    assert.deepEqual(reads("reader").sort(), [of(first), of(second), of(third)].sort());
    assert.deepEqual(reads("intruder"), []);
    const err = await stack.reminders.markNotificationsRead({ ids: ["1; DROP TABLE"] }, user).catch((e: unknown) => ConnectError.from(e));
    assert.equal((err as ConnectError).code, Code.InvalidArgument);
    assert.match((err as ConnectError).rawMessage, /ids\[0\]|not a notification id/);
  });

  test("a subscription the push service says is gone (410) is forgotten after one try", async () => {
    const user = as("gone-user");
    const keys = browserKeys();
    const endpoint = `${push.base}/push/gone-${randomBytes(4).toString("hex")}`;
    await stack.reminders.addPushSubscription({ endpoint, p256dh: keys.p256dh, auth: keys.authText }, user);
    await stack.tasks.createTask({ title: "Gone", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(500) } }] }, user);
    await eventually("one try", () => push.requests.some((r) => endpoint.endsWith(r.path)) || undefined);
    const subscriptions = () => stack.module().db.query(stack.module().db.em(), `SELECT 1 FROM reminders.push_subscriptions WHERE user_id = 'gone-user'`);
    await eventually("forgotten", async () => ((await subscriptions()).length === 0 ? true : undefined));
    await sleep(600);
    assert.equal(push.requests.filter((r) => endpoint.endsWith(r.path)).length, 1, "not retried");
  });

  test("a browser subscribed again under another account moves to it with its new keys; the first account's removal leaves it", async () => {
    const endpoint = `${push.base}/push/shared-${randomBytes(4).toString("hex")}`;
    const before = browserKeys();
    const now = browserKeys();
    await stack.reminders.addPushSubscription({ endpoint, p256dh: before.p256dh, auth: before.authText }, as("first-account"));
    await stack.reminders.addPushSubscription({ endpoint, p256dh: now.p256dh, auth: now.authText }, as("second-account"));
    await stack.reminders.removePushSubscription({ endpoint }, as("first-account"));
    const rows = await stack.module().db.em().find(PushSubscription, { endpoint });
    assert.deepEqual(
      rows.map((r) => [r.userId, r.p256dh, r.auth]),
      [["second-account", now.p256dh, now.authText]],
    );
  });

  test("push endpoints go through the webhooks' target policy: a private address, a bad key, an unknown user's removal", async () => {
    const user = as("ssrf-user");
    const keys = browserKeys();
    for (const endpoint of ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/push", "https://192.168.1.1/push"]) {
      const err = await stack.reminders.addPushSubscription({ endpoint, p256dh: keys.p256dh, auth: keys.authText }, user).catch((e: unknown) => ConnectError.from(e));
      assert.ok(err instanceof ConnectError, `${endpoint} refused`);
      assert.equal(err.code, Code.InvalidArgument, endpoint);
      assert.match(err.rawMessage, /endpoint/);
    }
    const short = await stack.reminders.addPushSubscription({ endpoint: `${push.base}/push/x`, p256dh: "short", auth: keys.authText }, user).catch((e: unknown) => ConnectError.from(e));
    assert.equal((short as ConnectError).code, Code.InvalidArgument);
    // Removing what is not yours (or not there) is quietly nothing.
    await stack.reminders.removePushSubscription({ endpoint: `${push.base}/push/none` }, user);
  });
});
