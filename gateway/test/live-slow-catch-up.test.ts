// A device whose catch-up outlasts several heartbeats (a gateway restart with thousands of devices
// reconnecting at once) is not taken for dead: pings start once it is live.
import { test } from "vitest";
import assert from "node:assert/strict";
import { createClient, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { openEmbeddedBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { hello, LiveClient, startMesh } from "./fixtures.js";

const logger = createLogger("live-slow-catch-up-test");
const CATCH_UP_MS = 3_500;
// A ping is answered within one interval or the socket is taken for dead. The test's device and the
// gateway share one event loop, so the interval must outlast a busy machine's stalls.
const PING_MS = 1_000;

test("a device still catching up after several ping intervals stays connected and goes live", async () => {
  const db = await freshDatabase();
  const bus = await openEmbeddedBus({ url: db.url, logger });
  const tasks = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (records) => bus.publish(records) } });
  const real = createClient(TaskService, createRouterTransport(tasks.routes));
  // The task service as seen from a busy gateway: every change-feed read answers late.
  const slowRoutes = (router: ConnectRouter) =>
    router.service(TaskService, {
      createTask: (req, ctx) => real.createTask(req, { headers: ctx.requestHeader }),
      watchTasks: async function* (req, ctx) {
        await new Promise((resolve) => setTimeout(resolve, CATCH_UP_MS));
        yield* real.watchTasks(req, { headers: ctx.requestHeader, signal: ctx.signal });
      },
    });
  const mesh = await startMesh({ databaseUrl: db.url, bus, tasks: { ...tasks, routes: slowRoutes }, livePingIntervalMs: PING_MS });
  try {
    const u = await mesh.user("slow");
    const device = await LiveClient.open(mesh.url, hello(u.token));
    await device.next("ready", CATCH_UP_MS + 5_000);
    await mesh.taskClient.createTask({ title: "after a slow catch-up" }, { headers: u.headers });
    const frame = await device.next("task");
    assert.equal(frame.task?.title, "after a slow catch-up");
    device.close();
  } finally {
    await mesh.stop();
    await tasks.stop();
    await bus.close();
    await db.drop();
  }
});
