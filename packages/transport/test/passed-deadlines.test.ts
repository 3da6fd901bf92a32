// A call whose deadline passed reads DEADLINE_EXCEEDED even when the proxy in between (daprd) ends
// it with CANCELED before this process's own deadline timer runs.
import { test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError, type StreamRequest, type StreamResponse, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { passedDeadlinesExceeded } from "../src/transport.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function request(timeoutMs: number | undefined, signal = new AbortController().signal): UnaryRequest & StreamRequest {
  const header = new Headers(timeoutMs === undefined ? {} : { "grpc-timeout": `${timeoutMs}m` });
  return { header, signal } as unknown as UnaryRequest & StreamRequest;
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
  assert.equal(await codeOf(lateCancel(request(50))), Code.DeadlineExceeded);
  assert.equal(await codeOf(lateCancel(request(5_000))), Code.Canceled);
  assert.equal(await codeOf(lateCancel(request(undefined))), Code.Canceled);
  const callerGaveUp = new AbortController();
  callerGaveUp.abort();
  assert.equal(await codeOf(lateCancel(request(50, callerGaveUp.signal))), Code.Canceled, "the caller's own cancel stays a cancel");
});

test("a stream that the proxy ends CANCELED after its deadline ends DEADLINE_EXCEEDED, after the messages before it", async () => {
  const interceptor = passedDeadlinesExceeded();
  const stream = interceptor(
    async () =>
      ({
        stream: true,
        header: new Headers(),
        trailer: new Headers(),
        message: (async function* () {
          yield "caught up";
          await sleep(60);
          throw canceled();
        })(),
      }) as unknown as UnaryResponse & StreamResponse,
  );
  const res = (await stream(request(50))) as StreamResponse;
  const seen: unknown[] = [];
  const code = await codeOf(
    (async () => {
      for await (const m of res.message) seen.push(m);
    })(),
  );
  assert.deepEqual(seen, ["caught up"]);
  assert.equal(code, Code.DeadlineExceeded);
});
