// The task service on a real listening port, as clients in other languages and tools reach it:
// Connect JSON over HTTP/1.1 (curl), gRPC over h2c, gRPC-Web, health, reflection (buf curl), drain.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createLogger, startServer, type RunningServer } from "@taskmesh/kit";
import { freshDatabase } from "@taskmesh/testing";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "../src/index.js";

const run = promisify(execFile);
const buf = path.resolve(import.meta.dirname, "../../../node_modules/.bin/buf");
const alice = { headers: { "x-user-id": "alice" } };

describe("task service over the network", () => {
  let server: RunningServer;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const db = await freshDatabase();
    const tasks = await startTasksModule({ databaseUrl: db.url });
    server = await startServer({ logger: createLogger("test"), services: tasks.services, routes: tasks.routes, readMaxBytes: 64 * 1024 }, 0, "127.0.0.1");
    stop = async () => {
      await server.drain();
      await tasks.stop();
      await db.drop();
    };
  });
  afterAll(() => stop());

  test("Connect JSON with plain HTTP/1.1, as curl sends it", async () => {
    const res = await fetch(`${server.url}/taskmesh.tasks.v1.TaskService/CreateTask`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user-id": "alice" },
      body: JSON.stringify({ title: "From curl", priority: "PRIORITY_HIGH", tags: ["cli"] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { task: { id: string; priority: string; version: string } };
    assert.equal(body.task.priority, "PRIORITY_HIGH");
    assert.equal(body.task.version, "1");

    const bad = await fetch(`${server.url}/taskmesh.tasks.v1.TaskService/CreateTask`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user-id": "alice" },
      body: JSON.stringify({ title: "" }),
    });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { code: string; message: string; details: { type: string }[] };
    assert.equal(err.code, "invalid_argument");
    assert.match(err.message, /title/);
    assert.equal(err.details[0]!.type, "buf.validate.Violations");

    const garbage = await fetch(`${server.url}/taskmesh.tasks.v1.TaskService/CreateTask`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user-id": "alice" },
      body: "{not json",
    });
    assert.equal(garbage.status, 400, "malformed JSON is a client error, not a 500");
  });

  test("oversized requests are refused with a clear error", async () => {
    const client = createClient(TaskService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const err = await client.createTask({ title: "big", notes: "x".repeat(100 * 1024) }, alice).catch((e: unknown) => ConnectError.from(e));
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.ResourceExhausted);
  });

  for (const [name, transport] of [
    ["gRPC over h2c", () => createGrpcTransport({ baseUrl: server.url })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" })],
    ["Connect over h2c", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2" })],
  ] as const) {
    test(`${name}: create, list, stream`, async () => {
      const client = createClient(TaskService, transport());
      const { task } = await client.createTask({ title: `via ${name}` }, alice);
      const { tasks } = await client.listTasks({ query: `"via ${name}"` }, alice);
      assert.deepEqual(
        tasks.map((t) => t.id),
        [task!.id],
      );
      for await (const msg of client.watchTasks({}, alice)) {
        assert.equal(msg.change.case, "caughtUp");
        break; // leaving the loop cancels the stream
      }
    });
  }

  test("gRPC health checking, overall and per service", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await health.check({ service: "" })).status, Serving.SERVING);
    assert.equal((await health.check({ service: "taskmesh.tasks.v1.TaskService" })).status, Serving.SERVING);
    const err = await health.check({ service: "nope.Service" }).catch((e: unknown) => ConnectError.from(e));
    assert.equal((err as ConnectError).code, Code.NotFound);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /rpc_server_duration_seconds_bucket\{.*method="CreateTask"/);
  });

  test("buf curl finds the schema through server reflection", async () => {
    const { stdout: list } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", server.url]);
    assert.match(list, /taskmesh\.tasks\.v1\.TaskService\/CreateTask/);
    assert.match(list, /taskmesh\.tasks\.v1\.TaskService\/WatchTasks/);
    // biome-ignore format: each flag on one line with its value
    const { stdout } = await run(buf, [
      "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-H", "x-user-id: bob",
      "-d", JSON.stringify({ title: "from buf curl", priority: "PRIORITY_LOW" }),
      `${server.url}/taskmesh.tasks.v1.TaskService/CreateTask`,
    ]);
    assert.equal((JSON.parse(stdout) as { task: { title: string } }).task.title, "from buf curl");
  });

  test("grpcurl lists, describes and calls through reflection", async () => {
    const grpcurl = process.env.TASKMESH_TEST_GRPCURL;
    assert.ok(grpcurl, "TASKMESH_TEST_GRPCURL is not set: run the suites with `npm test`, which builds grpcurl");
    const address = server.url.replace("http://", "");
    const { stdout: list } = await run(grpcurl, ["-plaintext", address, "list"]);
    assert.match(list, /^taskmesh\.tasks\.v1\.TaskService$/m);
    assert.match(list, /^grpc\.health\.v1\.Health$/m);
    const { stdout: described } = await run(grpcurl, ["-plaintext", address, "describe", "taskmesh.tasks.v1.Task"]);
    assert.match(described, /string title = 2/);
    const { stdout } = await run(grpcurl, [
      "-plaintext",
      "-H",
      "x-user-id: carol",
      "-d",
      JSON.stringify({ title: "from grpcurl", tags: ["cli"] }),
      address,
      "taskmesh.tasks.v1.TaskService/CreateTask",
    ]);
    assert.equal((JSON.parse(stdout) as { task: { title: string } }).task.title, "from grpcurl");
    const bad = await run(grpcurl, ["-plaintext", "-H", "x-user-id: carol", "-d", `{"title": ""}`, address, "taskmesh.tasks.v1.TaskService/CreateTask"]).catch((e: { stderr: string }) => e);
    assert.match((bad as { stderr: string }).stderr, /Code: InvalidArgument/);
  });

  test("drain: unready first, open streams end cleanly, then the port closes", async () => {
    const db = await freshDatabase();
    const tasks = await startTasksModule({ databaseUrl: db.url });
    const own = await startServer({ logger: createLogger("drain"), services: tasks.services, routes: tasks.routes, drainDelayMs: 300 }, 0, "127.0.0.1");
    const client = createClient(TaskService, createGrpcTransport({ baseUrl: own.url }));
    const seen: string[] = [];
    const watching = (async () => {
      for await (const msg of client.watchTasks({}, alice)) seen.push(msg.change.case ?? "");
    })();
    await new Promise((r) => setTimeout(r, 200));
    const draining = own.drain();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${own.url}/readyz`)).status, 503, "unready while draining");
    await draining;
    await watching; // the stream ended without an error
    assert.deepEqual(seen, ["caughtUp"]);
    await assert.rejects(fetch(`${own.url}/healthz`));
    await tasks.stop();
    await db.drop();
  });
});
