// One contract for every way a service reaches another: in-process, direct gRPC, and through real
// daprd sidecars (the caller's daprd proxies to the task service's daprd by app id). Same calls,
// same answers: unary, server streaming, errors with details, caller identity, deadlines.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { Code, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createLogger, startServer, type RunningServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { startTestMesh, type DaprMesh, type Sidecar } from "@taskmesh/testing/infra";
import { serviceTransport, type TransportConfig } from "../src/index.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

type Tasks = Client<typeof TaskService>;
const as = (user: string) => ({ headers: { "x-user-id": user } });
let seq = 0;
const newUser = () => `u-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** Headers of every request the task service's server received (an HTTP route that never answers). */
const received: IncomingHttpHeaders[] = [];

let tasksModule: Awaited<ReturnType<typeof startTasksModule>>;
let server: RunningServer;
let mesh: DaprMesh;
let tasksSidecar: Sidecar;
let callerSidecar: Sidecar;
let dropDb: () => Promise<void>;

async function serveTasks(port: number): Promise<RunningServer> {
  return startServer(
    {
      logger: createLogger("transport-test"),
      services: tasksModule.services,
      routes: tasksModule.routes,
      http: [
        (req) => {
          received.push(req.headers);
          return false;
        },
      ],
    },
    port,
    "127.0.0.1",
  );
}

beforeAll(async () => {
  const db = await freshDatabase();
  dropDb = db.drop;
  tasksModule = await startTasksModule({ databaseUrl: db.url });
  server = await serveTasks(0);
  mesh = await startTestMesh();
  [tasksSidecar, callerSidecar] = await Promise.all([mesh.sidecar({ appId: "tasks", appPort: server.port, appProtocol: "grpc" }), mesh.sidecar({ appId: "caller" })]);
});

afterAll(async () => {
  await mesh?.stop();
  await server?.drain();
  await tasksModule?.stop();
  await dropDb?.();
});

const configs: Record<string, () => TransportConfig> = {
  inprocess: () => ({ mode: "inprocess", routes: { tasks: tasksModule.routes } }),
  direct: () => ({ mode: "direct", urls: { tasks: server.url } }),
  dapr: () => ({ mode: "dapr", daprGrpcPort: callerSidecar.grpcPort }),
};

for (const [name, config] of Object.entries(configs)) {
  describe(`transport contract: ${name}`, () => {
    let transport: Transport;
    let client: Tasks;
    beforeAll(() => {
      transport = serviceTransport(config(), "tasks");
      client = createClient(TaskService, transport);
    });

    test("unary calls carry the caller's identity (x-user-id) to the service", async () => {
      const alice = newUser();
      const bob = newUser();
      const { task } = await client.createTask({ title: `via ${name}`, tags: ["mesh"] }, as(alice));
      assert.ok(task?.id);
      const got = await client.getTask({ id: task.id }, as(alice));
      assert.equal(got.task?.title, `via ${name}`);
      await expectCode(client.getTask({ id: task.id }, as(bob)), Code.NotFound);
      assert.equal((await client.listTasks({}, as(bob))).tasks.length, 0);
      await expectCode(client.listTasks({}), Code.Unauthenticated);
    });

    test("INVALID_ARGUMENT keeps its field violations", async () => {
      const err = await expectCode(client.createTask({ title: "", tags: ["x".repeat(200)] }, as(newUser())), Code.InvalidArgument);
      const fields = violatedFields(err);
      assert.ok(fields.includes("title"), `violations: ${fields.join(", ")}`);
    });

    test("server streaming delivers live changes", async () => {
      const alice = newUser();
      const abort = new AbortController();
      const stream = client.watchTasks({}, { ...as(alice), signal: abort.signal })[Symbol.asyncIterator]();
      const first = await stream.next();
      assert.equal(first.value?.change.case, "caughtUp");
      const { task } = await client.createTask({ title: "streamed" }, as(alice));
      const next = await stream.next();
      assert.equal(next.value?.change.case, "upserted");
      assert.equal(next.value?.change.value.id, task!.id);
      abort.abort();
      await stream.return?.();
    });

    test("deadlines end a call with DEADLINE_EXCEEDED", async () => {
      const started = Date.now();
      const watch = (async () => {
        for await (const _ of client.watchTasks({}, { ...as(newUser()), timeoutMs: 400 })) {
          // caught up, then nothing happens until the deadline
        }
      })();
      await expectCode(watch, Code.DeadlineExceeded);
      assert.ok(Date.now() - started >= 350, "ended by the deadline, not earlier");
    });
  });
}

describe("calls through Dapr", () => {
  let client: Tasks;
  beforeAll(() => {
    client = createClient(TaskService, serviceTransport(configs.dapr!(), "tasks"));
  });

  test("really cross the sidecars: the callee sees the caller's app id, daprd counts the call", async () => {
    const sent = async () => Number(/^dapr_runtime_service_invocation_req_sent_total\{app_id="caller",dst_app_id="tasks",type="unary"\} (\d+)$/m.exec(await callerSidecar.metrics())?.[1] ?? 0);
    const before = await sent();
    received.length = 0;
    await client.listTasks({}, as(newUser()));
    assert.equal(await sent(), before + 1, "the caller's daprd counted one call to tasks");
    const viaDapr = received.find((h) => h["x-user-id"] !== undefined);
    assert.equal(viaDapr?.["dapr-caller-app-id"], "caller");
    assert.equal(viaDapr?.["dapr-callee-app-id"], "tasks");

    received.length = 0;
    await createClient(TaskService, serviceTransport(configs.direct!(), "tasks")).listTasks({}, as(newUser()));
    assert.equal(received.find((h) => h["x-user-id"] !== undefined)?.["dapr-caller-app-id"], undefined);
  });

  test("one user's rejected requests do not stop anyone else's calls", async () => {
    // daprd counts every non-OK answer of a method toward a circuit breaker shared by all callers,
    // so a breaker here would let anyone shut a method for everybody with a few invalid requests.
    const mallory = newUser();
    for (let i = 0; i < 12; i++) {
      await expectCode(client.createTask({ title: "" }, as(mallory)), Code.InvalidArgument);
      await expectCode(client.getTask({ id: "00000000-0000-4000-8000-000000000000" }, as(mallory)), Code.NotFound);
    }
    const alice = newUser();
    const { task } = await client.createTask({ title: "still served" }, as(alice));
    assert.equal((await client.getTask({ id: task!.id }, as(alice))).task?.title, "still served");
  });

  test("a target that is down gives UNAVAILABLE after the resiliency policy, and is used again once back", async () => {
    const port = server.port;
    await server.drain();
    try {
      const started = Date.now();
      const err = await expectCode(client.listTasks({}, as(newUser())), Code.Unavailable);
      // k8s/dapr/resiliency.yaml: 4 retries with exponential backoff from 100ms before giving up
      assert.ok(Date.now() - started >= 700, `gave up after ${Date.now() - started}ms: retries did not run`);
      assert.match(err.message, /tasks|unavailable|connect/i);
    } finally {
      server = await serveTasks(port);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await client.listTasks({}, as(newUser()));
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    assert.ok(tasksSidecar.proc.exited === false);
  });
});
