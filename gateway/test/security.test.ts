// The edge's security properties, on PostgreSQL: no call reaches a service without a valid
// credential (missing, expired, forged with another key, alg none, revoked API token); one user
// can neither read, change, watch nor infer another's tasks through any endpoint; the client's
// x-user-id is ignored; malformed and oversized requests get clear errors.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { randomBytes, randomUUID } from "node:crypto";
import { AccessTokens, ACCESS_TOKEN_TTL_SECONDS } from "../src/auth/access-tokens.js";
import { isPublic } from "../src/auth/auth-interceptor.js";
import { clientFrame, hello, JWT_SECRET, LiveClient, startMesh, type TestMesh } from "./fixtures.js";

function b64(json: object): string {
  return Buffer.from(JSON.stringify(json)).toString("base64url");
}

/** Every RPC of a service called with `headers`: the error code of each. */
async function callEverything(service: DescService, transport: Transport, headers: Record<string, string>): Promise<Map<string, Code | "ok">> {
  const client = createClient(service, transport);
  const codes = new Map<string, Code | "ok">();
  for (const method of service.methods) {
    if (isPublic(service.typeName, method.name)) continue;
    try {
      const call: (req: object, opts: object) => unknown = Reflect.get(client, method.localName);
      const result = call({}, { headers, timeoutMs: 20_000 });
      if (method.methodKind === "server_streaming") {
        for await (const _ of result as AsyncIterable<unknown>) break;
      } else {
        await result;
      }
      codes.set(method.name, "ok");
    } catch (err) {
      codes.set(method.name, ConnectError.from(err).code);
    }
  }
  return codes;
}

describe("gateway security", () => {
  let mesh: TestMesh;
  let drop: () => Promise<void>;
  let alice: Awaited<ReturnType<TestMesh["user"]>>;
  let bob: Awaited<ReturnType<TestMesh["user"]>>;
  let bad: Record<string, Record<string, string>>;

  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
    mesh = await startMesh({ databaseUrl: db.url });
    alice = await mesh.user("alice");
    bob = await mesh.user("bob");
    const expired = await new AccessTokens(JWT_SECRET).issue(alice.id, "UTC", new Date(Date.now() - (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000));
    const otherKey = await new AccessTokens(randomBytes(48)).issue(alice.id, "UTC");
    const [, payload] = alice.token.split(".");
    const pat = await mesh.auth.createApiToken({ name: "soon revoked" }, { headers: alice.headers });
    await mesh.auth.revokeApiToken({ id: pat.token!.id }, { headers: alice.headers });
    bad = {
      missing: {},
      "only x-user-id": { "x-user-id": alice.id },
      expired: { authorization: `Bearer ${expired.token}` },
      "signed with another key": { authorization: `Bearer ${otherKey.token}` },
      "alg none": { authorization: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${payload}.` },
      "payload swapped": { authorization: `Bearer ${alice.token.split(".")[0]}.${b64({ sub: bob.id, iss: "taskmesh", aud: "taskmesh", exp: 9999999999 })}.${alice.token.split(".")[2]}` },
      "not a JWT": { authorization: "Bearer abc.def" },
      "revoked API token": { authorization: `Bearer ${pat.secret}` },
      "unknown API token": { authorization: `Bearer tm_pat_${randomBytes(32).toString("base64url")}` },
      "basic auth": { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
    };
  });
  afterAll(async () => {
    await mesh.stop();
    await drop();
  });

  test("every RPC of every service refuses missing, expired and forged credentials, over Connect, gRPC and gRPC-Web", async () => {
    const transports = {
      connect: createConnectTransport({ baseUrl: mesh.url, httpVersion: "1.1" }),
      grpc: createGrpcTransport({ baseUrl: mesh.url }),
      "grpc-web": createGrpcWebTransport({ baseUrl: mesh.url, httpVersion: "1.1" }),
    };
    for (const [protocol, transport] of Object.entries(transports)) {
      for (const [label, headers] of Object.entries(bad)) {
        // Every protocol × credential on the task service; the other services with a few credentials.
        const services = label === "missing" || label === "alg none" || protocol === "connect" ? [TaskService, RecurrenceService, AuthService] : [TaskService];
        for (const service of services) {
          const codes = await callEverything(service, transport, headers);
          assert.ok(codes.size > 0);
          for (const [method, c] of codes) {
            assert.equal(c, Code.Unauthenticated, `${protocol} ${service.typeName}/${method} with ${label}: got ${c === "ok" ? "ok" : Code[c]}`);
          }
        }
      }
    }
    // And with a valid token the same calls get past the edge (answers come from the services).
    const ok = await callEverything(TaskService, transports.connect, alice.headers);
    assert.ok(
      [...ok.values()].every((c) => c !== Code.Unauthenticated),
      JSON.stringify([...ok]),
    );
  });

  test("an access token accepted before is refused once it expired", async () => {
    // Issued so that it expires 1.5 s from now.
    const soon = await new AccessTokens(JWT_SECRET).issue(alice.id, "UTC", new Date(Date.now() - ACCESS_TOKEN_TTL_SECONDS * 1000 + 1_500));
    const headers = { authorization: `Bearer ${soon.token}` };
    await mesh.taskClient.listTasks({}, { headers });
    await new Promise((resolve) => setTimeout(resolve, soon.expiresAt.getTime() - Date.now() + 50));
    await assert.rejects(mesh.taskClient.listTasks({}, { headers }), (err: ConnectError) => err.code === Code.Unauthenticated && /access token expired/.test(err.message));
  });

  test("user B cannot read, change or infer user A's task; B's x-user-id claiming A is ignored", async () => {
    const { task } = await mesh.taskClient.createTask({ title: "alice's secret", tags: ["private"] }, { headers: alice.headers });
    const id = task!.id;
    const asBob = { headers: { ...bob.headers, "x-user-id": alice.id } };
    const notFound = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err?.code, Code.NotFound, `expected NOT_FOUND, got ${err ? `${Code[err.code]} ${err.message}` : "success"}`);
      return err!.rawMessage.replaceAll(id, "<id>");
    };
    const existing = await notFound(mesh.taskClient.getTask({ id }, asBob));
    const random = randomUUID();
    const missing = (await mesh.taskClient.getTask({ id: random }, asBob).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    ))!;
    assert.equal(existing, missing.rawMessage.replaceAll(random, "<id>"), "same answer as for an id that does not exist");
    const v = task!.version;
    await notFound(mesh.taskClient.updateTask({ task: { id, title: "pwned" }, updateMask: { paths: ["title"] }, expectedVersion: v }, asBob));
    await notFound(mesh.taskClient.completeTask({ id, expectedVersion: v }, asBob));
    await notFound(mesh.taskClient.reopenTask({ id, expectedVersion: v }, asBob));
    await notFound(mesh.taskClient.deleteTask({ id, expectedVersion: v }, asBob));
    assert.equal((await mesh.taskClient.listTasks({ query: "secret" }, asBob)).tasks.length, 0);
    assert.equal((await mesh.taskClient.listTasks({}, asBob)).tasks.length, 0);
    assert.equal((await mesh.taskClient.listTags({}, asBob)).tags.length, 0);
    const still = await mesh.taskClient.getTask({ id }, { headers: alice.headers });
    assert.equal(still.task?.title, "alice's secret");
    assert.equal(still.task?.version, task!.version);
  });

  test("B's WatchTasks stream and B's live socket never carry A's changes", async () => {
    const watch = new AbortController();
    const seen: string[] = [];
    const stream = mesh.taskClient.watchTasks({}, { headers: { ...bob.headers, "x-user-id": alice.id }, signal: watch.signal });
    const reading = (async () => {
      try {
        for await (const m of stream) if (m.change.case === "upserted") seen.push(m.change.value.title);
      } catch (err) {
        if (!watch.signal.aborted) throw err;
      }
    })();
    const socket = await LiveClient.open(mesh.url, hello(bob.token));
    await socket.next("ready");
    await new Promise((r) => setTimeout(r, 300));
    await mesh.taskClient.createTask({ title: "A: not for bob" }, { headers: alice.headers });
    await mesh.taskClient.createTask({ title: "B: bob's own" }, { headers: bob.headers });
    const frame = await socket.next("task");
    assert.equal(frame.task?.title, "B: bob's own", "the first change B sees is B's");
    const deadline = Date.now() + 10_000;
    while (!seen.includes("B: bob's own") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    watch.abort();
    await reading;
    assert.deepEqual(seen, ["B: bob's own"]);
    assert.deepEqual(
      (await socket.quiet(300)).filter((f) => f.case === "task"),
      [],
    );
    socket.close();
  });

  test("the live socket refuses missing, expired and forged tokens (4401) and malformed frames (4400)", async () => {
    for (const [label, headers] of Object.entries(bad)) {
      if (label === "missing" || label === "only x-user-id" || label === "basic auth") continue;
      const token = headers.authorization!.replace(/^Bearer /, "");
      const socket = await LiveClient.open(mesh.url, hello(token));
      const { code } = await socket.closed;
      assert.equal(code, 4401, label);
      assert.equal(socket.frames.length, 0, `${label}: nothing sent before closing`);
    }
    const malformed = [
      "not json",
      "null",
      "[]",
      "{}",
      '{"hello":{}}',
      '{"hello":{"token":7}}',
      hello(alice.token, "DROP TABLE"),
      hello(alice.token, "c".repeat(65)),
      clientFrame({ case: "ping", value: {} }),
      JSON.stringify({ type: "hello", token: alice.token }),
    ];
    for (const text of malformed) {
      const socket = await LiveClient.open(mesh.url, text);
      assert.deepEqual(await socket.closed, { code: 4400, reason: 'expected {"hello":{"token":"…","cursor":"…"}} first' }, text);
    }
    const binary = await LiveClient.open(mesh.url);
    binary.socket.send(Buffer.from(hello(alice.token)));
    assert.equal((await binary.closed).code, 4400, "a binary frame");
    const later = await LiveClient.open(mesh.url, hello(alice.token));
    await later.next("ready");
    later.socket.send(clientFrame({ case: "ping", value: {} }));
    await later.next("pong");
    later.socket.send('{"type":"pong"}');
    assert.deepEqual(await later.closed, { code: 4400, reason: 'expected a ClientFrame, e.g. {"pong":{}}' }, "after the hello too");
    const big = await LiveClient.open(mesh.url, hello("x".repeat(64 * 1024)));
    assert.equal((await big.closed).code, 1009, "frames over the limit close the socket as too big");
  });

  test("malformed and oversized requests get clear errors", async () => {
    const post = (body: string, contentType = "application/json") =>
      fetch(`${mesh.url}/taskmesh.tasks.v1.TaskService/CreateTask`, { method: "POST", headers: { "content-type": contentType, ...alice.headers }, body });
    const malformed = await post('{"title":');
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { message: string }).message, /cannot decode message taskmesh\.tasks\.v1\.CreateTaskRequest/);
    const invalid = await post('{"title":""}');
    assert.equal(((await invalid.json()) as { code: string }).code, "invalid_argument");
    const huge = await post(JSON.stringify({ title: "x", notes: "n".repeat(2 * 1024 * 1024) }));
    const hugeBody = (await huge.json()) as { code: string; message: string };
    assert.equal(hugeBody.code, "resource_exhausted");
    assert.match(hugeBody.message, /larger than configured readMaxBytes 1048576/);
    const wrongType = await post("title=x", "application/x-www-form-urlencoded");
    assert.equal(wrongType.status, 415);
  });

  test("CORS: listed origins get credentials and a preflight answer; others are refused, also for the WebSocket", async () => {
    const preflight = (origin: string) =>
      fetch(`${mesh.url}/taskmesh.tasks.v1.TaskService/ListTasks`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
    const ok = await preflight("https://app.example.com");
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    assert.match(ok.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.equal((await preflight("https://evil.example")).status, 403);
    await assert.rejects(LiveClient.open(mesh.url, undefined, { origin: "https://evil.example" }), /403/);
    const own = await LiveClient.open(mesh.url, hello(alice.token), { origin: mesh.url });
    assert.equal((await own.next()).case, "ready");
    own.close();
  });

  test("health, reflection and the web app page are public; without a build the page says how to make one", async () => {
    assert.equal((await fetch(`${mesh.url}/healthz`)).status, 200);
    const page = await fetch(`${mesh.url}/some/client/route`);
    assert.equal(page.status, 503);
    assert.match(await page.text(), /npm run build -w web/);
  });
});
