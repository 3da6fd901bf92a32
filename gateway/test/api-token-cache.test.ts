// API tokens served from memory (ApiTokenCache) stay exact in effect: a revocation reaches every
// gateway replica on the database by the next call (one that hears of changes late included), an
// expired token is refused, and a gateway whose listening session is lost or goes silent stops
// serving from memory. Real PostgreSQL, two gateways on one database, a relay that delays, cuts or
// freezes only the listening sessions.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import pg from "pg";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { hello, LiveClient, startMesh, type TestMesh } from "./fixtures.js";

const refused = (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(Code[err.code], Code[Code.Unauthenticated], err.message);
  assert.match(err.message, /API token unknown, revoked or expired/);
  return true;
};

async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/**
 * Changes a token's row with the triggers off (as logical replication applies rows): no gateway
 * hears of it, so a call still answered as before was answered from memory, not from the table.
 */
const behindTheTriggers = (url: string, revokedAt: Date | null, id: string) =>
  sql(url, `BEGIN; SET LOCAL session_replication_role = replica; UPDATE auth.api_tokens SET revoked_at = ${revokedAt ? `'${revokedAt.toISOString()}'` : "NULL"} WHERE id = '${id}'; COMMIT`);

function taskClient(mesh: TestMesh, secret: string): { client: Client<typeof TaskService>; options: { headers: { authorization: string } } } {
  return { client: createClient(TaskService, createConnectTransport({ baseUrl: mesh.url, httpVersion: "1.1" })), options: { headers: { authorization: `Bearer ${secret}` } } };
}

describe("two gateways on one database", () => {
  let url: string;
  let drop: () => Promise<void>;
  let a: TestMesh;
  let b: TestMesh;
  beforeAll(async () => {
    ({ url, drop } = await freshDatabase());
    a = await startMesh({ databaseUrl: url, replicaId: "a" });
    b = await startMesh({ databaseUrl: url, replicaId: "b", tasks: a.tasks, bus: a.bus });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await drop?.();
  });

  /** A new user of gateway a with an API token, a client with it through each gateway, and a call through both. */
  async function tokenUsedOnBoth(label: string) {
    const alice = await a.user(label);
    const { secret, token } = await a.auth.createApiToken({ name: "script" }, { headers: alice.headers });
    const [viaA, viaB] = [taskClient(a, secret), taskClient(b, secret)];
    const listOnBoth = async () => {
      await viaA.client.listTasks({}, viaA.options);
      await viaB.client.listTasks({}, viaB.options);
    };
    await listOnBoth();
    return { alice, tokenId: token!.id, viaA, viaB, listOnBoth };
  }

  test("a token revoked through one is refused by both on the next call, though both answered it from memory", async () => {
    const { alice, tokenId, viaA, viaB, listOnBoth } = await tokenUsedOnBoth("revoked");
    await behindTheTriggers(url, new Date(), tokenId);
    await listOnBoth();
    await behindTheTriggers(url, null, tokenId);

    await a.auth.revokeApiToken({ id: tokenId }, { headers: alice.headers });
    await assert.rejects(viaB.client.listTasks({}, viaB.options), refused);
    await assert.rejects(viaA.client.listTasks({}, viaA.options), refused);
  });

  test("a token revoked in the database by hand is refused by both", async () => {
    const { tokenId, viaA, viaB } = await tokenUsedOnBoth("by-hand");
    await sql(url, `UPDATE auth.api_tokens SET revoked_at = now() WHERE id = $1`, [tokenId]);
    await eventually(() => assert.rejects(viaA.client.listTasks({}, viaA.options), refused));
    await eventually(() => assert.rejects(viaB.client.listTasks({}, viaB.options), refused));
  });

  test("a changed time zone reaches the calls of the user's tokens on both", async () => {
    const alice = await a.user("zone");
    const { secret } = await a.auth.createApiToken({ name: "script" }, { headers: alice.headers });
    const [viaA, viaB] = [taskClient(a, secret), taskClient(b, secret)];
    // A task made without a time zone takes its caller's.
    const zoneOfNewTask = async (via: ReturnType<typeof taskClient>) => (await via.client.createTask({ title: "zone" }, via.options)).task?.timeZone;
    assert.equal(await zoneOfNewTask(viaA), "Europe/Paris");
    assert.equal(await zoneOfNewTask(viaB), "Europe/Paris");
    await a.auth.updateAccount({ timeZone: "Pacific/Kiritimati", updateMask: ["time_zone"] }, { headers: alice.headers });
    assert.equal(await zoneOfNewTask(viaA), "Pacific/Kiritimati");
    await eventually(async () => assert.equal(await zoneOfNewTask(viaB), "Pacific/Kiritimati"));
  });

  test("a sign-out everywhere through one ends the account's live sockets on both at once, not at their next heartbeat (25 s)", async () => {
    const alice = await a.user("everywhere");
    const { secret, token } = await a.auth.createApiToken({ name: "script" }, { headers: alice.headers });
    const sockets = await Promise.all([a, b].flatMap((mesh) => [LiveClient.open(mesh.url, hello(alice.token)), LiveClient.open(mesh.url, hello(secret))]));
    for (const socket of sockets) await socket.next("ready");
    const [sessionOnA, scriptOnA, sessionOnB, scriptOnB] = sockets;
    const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<string>((resolve) => setTimeout(() => resolve(`nothing within ${ms} ms`), ms))]);

    await a.auth.signOut({ everySession: true }, { headers: alice.headers });
    const signedOut = { code: 4401, reason: "signed out of every session: sign in again" };
    assert.deepEqual(await within(sessionOnA!.closed, 2_000), signedOut);
    assert.deepEqual(await within(sessionOnB!.closed, 2_000), signedOut, "the other gateway heard it from PostgreSQL");
    // API tokens outlive a sign-out everywhere; revoking one ends its sockets, on both, as promptly.
    assert.equal(await within(scriptOnB!.closed, 500), "nothing within 500 ms");
    const again = await a.auth.signIn({ email: alice.email, password: "long enough secret" });
    await a.auth.revokeApiToken({ id: token!.id }, { headers: { authorization: `Bearer ${again.accessToken}` } });
    const revoked = { code: 4401, reason: "API token unknown, revoked or expired" };
    assert.deepEqual(await within(scriptOnA!.closed, 2_000), revoked);
    assert.deepEqual(await within(scriptOnB!.closed, 2_000), revoked);
  });
});

test("an expired token is refused, though a moment before it was answered from memory", async () => {
  const { url, drop } = await freshDatabase();
  let clock = Date.now();
  const mesh = await startMesh({ databaseUrl: url, now: () => new Date(clock) });
  try {
    const alice = await mesh.user("expiry");
    const { secret, token } = await mesh.auth.createApiToken({ name: "script", validDays: 1 }, { headers: alice.headers });
    const via = taskClient(mesh, secret);
    await via.client.listTasks({}, via.options);
    await behindTheTriggers(url, new Date(), token!.id);
    await via.client.listTasks({}, via.options);
    await behindTheTriggers(url, null, token!.id);
    clock += 86_400_000 + 1_000;
    await assert.rejects(via.client.listTasks({}, via.options), refused);
  } finally {
    await mesh.stop();
    await drop();
  }
});

test("a token revoked through one gateway is refused on the next call by another that hears of changes late", async () => {
  const { url, drop } = await freshDatabase();
  const relay = await listenerRelay(new URL(url), 300);
  const viaRelay = new URL(url);
  viaRelay.host = `127.0.0.1:${relay.port}`;
  const a = await startMesh({ databaseUrl: url, replicaId: "a" });
  const late = await startMesh({ databaseUrl: url, replicaId: "late", tasks: a.tasks, bus: a.bus, auth: { databaseUrl: viaRelay.toString() } });
  try {
    const alice = await a.user("late");
    const { secret, token } = await a.auth.createApiToken({ name: "script" }, { headers: alice.headers });
    const viaLate = taskClient(late, secret);
    await viaLate.client.listTasks({}, viaLate.options);
    await a.auth.revokeApiToken({ id: token!.id }, { headers: alice.headers });
    await assert.rejects(viaLate.client.listTasks({}, viaLate.options), refused);
  } finally {
    await late.stop();
    await a.stop();
    await relay.close();
    await drop();
  }
});

describe("a gateway whose listening session is lost", () => {
  for (const fault of ["cut", "frozen"] as const) {
    test(`${fault}: it stops answering from memory, and a token revoked meanwhile is refused`, { timeout: 30_000 }, async () => {
      const { url, drop } = await freshDatabase();
      const relay = await listenerRelay(new URL(url));
      const viaRelay = new URL(url);
      viaRelay.host = `127.0.0.1:${relay.port}`;
      // Pinged every 250 ms, serving while it answered within 2 s (a loaded machine's pauses stay well inside).
      const mesh = await startMesh({ databaseUrl: url, auth: { databaseUrl: viaRelay.toString(), tokenCache: { pingMs: 250, staleMs: 2_000 } } });
      try {
        const alice = await mesh.user(fault);
        const { secret, token } = await mesh.auth.createApiToken({ name: "script" }, { headers: alice.headers });
        const via = taskClient(mesh, secret);
        await via.client.listTasks({}, via.options);
        await behindTheTriggers(url, new Date(), token!.id);
        await via.client.listTasks({}, via.options);
        await behindTheTriggers(url, null, token!.id);

        relay.stopListeners(fault);
        // Whatever the gateway hears from now on, this revocation it does not.
        await sql(url, `UPDATE auth.api_tokens SET revoked_at = now() WHERE id = $1`, [token!.id]);
        if (fault === "frozen") await new Promise((resolve) => setTimeout(resolve, 2_300));
        await assert.rejects(via.client.listTasks({}, via.options), refused);
      } finally {
        await relay.close();
        await mesh.stop();
        await drop();
      }
    });
  }
});

async function eventually(check: () => Promise<unknown>, ms = 5_000): Promise<void> {
  for (const deadline = Date.now() + ms; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/**
 * A TCP relay to PostgreSQL that passes everything until told to stop the listening sessions (those
 * that sent LISTEN): then each, and each one opened later, is cut (closed) or frozen (nothing
 * passes either way, nothing is closed: a link that died without a word). Other sessions pass.
 * With `delayMs`, what the server sends a listening session arrives that much later.
 */
async function listenerRelay(target: URL, delayMs = 0): Promise<{ port: number; stopListeners(how: "cut" | "frozen"): void; close(): Promise<void> }> {
  const listeners = new Set<[net.Socket, net.Socket]>();
  const all = new Set<net.Socket>();
  let stopped: "cut" | "frozen" | undefined;
  const stop = (pair: [net.Socket, net.Socket]) => {
    const [client, upstream] = pair;
    if (stopped === "cut") {
      client.destroy();
      upstream.destroy();
      return;
    }
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.removeAllListeners("data").on("data", () => {});
    upstream.removeAllListeners("data").on("data", () => {});
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    all.add(client).add(upstream);
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      if (!listeners.has(pair) && chunk.includes("LISTEN ")) {
        listeners.add(pair);
        if (stopped) return stop(pair);
        if (delayMs > 0) {
          upstream.unpipe(client);
          upstream.on("data", (data: Buffer) => setTimeout(() => client.write(data), delayMs)).resume();
        }
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stopListeners(how) {
      stopped = how;
      for (const pair of listeners) stop(pair);
    },
    async close() {
      for (const socket of all) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
