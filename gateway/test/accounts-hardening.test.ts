// Accounts through the gateway, on PostgreSQL: API token scopes enforced on every call (RPCs and the
// live socket) and never widened by a token; sign-out of every session; passwords checked by a
// strength estimator; sign-up verified by e-mail and password reset, through a real SMTP server.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { ApiTokenScope } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { fieldPathText } from "@taskmesh/testing/connect";
import { startSmtpServer, type TestSmtpServer } from "@taskmesh/testing/smtp";
import { hello, LiveClient, meshUnderTest, startMesh, type TestMesh } from "./fixtures.js";

const PUBLIC_URL = "https://tasks.example.test";
const STRONG = "correct horse battery staple";

function fieldError(field: string, pattern: RegExp) {
  return (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[Code.InvalidArgument], e.message);
    const violation = e.findDetails(ViolationsSchema)[0]?.violations[0];
    assert.equal(fieldPathText(violation?.field), field, e.message);
    assert.match(violation?.message ?? "", pattern);
    return true;
  };
}

const code = (expected: Code, pattern?: RegExp) => (err: unknown) => {
  const e = ConnectError.from(err);
  assert.equal(Code[e.code], Code[expected], e.message);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("API token scopes and sign-out everywhere", () => {
  // Short heartbeats: open sockets are checked again at each one.
  const mesh = meshUnderTest({ livePingIntervalMs: 300 });

  test("a read-only token reads and keeps live sync, but cannot write or manage tokens; a write-only token cannot read", async () => {
    const u = await mesh.user("reader");
    await mesh.taskClient.createTask({ title: "seen by the reader" }, { headers: u.headers });
    const { secret, token } = await mesh.auth.createApiToken({ name: "dashboard", scopes: [ApiTokenScope.READ] }, { headers: u.headers });
    assert.deepEqual(token?.scopes, [ApiTokenScope.READ]);
    const read = bearer(secret);
    assert.equal((await mesh.taskClient.listTasks({}, read)).tasks.length, 1);
    assert.ok((await mesh.auth.getAccount({}, read)).user);
    await assert.rejects(mesh.taskClient.createTask({ title: "nope" }, read), code(Code.PermissionDenied, /lacks the write scope.*CreateTask/));
    await assert.rejects(mesh.auth.updateAccount({ displayName: "x", updateMask: ["display_name"] }, read), code(Code.PermissionDenied, /write/));
    await assert.rejects(mesh.auth.listApiTokens({}, read), code(Code.PermissionDenied, /tokens scope/));
    const live = await LiveClient.open(mesh.url, hello(secret));
    await live.next("ready");
    live.close();

    const writeOnly = await mesh.auth.createApiToken({ name: "importer", scopes: [ApiTokenScope.WRITE] }, { headers: u.headers });
    await mesh.taskClient.createTask({ title: "imported" }, bearer(writeOnly.secret));
    await assert.rejects(mesh.taskClient.listTasks({}, bearer(writeOnly.secret)), code(Code.PermissionDenied, /read scope/));
    const refused = await LiveClient.open(mesh.url, hello(writeOnly.secret));
    assert.match((await refused.closed).reason, /read scope/);
  });

  test("a token made without scopes gets read and write, and cannot manage tokens", async () => {
    const u = await mesh.user("plain");
    const { secret, token } = await mesh.auth.createApiToken({ name: "script", validDays: 30 }, { headers: u.headers });
    assert.deepEqual(token?.scopes, [ApiTokenScope.READ, ApiTokenScope.WRITE], "no scopes named = read and write");
    for (const call of [
      () => mesh.auth.createApiToken({ name: "longer", validDays: 0 }, bearer(secret)),
      () => mesh.auth.listApiTokens({}, bearer(secret)),
      () => mesh.auth.revokeApiToken({ id: token!.id }, bearer(secret)),
    ]) {
      await assert.rejects(call(), code(Code.PermissionDenied, /tokens scope/));
    }
  });

  test("a token with the tokens scope makes only narrower, shorter-lived tokens", async () => {
    const u = await mesh.user("minter");
    const minter = await mesh.auth.createApiToken({ name: "ci", validDays: 10, scopes: [ApiTokenScope.READ, ApiTokenScope.TOKENS] }, { headers: u.headers });
    const asMinter = bearer(minter.secret);
    const child = await mesh.auth.createApiToken({ name: "ci job", validDays: 5, scopes: [ApiTokenScope.READ] }, asMinter);
    assert.deepEqual(child.token?.scopes, [ApiTokenScope.READ]);
    await assert.rejects(mesh.auth.createApiToken({ name: "wider", validDays: 5, scopes: [ApiTokenScope.READ, ApiTokenScope.WRITE] }, asMinter), fieldError("scopes", /lacks write/));
    await assert.rejects(mesh.auth.createApiToken({ name: "default scopes", validDays: 5 }, asMinter), fieldError("scopes", /lacks write/));
    await assert.rejects(mesh.auth.createApiToken({ name: "forever", validDays: 0, scopes: [ApiTokenScope.READ] }, asMinter), fieldError("valid_days", /at most 9 days/));
    await assert.rejects(mesh.auth.createApiToken({ name: "longer", validDays: 11, scopes: [ApiTokenScope.READ] }, asMinter), fieldError("valid_days", /before the token making it/));
    assert.equal((await mesh.auth.listApiTokens({}, asMinter)).tokens.length, 2);
    await mesh.auth.revokeApiToken({ id: child.token!.id }, asMinter);
    // Unknown or repeated scopes are field errors too.
    await assert.rejects(mesh.auth.createApiToken({ name: "odd", scopes: [ApiTokenScope.UNSPECIFIED] }, { headers: u.headers }), code(Code.InvalidArgument, /scopes/));
    await assert.rejects(mesh.auth.createApiToken({ name: "odd", scopes: [ApiTokenScope.READ, ApiTokenScope.READ] }, { headers: u.headers }), code(Code.InvalidArgument, /scopes/));
  });

  test("sign-out of every session ends every device's refresh and access tokens and open sockets at once, not API tokens", { timeout: 60_000 }, async () => {
    const email = `everywhere-${Date.now()}@example.com`;
    const inBody = { headers: { "x-refresh-in-body": "1" } };
    const phone = await mesh.auth.signUp({ email, password: STRONG }, inBody);
    const laptop = await mesh.auth.signIn({ email, password: STRONG }, inBody);
    const pat = await mesh.auth.createApiToken({ name: "cron" }, bearer(laptop.accessToken));
    assert.ok((await mesh.auth.getAccount({}, bearer(phone.accessToken))).user);
    const phoneLive = await LiveClient.open(mesh.url, hello(phone.accessToken));
    await phoneLive.next("ready");
    const scriptLive = await LiveClient.open(mesh.url, hello(pat.secret));
    await scriptLive.next("ready");

    await mesh.auth.signOut({ refreshToken: laptop.refreshToken, everySession: true });
    // A socket already open ends too, at once, not when its access token expires.
    assert.deepEqual(await phoneLive.closed, { code: 4401, reason: "signed out of every session: sign in again" });
    for (const access of [phone.accessToken, laptop.accessToken]) {
      await assert.rejects(mesh.taskClient.listTasks({}, bearer(access)), code(Code.Unauthenticated, /signed out of every session/));
    }
    for (const refresh of [phone.refreshToken, laptop.refreshToken]) {
      await assert.rejects(mesh.auth.refresh({ refreshToken: refresh }, inBody), code(Code.Unauthenticated));
    }
    await mesh.taskClient.listTasks({}, bearer(pat.secret));
    // Signing in again works, and the new session is not caught by the old sign-out.
    const again = await mesh.auth.signIn({ email, password: STRONG }, inBody);
    assert.ok((await mesh.auth.getAccount({}, bearer(again.accessToken))).user);
    // The API token's socket outlived the sign-out; revoking the token ends it.
    await mesh.auth.revokeApiToken({ id: pat.token!.id }, bearer(again.accessToken));
    assert.deepEqual(await scriptLive.closed, { code: 4401, reason: "API token unknown, revoked or expired" });
    // Without a live session of the account, nothing to sign out of.
    await assert.rejects(mesh.auth.signOut({ refreshToken: laptop.refreshToken, everySession: true }), code(Code.Unauthenticated));
    await assert.rejects(mesh.auth.signOut({ everySession: true }, bearer(pat.secret)), code(Code.Unauthenticated));
  });

  test("common, breached-list and guessable passwords are refused with a field error", async () => {
    const cases: [string, RegExp][] = [
      ["password1", /too easy to guess \(it is a commonly used password\)/],
      ["qwertyuiop", /most used passwords/],
      ["P@ssw0rd!", /close to a commonly used password/],
      ["abcdefgh12345678", /too easy to guess/],
    ];
    for (const [password, why] of cases) {
      await assert.rejects(mesh.auth.signUp({ email: `weak-${Date.now()}@example.com`, password }), fieldError("password", why));
    }
    await assert.rejects(mesh.auth.signUp({ email: "margaret.hamilton@example.com", password: "margaret.hamilton1" }), fieldError("password", /e-mail address/));
  });

  test("without SMTP, sign-up signs in at once (the README's npm start)", async () => {
    const res = await mesh.auth.signUp({ email: `direct-${Date.now()}@example.com`, password: STRONG });
    assert.equal(res.verificationSent, false);
    assert.ok(res.accessToken);
  });
});

describe("sign-up verified by e-mail and password reset (real SMTP server)", () => {
  let mesh: TestMesh;
  let smtp: TestSmtpServer;
  let drop: () => Promise<void>;
  let clock = Date.now();

  const mailTo = (to: string, subject: string) => eventually(`"${subject}" to ${to}`, () => smtp.mails.find((m) => m.subject === subject && (m.to as { text: string }).text === to));
  const tokenIn = (text: string | undefined, path: string) => {
    const match = new RegExp(`${PUBLIC_URL.replace(/\./g, "\\.")}${path}#token=([\\w-]+)`).exec(text ?? "");
    assert.ok(match, `a ${path} link in ${text}`);
    return match[1]!;
  };

  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
    smtp = await startSmtpServer();
    mesh = await startMesh({
      databaseUrl: db.url,
      now: () => new Date(clock),
      auth: { email: { smtpUrl: smtp.url, from: "taskmesh <accounts@taskmesh.test>", publicUrl: PUBLIC_URL } },
    });
  });
  afterAll(async () => {
    await mesh.stop();
    await smtp.close();
    await drop();
  });

  test("sign-up answers the same whether or not the e-mail has an account, and finishes through the e-mailed link", async () => {
    const signUp = async (email: string) => {
      const res = await fetch(`${mesh.url}/taskmesh.auth.v1.AuthService/SignUp`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: STRONG }),
      });
      return { status: res.status, cookie: res.headers.get("set-cookie"), body: await res.text() };
    };
    const fresh = await signUp("new@example.com");
    assert.deepEqual(fresh, { status: 200, cookie: null, body: '{"verificationSent":true}' });
    await assert.rejects(mesh.auth.signIn({ email: "new@example.com", password: STRONG }), code(Code.Unauthenticated), "no account before the link is opened");

    const mail = await mailTo("new@example.com", "Confirm your taskmesh account");
    assert.equal(mail.headers.get("auto-submitted"), "auto-generated", "RFC 3834: no auto-reply to it");
    const token = tokenIn(mail.text, "/verify-email");
    const verified = await mesh.auth.verifyEmail({ token });
    assert.equal(verified.user?.email, "new@example.com");
    assert.ok((await mesh.auth.getAccount({}, bearer(verified.accessToken))).user);
    await assert.rejects(mesh.auth.verifyEmail({ token }), fieldError("token", /already used/));

    // The address now has an account: the same answer, and its owner gets a note instead.
    assert.deepEqual(await signUp("NEW@example.com"), fresh);
    const note = await mailTo("new@example.com", "Your taskmesh account");
    assert.match(note.text ?? "", /already has an account/);
    tokenIn(note.text, "/reset-password");
    await assert.rejects(mesh.auth.verifyEmail({ token: "made-up" }), fieldError("token", /unknown/));
  });

  test("a verification link expires after a day", async () => {
    await mesh.auth.signUp({ email: "late@example.com", password: STRONG });
    const token = tokenIn((await mailTo("late@example.com", "Confirm your taskmesh account")).text, "/verify-email");
    clock += 25 * 3600 * 1000;
    await assert.rejects(mesh.auth.verifyEmail({ token }), fieldError("token", /expired/));
  });

  test("password reset: one answer for any address, a single-use expiring link, every session signed out", async () => {
    await mesh.auth.signUp({ email: "forgetful@example.com", password: STRONG });
    const first = await mesh.auth.verifyEmail(
      { token: tokenIn((await mailTo("forgetful@example.com", "Confirm your taskmesh account")).text, "/verify-email") },
      { headers: { "x-refresh-in-body": "1" } },
    );

    assert.deepEqual(await mesh.auth.requestPasswordReset({ email: "nobody-here@example.com" }), await mesh.auth.requestPasswordReset({ email: "Forgetful@example.com" }));
    const token = tokenIn((await mailTo("forgetful@example.com", "Reset your taskmesh password")).text, "/reset-password");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(smtp.mails.filter((m) => (m.to as { text: string }).text === "nobody-here@example.com").length, 0);

    await assert.rejects(mesh.auth.resetPassword({ token, newPassword: "iloveyou123" }), fieldError("new_password", /commonly used password/));
    await mesh.auth.resetPassword({ token, newPassword: "a brand new passphrase" });
    await assert.rejects(mesh.auth.resetPassword({ token, newPassword: "yet another passphrase" }), fieldError("token", /already used/));
    await assert.rejects(mesh.auth.signIn({ email: "forgetful@example.com", password: STRONG }), code(Code.Unauthenticated));
    assert.ok((await mesh.auth.signIn({ email: "forgetful@example.com", password: "a brand new passphrase" })).accessToken);
    await assert.rejects(mesh.auth.getAccount({}, bearer(first.accessToken)), code(Code.Unauthenticated, /signed out of every session/));
    await assert.rejects(mesh.auth.refresh({ refreshToken: first.refreshToken }), code(Code.Unauthenticated));

    await mesh.auth.requestPasswordReset({ email: "forgetful@example.com" });
    const late = tokenIn((await eventually("a second reset e-mail", () => smtp.mails.filter((m) => m.subject === "Reset your taskmesh password").at(1))).text, "/reset-password");
    clock += 2 * 3600 * 1000;
    await assert.rejects(mesh.auth.resetPassword({ token: late, newPassword: "one more passphrase" }), fieldError("token", /expired/));
  });
});
