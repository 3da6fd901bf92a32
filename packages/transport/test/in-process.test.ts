// The in-process transport hands message objects to the handler (no encoding) and keeps what a call
// over the network gives the callee and the caller: interceptors, its own handler context, deadline
// and cancellation, errors with details. (The shared contract with the other transports, on the real
// task service, is transport-contract.test.ts.)
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createContextKey, createContextValues, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { createValidateInterceptor } from "@connectrpc/validate";
import { GetTaskRequestSchema, GetTaskResponseSchema, TaskService, type GetTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { inProcessTransport } from "../src/index.js";

const kSeen = createContextKey<string>("none");
const PLAIN = "6f1c3c52-8a9e-4d0e-9a43-8d3b1f3b2a10";

test("requests and responses cross as the same objects, not as encoded copies", async () => {
  let received: GetTaskRequest | undefined;
  const response = create(GetTaskResponseSchema, { task: { id: "t1", title: "a page's worth of tasks" } });
  const client = createClient(
    TaskService,
    inProcessTransport((router) =>
      router.service(TaskService, {
        getTask(req) {
          received = req;
          return response;
        },
      }),
    ),
  );
  const request = create(GetTaskRequestSchema, { id: "t1" });
  const answer = await client.getTask(request);
  assert.equal(received, request, "the handler got the caller's message");
  assert.equal(answer, response, "the caller got the handler's message");
});

test("interceptors wrap the handler in order, with a context of the callee's own", async () => {
  const order: string[] = [];
  const named =
    (name: string): Interceptor =>
    (next) =>
    async (req) => {
      order.push(`${name} in`);
      req.contextValues.set(kSeen, name);
      const res = await next(req);
      order.push(`${name} out`);
      return res;
    };
  let ctx: HandlerContext | undefined;
  const client = createClient(
    TaskService,
    inProcessTransport(
      (router) =>
        router.service(TaskService, {
          getTask(_req, c) {
            ctx = c;
            c.requestHeader.set("x-changed-by-callee", "1");
            return { task: { id: "t1" } };
          },
        }),
      { interceptors: [named("outer"), named("inner")] },
    ),
  );
  const headers = new Headers({ "x-user-id": "alice", "x-time-zone": "Europe/Berlin" });
  const callerValues = createContextValues().set(kSeen, "caller");
  await client.getTask({ id: "t1" }, { headers, contextValues: callerValues });
  assert.deepEqual(order, ["outer in", "inner in", "inner out", "outer out"]);
  assert.equal(ctx!.requestHeader.get("x-user-id"), "alice");
  assert.equal(ctx!.requestHeader.get("x-time-zone"), "Europe/Berlin");
  assert.equal(headers.get("x-changed-by-callee"), null, "the caller's headers are its own");
  assert.equal(ctx!.values.get(kSeen), "inner", "interceptors' values reach the handler");
  assert.equal(callerValues.get(kSeen), "caller", "the caller's context values stay the caller's");
  assert.equal(ctx!.method.name, "GetTask");
  assert.ok(ctx!.signal.aborted, "the handler's signal ends with the call");
});

test("a service registered with its own interceptors gets those instead of the router's", async () => {
  const seen: string[] = [];
  const mark =
    (name: string): Interceptor =>
    (next) =>
    (req) => {
      seen.push(name);
      return next(req);
    };
  const client = createClient(
    TaskService,
    inProcessTransport((router) => router.service(TaskService, { getTask: () => ({}) }, { interceptors: [mark("own")] }), { interceptors: [mark("router")] }),
  );
  await client.getTask({ id: "t1" });
  assert.deepEqual(seen, ["own"]);
});

test("errors reach the caller as ConnectErrors with their details; validation runs as configured", async () => {
  const client = createClient(
    TaskService,
    inProcessTransport(
      (router) =>
        router.service(TaskService, {
          getTask(req) {
            if (req.id === PLAIN) throw new TypeError("boom");
            throw new ConnectError("no such task", Code.NotFound);
          },
        }),
      { interceptors: [createValidateInterceptor()] },
    ),
  );
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail("no error"),
      (e: unknown) => e as ConnectError,
    );
  const notFound = await fail(client.getTask({ id: "0b0f6a8e-5b8e-4b59-9d55-1f1d29f4a0b1" }));
  assert.ok(notFound instanceof ConnectError);
  assert.equal(notFound.code, Code.NotFound);
  assert.equal(notFound.rawMessage, "no such task");
  const plain = await fail(client.getTask({ id: PLAIN }));
  assert.ok(plain instanceof ConnectError);
  assert.equal(plain.code, Code.Unknown, "as Connect's server answers a thrown Error");
  assert.equal(plain.rawMessage, "boom");
  // GetTask's id must be a UUID (protovalidate rule): the interceptor refuses it with violations.
  const invalid = await fail(client.getTask({ id: "not a uuid" }));
  assert.equal(invalid.code, Code.InvalidArgument);
  assert.ok(invalid.findDetails(ViolationsSchema).length > 0);
  const missing = await fail(client.listTags({}));
  assert.equal(missing.code, Code.Unimplemented);
});

test("the caller's deadline and cancellation end the call at once and abort the handler's signal", async () => {
  let handlerSignal: AbortSignal | undefined;
  const client = createClient(
    TaskService,
    inProcessTransport((router) =>
      router.service(TaskService, {
        getTask(_req, ctx) {
          handlerSignal = ctx.signal;
          return new Promise(() => {}); // never answers
        },
      }),
    ),
  );
  const started = Date.now();
  const late = await client.getTask({ id: "t1" }, { timeoutMs: 150 }).then(
    () => assert.fail("no error"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(late.code, Code.DeadlineExceeded);
  assert.ok(Date.now() - started >= 140 && Date.now() - started < 2_000, `ended after ${Date.now() - started} ms`);
  assert.ok(handlerSignal!.aborted);

  const abort = new AbortController();
  const call = client.getTask({ id: "t1" }, { signal: abort.signal });
  setTimeout(() => abort.abort(), 20);
  const cancelled = await call.then(
    () => assert.fail("no error"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(cancelled.code, Code.Canceled);
  assert.ok(handlerSignal!.aborted);
});

test("a call whose caller is already gone is cancelled, and its handler's failure is not left unhandled", async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  process.on("unhandledRejection", record);
  try {
    const client = createClient(
      TaskService,
      inProcessTransport((router) =>
        router.service(TaskService, {
          async getTask() {
            throw new ConnectError("no such task", Code.NotFound);
          },
        }),
      ),
    );
    const gone = AbortSignal.abort();
    const error = await client.getTask({ id: "t1" }, { signal: gone }).then(
      () => assert.fail("no error"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(error.code, Code.Canceled);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", record);
  }
});

test("server streams still flow", async () => {
  const client = createClient(
    TaskService,
    inProcessTransport((router) =>
      router.service(TaskService, {
        async *watchTasks() {
          yield { cursor: "1", change: { case: "caughtUp", value: {} } };
          yield { cursor: "2", change: { case: "deletedTaskId", value: "t1" } };
        },
      }),
    ),
  );
  const seen: string[] = [];
  for await (const message of client.watchTasks({})) seen.push(message.cursor);
  assert.deepEqual(seen, ["1", "2"]);
});
