// Accounts through the gateway, on PostgreSQL: sign up/in/out, refresh rotation with reuse
// detection, API tokens, account settings, sign-in rate limit.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { toJsonString } from "@bufbuild/protobuf";
import { AuthService, ListApiTokensResponseSchema, RetryLaterSchema } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { meshUnderTest } from "./fixtures.js";

const code = (expected: Code) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(Code[err.code], Code[expected], err.message);
  return true;
};

describe("accounts", () => {
  const mesh = meshUnderTest({ signInLimit: { points: 3, windowSeconds: 60 } });

  test("sign up sets an httpOnly, SameSite=Strict, path-scoped refresh cookie and returns a working access token", async () => {
    const res = await fetch(`${mesh.url}/taskmesh.auth.v1.AuthService/SignUp`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "Cookie@Example.com", password: "a long password", timeZone: "america/new_york" }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^tm_refresh=[\w-]{40,};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/taskmesh\.auth\.v1\.AuthService/);
    const body = (await res.json()) as { accessToken: string; user: { timeZone: string; email: string }; refreshToken?: string };
    assert.equal(body.refreshToken, undefined, "browsers get the refresh token only as a cookie");
    assert.equal(body.user.timeZone, "America/New_York");
    const account = await mesh.auth.getAccount({}, { headers: { authorization: `Bearer ${body.accessToken}` } });
    assert.equal(account.user?.email, "Cookie@Example.com");

    // Browser flow: Refresh with the cookie only.
    const refreshed = await fetch(`${mesh.url}/taskmesh.auth.v1.AuthService/Refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: cookie.split(";")[0]! },
      body: "{}",
    });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.headers.get("set-cookie")?.split(";")[0], cookie.split(";")[0], "the cookie rotates");
  });

  test("e-mails are unique whatever their case; wrong passwords and unknown e-mails get one answer", async () => {
    await mesh.auth.signUp({ email: "dup@example.com", password: "first password" });
    await assert.rejects(mesh.auth.signUp({ email: "DUP@example.COM", password: "second password" }), code(Code.AlreadyExists));
    const ok = await mesh.auth.signIn({ email: "Dup@Example.com", password: "first password" });
    assert.ok(ok.accessToken);
    await assert.rejects(mesh.auth.signIn({ email: "dup@example.com", password: "nope" }), (err: ConnectError) => err.code === Code.Unauthenticated && /wrong e-mail or password/.test(err.message));
    await assert.rejects(mesh.auth.signIn({ email: "nobody@example.com", password: "nope" }), (err: ConnectError) => err.code === Code.Unauthenticated && /wrong e-mail or password/.test(err.message));
  });

  test("bad input is INVALID_ARGUMENT with field violations", async () => {
    await assert.rejects(mesh.auth.signUp({ email: "not-an-email", password: "long enough" }), (err: ConnectError) => {
      assert.equal(err.code, Code.InvalidArgument);
      assert.match(err.message, /email/);
      return true;
    });
    await assert.rejects(mesh.auth.signUp({ email: "short@example.com", password: "short" }), code(Code.InvalidArgument));
    await assert.rejects(mesh.auth.signUp({ email: "tz@example.com", password: "long enough", timeZone: "Mars/Olympus" }), (err: ConnectError) => {
      assert.equal(err.code, Code.InvalidArgument);
      assert.match(err.message, /time_zone.*IANA/);
      return true;
    });
  });

  test("refresh tokens rotate; reusing a rotated one revokes the whole family", async () => {
    const inBody = { headers: { "x-refresh-in-body": "1" } };
    const first = await mesh.auth.signUp({ email: "rotate@example.com", password: "long enough secret" }, inBody);
    assert.ok(first.refreshToken, "asked for it in the body");
    const second = await mesh.auth.refresh({ refreshToken: first.refreshToken }, inBody);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.ok(second.accessToken);
    const third = await mesh.auth.refresh({ refreshToken: second.refreshToken }, inBody);
    // A thief replays the first token: refused, and the family (including the live third) dies.
    await assert.rejects(mesh.auth.refresh({ refreshToken: first.refreshToken }, inBody), (err: ConnectError) => err.code === Code.Unauthenticated && /already used/.test(err.message));
    await assert.rejects(mesh.auth.refresh({ refreshToken: third.refreshToken }, inBody), code(Code.Unauthenticated));
    // Another device's sign-in is a family of its own and lives on.
    const other = await mesh.auth.signIn({ email: "rotate@example.com", password: "long enough secret" }, inBody);
    assert.ok((await mesh.auth.refresh({ refreshToken: other.refreshToken }, inBody)).accessToken);
  });

  test("sign out revokes the device's refresh token and clears the cookie", async () => {
    const inBody = { headers: { "x-refresh-in-body": "1" } };
    const s = await mesh.auth.signUp({ email: "out@example.com", password: "long enough secret" }, inBody);
    let cleared = "";
    await mesh.auth.signOut({ refreshToken: s.refreshToken }, { onHeader: (h) => (cleared = h.get("set-cookie") ?? "") });
    assert.match(cleared, /tm_refresh=;.*Max-Age=0/);
    await assert.rejects(mesh.auth.refresh({ refreshToken: s.refreshToken }, inBody), code(Code.Unauthenticated));
    await assert.rejects(mesh.auth.refresh({}), (err: ConnectError) => err.code === Code.Unauthenticated && /no refresh token/.test(err.message));
  });

  test("API tokens: secret shown once, usable as Bearer, listed without the secret, refused once revoked", async () => {
    const alice = await mesh.user("pat");
    const created = await mesh.auth.createApiToken({ name: "grpcurl", validDays: 30 }, { headers: alice.headers });
    assert.match(created.secret, /^tm_pat_/);
    assert.ok(created.token?.expireTime);
    const pat = { headers: { authorization: `Bearer ${created.secret}` } };
    const { task } = await mesh.taskClient.createTask({ title: "from a script" }, pat);
    assert.ok(task?.id);
    assert.equal((await mesh.taskClient.getTask({ id: task.id }, { headers: alice.headers })).task?.title, "from a script");
    const listed = await mesh.auth.listApiTokens({}, { headers: alice.headers });
    assert.deepEqual(
      listed.tokens.map((t) => t.name),
      ["grpcurl"],
    );
    assert.ok(listed.tokens[0]!.lastUsedTime, "last use is recorded");
    assert.ok(!toJsonString(ListApiTokensResponseSchema, listed).includes(created.secret));
    // Another user cannot revoke it (NOT_FOUND, as if it did not exist).
    const bob = await mesh.user("bob");
    await assert.rejects(mesh.auth.revokeApiToken({ id: created.token!.id }, { headers: bob.headers }), code(Code.NotFound));
    await mesh.auth.revokeApiToken({ id: created.token!.id }, { headers: alice.headers });
    await assert.rejects(mesh.taskClient.listTasks({}, pat), (err: ConnectError) => err.code === Code.Unauthenticated && /revoked/.test(err.message));
    assert.equal((await mesh.auth.listApiTokens({}, { headers: alice.headers })).tokens.length, 0);
  });

  test("UpdateAccount changes the time zone (canonical IANA name), the mask picks fields", async () => {
    const u = await mesh.user("tz");
    const res = await mesh.auth.updateAccount({ timeZone: "asia/tokyo", displayName: "ignored", updateMask: ["time_zone"] }, { headers: u.headers });
    assert.equal(res.user?.timeZone, "Asia/Tokyo");
    assert.equal(res.user?.displayName, "");
    await assert.rejects(mesh.auth.updateAccount({ updateMask: ["email"] }, { headers: u.headers }), code(Code.InvalidArgument));
    await assert.rejects(mesh.auth.getAccount({}), code(Code.Unauthenticated));
  });

  test("sign-in attempts are limited per address and e-mail: RESOURCE_EXHAUSTED with the delay", async () => {
    await mesh.auth.signUp({ email: "limited@example.com", password: "the right password" });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(mesh.auth.signIn({ email: "limited@example.com", password: "wrong" }), code(Code.Unauthenticated));
    }
    let retryAfter = "";
    const err = await mesh.auth.signIn({ email: "LIMITED@example.com", password: "the right password" }, { onHeader: (h) => (retryAfter = h.get("retry-after") ?? "") }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err?.code, Code.ResourceExhausted);
    assert.match(err!.message, /retry in \d+ s/);
    const detail = err!.findDetails(RetryLaterSchema)[0];
    assert.ok(detail?.retryDelay && detail.retryDelay.seconds > 0n, "RetryLater detail");
    assert.ok(Number(err!.metadata.get("retry-after") ?? retryAfter) > 0, "retry-after header");
    // Another e-mail from the same address is not blocked.
    await assert.rejects(mesh.auth.signIn({ email: "someone-else@example.com", password: "x" }), code(Code.Unauthenticated));
  });

  test("gRPC clients get the same answers (h2c on the same port)", async () => {
    const grpc = createClient(AuthService, createConnectTransport({ baseUrl: mesh.url, httpVersion: "2" }));
    await assert.rejects(grpc.getAccount({}), code(Code.Unauthenticated));
  });
});
