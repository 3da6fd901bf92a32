// What the conformance suite (conformance.test.ts) found on kit's wire, checked without its runner:
// gzip-compressed requests are served, an HTTP/1.1 call answered before its body was read to
// the end does not leave the client's connection hanging, and an HTTP/1.1 client that goes away
// cancels its call.
import { test } from "vitest";
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
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
