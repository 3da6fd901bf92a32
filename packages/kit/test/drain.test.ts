// A rolling update must not fail a call: drain keeps serving through its delay while telling
// clients to go elsewhere, lets unary calls finish, and only then ends streams and closes.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AppCallbackHealthCheck } from "@taskmesh/proto/dapr/proto/runtime/v1/appcallback_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import http2 from "node:http2";
import { once } from "node:events";
import net from "node:net";
import { createLogger, startServer } from "../src/index.js";

const logger = createLogger("drain-test");
logger.level = "silent";

/**
 * A task service whose GetTask answers when the test says so (and gives up when its context is
 * cancelled, as the gateway's forwarded calls do), and whose WatchTasks never ends by itself.
 */
async function serverWithSlowCalls(drainDelayMs: number) {
  const pending: (() => void)[] = [];
  let watching = 0;
  const server = await startServer(
    {
      logger,
      services: [TaskService],
      drainDelayMs,
      routes: (router) =>
        router.service(TaskService, {
          getTask: async (req, ctx) => {
            await new Promise<void>((resolve, reject) => {
              pending.push(resolve);
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
            });
            return { task: create(TaskSchema, { id: req.id, title: "slow" }) };
          },
          watchTasks: async function* (_req, ctx) {
            watching++;
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
          },
        }),
    },
    0,
    "127.0.0.1",
  );
  return {
    server,
    /** Resolves once the server holds this many GetTask calls and WatchTasks streams. */
    inHand: async (calls: number, streams: number) => {
      while (pending.length < calls || watching < streams) await sleep(5);
    },
    releaseAll: () => {
      for (const release of pending.splice(0)) release();
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ID = "00000000-0000-4000-8000-000000000001";

test("a unary call still running when the drain delay ends completes; the stream beside it ends cleanly", async () => {
  const { server, inHand, releaseAll } = await serverWithSlowCalls(200);
  const client = createClient(TaskService, createGrpcTransport({ baseUrl: server.url }));
  const slow = client.getTask({ id: ID });
  const watching = (async () => {
    for await (const _ of client.watchTasks({})) void _;
  })();
  // Both in the server's hands before the drain, however loaded the machine.
  await inHand(1, 1);
  const draining = server.drain();
  await sleep(400); // past the delay: the listener is closed, the call is still running
  releaseAll();
  assert.equal((await slow).task?.title, "slow");
  await watching;
  await draining;
});

test("drain announces GOAWAY to HTTP/2 clients at once and still serves what they send during the delay", async () => {
  const { server, inHand, releaseAll } = await serverWithSlowCalls(500);
  const session = http2.connect(server.url);
  const goaway = new Promise<number>((resolve) => session.once("goaway", (_code, lastStreamId) => resolve(lastStreamId)));
  await new Promise((resolve) => session.once("connect", resolve));
  const draining = server.drain();
  assert.equal(await goaway, 2 ** 31 - 1, "the first GOAWAY lets calls already sent through");
  // A client that has not yet opened a new connection: its call is served on the new one.
  const client = createClient(TaskService, createGrpcTransport({ baseUrl: server.url }));
  const during = client.getTask({ id: ID });
  await inHand(1, 0);
  releaseAll();
  assert.equal((await during).task?.title, "slow");
  session.destroy();
  await draining;
});

test("HTTP/1.1 responses during the drain delay carry Connection: close", async () => {
  const { server } = await serverWithSlowCalls(300);
  assert.notEqual((await fetch(`${server.url}/healthz`)).headers.get("connection"), "close");
  const draining = server.drain();
  const during = await fetch(`${server.url}/healthz`);
  assert.equal(during.headers.get("connection"), "close");
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
  await draining;
});

/** A TCP hop whose reading from the server can be held, as a slow network or client would. */
async function slowHop(target: number) {
  const upstreams: net.Socket[] = [];
  const hop = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    upstreams.push(upstream);
    client.pipe(upstream).on("error", () => {});
    upstream.pipe(client).on("error", () => {});
  });
  hop.listen(0, "127.0.0.1");
  await once(hop, "listening");
  return {
    url: `http://127.0.0.1:${(hop.address() as net.AddressInfo).port}`,
    hold: () => {
      for (const u of upstreams) u.pause();
    },
    release: () => {
      for (const u of upstreams) u.resume();
    },
    close: () => hop.close(),
  };
}

test("a response still queued for a slow reader when the last call ends reaches it whole", async () => {
  const big = "x".repeat(8 * 1024 * 1024);
  const server = await startServer(
    {
      logger,
      services: [TaskService],
      routes: (router) => router.service(TaskService, { getTask: (req) => ({ task: create(TaskSchema, { id: req.id, notes: big }) }) }),
    },
    0,
    "127.0.0.1",
  );
  const hop = await slowHop(server.port);
  // Windows that never hold the server back: the response leaves its HTTP/2 stream at once and
  // waits in the socket's write queue while the hop reads nothing.
  const session = http2.connect(hop.url, { settings: { initialWindowSize: 2 ** 31 - 1 } });
  await once(session, "remoteSettings");
  session.setLocalWindowSize(2 ** 31 - 1);
  hop.hold();
  const stream = session.request({ ":method": "POST", ":path": "/taskmesh.tasks.v1.TaskService/GetTask", "content-type": "application/json" });
  stream.end(JSON.stringify({ id: ID }));
  const body: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => body.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  await sleep(300);
  const draining = server.drain();
  await sleep(300);
  hop.release();
  await draining;
  await ended;
  const json = JSON.parse(Buffer.concat(body).toString()) as { task: { notes: string } };
  assert.equal(json.task.notes.length, big.length);
  session.destroy();
  hop.close();
});

test("a client that resets its connection while the drain lingers does not fail the drain", async () => {
  const server = await startServer({ logger, services: [TaskService], routes: () => {}, lingerMs: 5_000 }, 0, "127.0.0.1");
  const socket = net.connect(server.port, "127.0.0.1");
  await once(socket, "connect");
  // An HTTP/2 connection that never gets past its preface: still open when the drain lingers.
  socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  await once(socket, "data");
  const draining = server.drain();
  await sleep(200);
  socket.resetAndDestroy();
  await draining;
});

/** The frames an HTTP/2 connection receives: type and, for GOAWAY, the last stream id it names. */
function readFrames(socket: net.Socket): { type: number; lastStreamId?: number }[] {
  const frames: { type: number; lastStreamId?: number }[] = [];
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
      const length = buffered.readUIntBE(0, 3);
      const type = buffered[3]!;
      frames.push(type === 7 ? { type, lastStreamId: buffered.readUInt32BE(9) & 0x7fffffff } : { type });
      buffered = buffered.subarray(9 + length);
    }
  });
  return frames;
}

test("an HTTP/2 connection gets the final GOAWAY, naming the last stream served, before the connection ends", async () => {
  const { server } = await serverWithSlowCalls(100);
  const socket = net.connect(server.port, "127.0.0.1");
  await once(socket, "connect");
  const frames = readFrames(socket);
  // The client preface and an empty SETTINGS frame; no stream opened, so the last stream served is 0.
  socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
  socket.on("end", () => socket.end());
  socket.on("error", () => {});
  await sleep(100);
  const draining = server.drain();
  await once(socket, "close");
  await draining;
  // Without the second GOAWAY a client cannot tell calls still on the wire were never processed
  // (so safe to send again) from calls dropped half-way.
  const goaways = frames.filter((f) => f.type === 7).map((f) => f.lastStreamId);
  assert.equal(goaways[0], 2 ** 31 - 1, "the first GOAWAY lets calls already sent through");
  assert.equal(goaways.at(-1), 0, "the last GOAWAY names the last stream served (none here)");
});

test("Dapr's app health check answers while serving and fails once the drain starts, so the sidecar stops taking calls", async () => {
  const { server } = await serverWithSlowCalls(300);
  const dapr = createClient(AppCallbackHealthCheck, createGrpcTransport({ baseUrl: server.url }));
  await dapr.healthCheck({});
  const draining = server.drain();
  await sleep(50);
  await assert.rejects(dapr.healthCheck({}), (err: ConnectError) => err.code === Code.Unavailable);
  await draining;
});
