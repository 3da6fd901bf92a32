// What the conformance suite (conformance.test.ts) found on kit's wire, checked without its runner:
// gzip-compressed requests are served, an HTTP/1.1 call answered before its body was read to
// the end does not leave the client's connection hanging, and an HTTP/1.1 client that goes away
// cancels its call. And what the suite does not cover: gRPC-Web's text mode, a 405's Allow.
import { test } from "vitest";
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { GetTaskRequestSchema, GetTaskResponseSchema, TaskService, WatchTasksResponseSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { createLogger, startServer } from "../src/index.js";

const logger = createLogger("wire-test");
logger.level = "silent";

const start = (readMaxBytes?: number) => startServer({ logger, services: [], routes: () => {}, ...(readMaxBytes && { readMaxBytes }) }, 0, "127.0.0.1");

test("a gzip-compressed request is served (gRPC over h2c, Connect over HTTP/1.1)", async () => {
  const server = await start();
  try {
    for (const transport of [
      createGrpcTransport({ baseUrl: server.url, sendCompression: compressionGzip }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", sendCompression: compressionGzip, compressMinBytes: 0 }),
    ]) {
      const res = await createClient(Health, transport).check({ service: "" });
      assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
    }
  } finally {
    await server.drain();
  }
});

test("an HTTP/1.1 request whose message is over readMaxBytes gets its error, and its connection then serves the next request", async () => {
  const server = await start(1024);
  const socket = net.connect(server.port, "127.0.0.1");
  try {
    await once(socket, "connect");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", () => {});
    // A Connect server-streaming call whose one message (64 KiB, announced in its envelope) is over
    // the limit: the server refuses it after the first chunk, before the rest of the body is read.
    const envelope = Buffer.alloc(5);
    envelope.writeUInt32BE(64 * 1024, 1);
    socket.write(
      `POST /grpc.health.v1.Health/Watch HTTP/1.1\r\nhost: test\r\ncontent-type: application/connect+proto\r\ntransfer-encoding: chunked\r\n\r\n5\r\n${envelope.toString("latin1")}\r\n`,
      "latin1",
    );
    const chunk = Buffer.alloc(8 * 1024);
    for (let i = 0; i < 8; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString("latin1")}\r\n`, "latin1");
    socket.write("0\r\n\r\n");
    socket.write("GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n");
    const deadline = Date.now() + 5_000;
    while (!received.includes("ok\n") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(received, /^HTTP\/1\.1 200 [\s\S]*resource_exhausted/);
    assert.match(received, /HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain[\s\S]*ok\n/, "the next request on the connection was answered");
  } finally {
    socket.destroy();
    await server.drain();
  }
});

test("an HTTP/1.1 client that goes away cancels its call (unary and server stream): the handler's signal aborts", async () => {
  const started: string[] = [];
  const cancelled: string[] = [];
  const server = await startServer(
    {
      logger,
      services: [TaskService],
      routes: (router) =>
        router.service(TaskService, {
          getTask: async (req, ctx) => {
            started.push("unary");
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
            cancelled.push("unary");
            return { task: create(TaskSchema, { id: req.id }) };
          },
          watchTasks: async function* (_req, ctx) {
            started.push("stream");
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
            cancelled.push("stream");
          },
        }),
    },
    0,
    "127.0.0.1",
  );
  const body = JSON.stringify({ id: "0b9d2e9c-5f6a-4c1e-9a37-2f1d8c4b6e10" });
  try {
    for (const [name, request] of [
      ["unary", `POST /taskmesh.tasks.v1.TaskService/GetTask HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`],
      ["stream", `POST /taskmesh.tasks.v1.TaskService/WatchTasks HTTP/1.1\r\nhost: test\r\ncontent-type: application/connect+json\r\ncontent-length: 7\r\n\r\n\x00\x00\x00\x00\x02{}`],
    ] as const) {
      const socket = net.connect(server.port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(request, "latin1");
      for (const deadline = Date.now() + 5_000; !started.includes(name) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(started.includes(name), `the ${name} call reached its handler`);
      socket.destroy();
      for (const deadline = Date.now() + 5_000; !cancelled.includes(name) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(cancelled.includes(name), `the ${name} call was cancelled`);
    }
  } finally {
    await server.drain();
  }
});

/** gRPC-Web frames: a flag byte (0x80: trailers), a 4-byte length, the bytes. */
function frame(bytes: Uint8Array, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(bytes.byteLength, 1);
  return Buffer.concat([head, bytes]);
}

function frames(bytes: Buffer): { flag: number; data: Buffer }[] {
  const out: { flag: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    if (at + 5 + length > bytes.length) break;
    out.push({ flag: bytes[at]!, data: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** What a text-mode client does with a body: base64 segments, each possibly padded. */
const fromText = (text: string) => Buffer.concat((text.match(/[^=]*(?:=+|$)/g) ?? []).filter(Boolean).map((s) => Buffer.from(s, "base64")));

test("gRPC-Web's text mode: a base64 request (padded inside, as a client may send it) is served, and each message of the response is base64 as it is sent", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const server = await startServer(
    {
      logger,
      services: [TaskService],
      routes: (router) =>
        router.service(TaskService, {
          getTask: async (req) => ({ task: create(TaskSchema, { id: req.id, title: "Buy milk" }) }),
          watchTasks: async function* () {
            yield create(WatchTasksResponseSchema, { cursor: "1" });
            await held;
            yield create(WatchTasksResponseSchema, { cursor: "2" });
          },
        }),
    },
    0,
    "127.0.0.1",
  );
  const call = (method: string, body: string) =>
    fetch(`${server.url}/taskmesh.tasks.v1.TaskService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web-text", accept: "application/grpc-web-text", "x-grpc-web": "1" },
      body,
    });
  try {
    const request = frame(toBinary(GetTaskRequestSchema, create(GetTaskRequestSchema, { id: "0b9d2e9c-5f6a-4c1e-9a37-2f1d8c4b6e10" })));
    // Two chunks, each padded: the first 4 bytes ("…==") and the rest.
    const unary = await call("GetTask", `${request.subarray(0, 4).toString("base64")}\r\n${request.subarray(4).toString("base64")}`);
    assert.equal(unary.status, 200);
    assert.equal(unary.headers.get("content-type"), "application/grpc-web-text+proto");
    const [data, trailers] = frames(fromText(await unary.text()));
    assert.equal(data?.flag, 0);
    assert.equal(fromBinary(GetTaskResponseSchema, data!.data).task?.title, "Buy milk");
    assert.equal(trailers?.flag, 0x80);
    assert.match(trailers!.data.toString(), /grpc-status: ?0/);

    const watch = await call("WatchTasks", frame(new Uint8Array()).toString("base64"));
    assert.equal(watch.headers.get("content-type"), "application/grpc-web-text+proto");
    const reader = watch.body!.getReader();
    let text = "";
    while (frames(fromText(text)).length === 0) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended before its first message");
      text += Buffer.from(value).toString("latin1");
    }
    assert.equal(fromBinary(WatchTasksResponseSchema, frames(fromText(text))[0]!.data).cursor, "1", "the first message arrives while the second is held back");
    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString("latin1");
    const all = frames(fromText(text));
    assert.deepEqual(
      all.slice(0, 2).map((f) => fromBinary(WatchTasksResponseSchema, f.data).cursor),
      ["1", "2"],
    );
    assert.match(all[2]!.data.toString(), /grpc-status: ?0/);

    const garbled = await call("GetTask", "AAAA*AAA");
    const status =
      garbled.headers.get("grpc-status") ??
      frames(fromText(await garbled.text()))
        .at(-1)
        ?.data.toString();
    assert.match(status ?? "", /^(grpc-status: ?)?3\b/m, "INVALID_ARGUMENT");
  } finally {
    release();
    await server.drain();
  }
});

test("a method the RPC does not take is answered 405 with the methods it does take (RFC 9110)", async () => {
  const server = await startServer(
    { logger, services: [TaskService], routes: (router) => router.service(TaskService, { getTask: async (req) => ({ task: create(TaskSchema, { id: req.id }) }) }) },
    0,
    "127.0.0.1",
  );
  try {
    const watch = await fetch(`${server.url}/grpc.health.v1.Health/Watch`, { method: "GET" });
    assert.equal(watch.status, 405);
    assert.equal(watch.headers.get("allow"), "POST");
    const get = await fetch(`${server.url}/taskmesh.tasks.v1.TaskService/GetTask`, { method: "PUT" });
    assert.equal(get.status, 405);
    assert.deepEqual(get.headers.get("allow")?.split(", ").sort(), ["GET", "POST"], "GetTask has no side effects: Connect's GET too");
  } finally {
    await server.drain();
  }
});
