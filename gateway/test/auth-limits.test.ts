// Password hashing cannot be turned into a denial of service (issue 13, item 2): sign-ins are
// limited per client address (X-Forwarded-For only from trusted proxies) and per replica, and every
// hash waits in a bounded queue; beyond it the answer is RESOURCE_EXHAUSTED with a retry delay.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryLaterSchema } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { addressKey, clientAddressOf, TrustedProxies } from "../src/auth/client-address.js";
import { PasswordQueue } from "../src/auth/password-queue.js";
import { startMesh, type TestMesh } from "./fixtures.js";

async function signIn(mesh: TestMesh, email: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${mesh.url}/taskmesh.auth.v1.AuthService/SignIn`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ email, password: "not the password" }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as { code?: string; message?: string } };
}

const randomEmail = () => `spray-${Math.random().toString(36).slice(2)}@example.com`;

describe("client address", () => {
  test("X-Forwarded-For is read only from a trusted proxy, right to left past trusted hops", () => {
    const none = new TrustedProxies([]);
    const proxies = new TrustedProxies(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
    assert.equal(clientAddressOf("::ffff:203.0.113.9", "198.51.100.1", none), "203.0.113.9", "no proxies configured: the header is ignored");
    assert.equal(clientAddressOf("203.0.113.9", "198.51.100.1", proxies), "203.0.113.9", "from an untrusted peer the header is ignored");
    assert.equal(clientAddressOf("127.0.0.1", "198.51.100.1", proxies), "198.51.100.1");
    assert.equal(clientAddressOf("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", proxies), "198.51.100.1", "the client cannot forge entries to the right of its own");
    assert.equal(clientAddressOf("10.1.2.3", "not-an-ip", proxies), "10.1.2.3");
    assert.equal(clientAddressOf("fd00::1", "2001:db8::5", proxies), "2001:db8::5");
    assert.throws(() => new TrustedProxies(["10.0.0.0/33"]), /TASKMESH_TRUSTED_PROXIES/);
    assert.throws(() => new TrustedProxies(["example.com"]), /TASKMESH_TRUSTED_PROXIES/);
  });

  test("IPv6 clients are counted by their /64", () => {
    assert.equal(addressKey("2001:db8:1:2:aaaa::1"), addressKey("2001:db8:1:2:bbbb::2"));
    assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
    assert.equal(addressKey("203.0.113.9"), "203.0.113.9");
  });
});

describe("password queue", () => {
  test("runs at most `concurrency` hashes, queues a few, refuses the rest with a retry delay", async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 2 });
    let running = 0;
    let peak = 0;
    const work = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return "ok";
    };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => queue.run(work)));
    assert.equal(peak, 1, "never more than one hash at a time");
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 3, "one running and two queued are served");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => ConnectError.from(r.reason));
    assert.equal(refused.length, 3);
    for (const err of refused) {
      assert.equal(err.code, Code.ResourceExhausted);
      assert.equal(err.metadata.get("retry-after"), "1");
      assert.equal(err.findDetails(RetryLaterSchema).length, 1);
    }
    assert.equal(queue.refused, 3);
    assert.equal(await queue.run(work), "ok", "the queue serves again once drained");
  });

  test("a waiter that waited too long is refused instead of started", async () => {
    const queue = new PasswordQueue({ concurrency: 1, maxQueued: 5, maxWaitMs: 10 });
    const slow = queue.run(() => new Promise((r) => setTimeout(r, 50)));
    const late = queue.run(async () => "ran");
    await slow;
    await assert.rejects(late, (e: unknown) => ConnectError.from(e).code === Code.ResourceExhausted);
  });
});

describe("sign-in limits", () => {
  let drop: () => Promise<void>;
  const meshes: TestMesh[] = [];

  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
  });
  afterAll(async () => {
    for (const m of meshes) await m.stop();
    await drop();
  });

  const mesh = async (auth: Parameters<typeof startMesh>[0]["auth"]) => {
    const db = await freshDatabase();
    const m = await startMesh({ databaseUrl: db.url, auth });
    meshes.push(m);
    const stop = m.stop;
    m.stop = async () => {
      await stop();
      await db.drop();
    };
    return m;
  };

  test("sign-ins with different e-mails from one address hit the per-address limit, with retry-after", async () => {
    const m = await mesh({ signInLimits: { perAddress: { points: 5, windowSeconds: 60 } } });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push(await signIn(m, randomEmail()));
    assert.deepEqual(
      statuses.map((s) => s.status),
      [401, 401, 401, 401, 401, 429, 429],
    );
    assert.equal(statuses[5]!.body.code, "resource_exhausted");
    assert.match(statuses[5]!.body.message!, /from this address/);
    assert.ok(Number(statuses[5]!.retryAfter) >= 1);
  });

  test("X-Forwarded-For counts only when the peer is a trusted proxy", async () => {
    const spoofed = await mesh({ signInLimits: { perAddress: { points: 3, windowSeconds: 60 } } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await signIn(spoofed, randomEmail(), { "x-forwarded-for": `198.51.100.${i}` })).status);
    assert.deepEqual(codes, [401, 401, 401, 429, 429], "an untrusted client cannot rotate its address");

    const proxied = await mesh({ signInLimits: { perAddress: { points: 3, windowSeconds: 60 } }, trustedProxies: ["127.0.0.1/32", "::1/128"] });
    const perClient = [];
    for (let i = 0; i < 5; i++) perClient.push((await signIn(proxied, randomEmail(), { "x-forwarded-for": `198.51.100.${i}` })).status);
    assert.deepEqual(perClient, [401, 401, 401, 401, 401], "behind a trusted proxy each client has its own budget");
    for (let i = 0; i < 3; i++) await signIn(proxied, randomEmail(), { "x-forwarded-for": "203.0.113.7" });
    assert.equal((await signIn(proxied, randomEmail(), { "x-forwarded-for": "203.0.113.7" })).status, 429);
  });

  test("a replica-wide limit stops a spray from many addresses", async () => {
    const m = await mesh({ signInLimits: { global: { points: 4, windowSeconds: 60 } }, trustedProxies: ["127.0.0.1/32", "::1/128"] });
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await signIn(m, randomEmail(), { "x-forwarded-for": `198.51.100.${i}` })).status);
    assert.deepEqual(codes, [401, 401, 401, 401, 429, 429]);
  });

  test("a spray beyond the hashing queue is refused with RESOURCE_EXHAUSTED, never a 500", async () => {
    const m = await mesh({ passwordQueue: { concurrency: 1, maxQueued: 2 }, trustedProxies: ["127.0.0.1/32", "::1/128"] });
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => signIn(m, randomEmail(), { "x-forwarded-for": `198.51.100.${i}` })));
    const statuses = results.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      `only 401 and 429: ${statuses}`,
    );
    assert.ok(statuses.filter((s) => s === 429).length > 0, "some were refused");
    assert.ok(results.filter((r) => r.status === 429).every((r) => r.retryAfter === "1" && /sign-ins are being checked/.test(r.body.message!)));
    assert.ok(m.gateway.passwordQueue.refused > 0);
    // And the accounts still work afterwards.
    const alice = await m.user("alice");
    assert.ok(alice.token);
  });
});
