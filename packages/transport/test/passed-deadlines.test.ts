// A call whose deadline passed reads DEADLINE_EXCEEDED even when the proxy in between (daprd) ends
// it with CANCELED before this process's own deadline timer runs.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type StreamResponse, type UnaryRequest } from "@connectrpc/connect";
import { GetTaskRequestSchema, TaskService, WatchTasksRequestSchema, WatchTasksResponseSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { passedDeadlinesExceeded } from "../src/transport.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const call = {
  service: TaskService,
  requestMethod: "POST",
  url: "http://tasks/taskmesh.tasks.v1.TaskService",
  contextValues: createContextValues(),
};

function grpcTimeout(timeoutMs: number | undefined): Headers {
  return new Headers(timeoutMs === undefined ? {} : { "grpc-timeout": `${timeoutMs}m` });
}

function getTask(timeoutMs: number | undefined, signal = new AbortController().signal): UnaryRequest {
  return { ...call, stream: false, method: TaskService.method.getTask, header: grpcTimeout(timeoutMs), signal, message: create(GetTaskRequestSchema) };
}

const canceled = () => new ConnectError("context canceled", Code.Canceled);

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  throw new Error("the call succeeded");
}

test("a unary call answered CANCELED once its deadline passed is DEADLINE_EXCEEDED; before it, or without one, CANCELED stays", async () => {
  const interceptor = passedDeadlinesExceeded();
  const lateCancel = interceptor(async () => {
    await sleep(60);
    throw canceled();
  });
  assert.equal(await codeOf(lateCancel(getTask(50))), Code.DeadlineExceeded);
  assert.equal(await codeOf(lateCancel(getTask(5_000))), Code.Canceled);
  assert.equal(await codeOf(lateCancel(getTask(undefined))), Code.Canceled);
  const callerGaveUp = new AbortController();
  callerGaveUp.abort();
  assert.equal(await codeOf(lateCancel(getTask(50, callerGaveUp.signal))), Code.Canceled, "the caller's own cancel stays a cancel");
});

test("a stream that the proxy ends CANCELED after its deadline ends DEADLINE_EXCEEDED, after the messages before it", async () => {
  const interceptor = passedDeadlinesExceeded();
  const stream = interceptor(
    async (): Promise<StreamResponse> => ({
      stream: true,
      service: TaskService,
      method: TaskService.method.watchTasks,
      header: new Headers(),
      trailer: new Headers(),
      message: (async function* () {
        yield create(WatchTasksResponseSchema);
        await sleep(60);
        throw canceled();
      })(),
    }),
  );
  const res = await stream({
    ...call,
    stream: true,
    method: TaskService.method.watchTasks,
    header: grpcTimeout(50),
    signal: new AbortController().signal,
    message: (async function* () {
      yield create(WatchTasksRequestSchema);
    })(),
  });
  assert.ok(res.stream);
  const seen: unknown[] = [];
  const code = await codeOf(
    (async () => {
      for await (const m of res.message) seen.push(m);
    })(),
  );
  assert.equal(seen.length, 1, "the message before the cancel is delivered");
  assert.equal(code, Code.DeadlineExceeded);
});
