// A replica going away may drop a call (its connection closes, its stream is reset): the gateway
// tries a call without side effects again, a write only when the replica refused it unprocessed or
// when it carries a request id.
import { test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { openEmbeddedBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { startMesh } from "./fixtures.js";

const logger = createLogger("forward-retry-test");

test("a dropped ListTasks is tried again; a dropped CreateTask is reported, not repeated, unless it carries a request id; a refused DeleteTask is sent again", async () => {
  const db = await freshDatabase();
  const bus = await openEmbeddedBus({ url: db.url, logger });
  const tasks = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (records) => bus.publish(records) } });
  const real = createClient(TaskService, createRouterTransport(tasks.routes));
  const calls = { listTasks: 0, createTask: 0, deleteTask: 0 };
  const dropped = () => new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
  // Each method's first call is dropped, as by a replica shutting down.
  const flakyRoutes = (router: ConnectRouter) =>
    router.service(TaskService, {
      listTasks: (req, ctx) => {
        if (calls.listTasks++ === 0) throw dropped();
        return real.listTasks(req, { headers: ctx.requestHeader });
      },
      deleteTask: (req, ctx) => {
        // Node's words for a stream refused by a GOAWAY. In a deployment they arise in the gateway's own
        // HTTP/2 client (connect-node reports them as internal); thrown here by the upstream's handler,
        // whose server hides every internal error behind an error id, they travel as unavailable: the
        // gateway knows a refusal by those words, whatever the code.
        if (calls.deleteTask++ === 0) throw new ConnectError("Stream closed with error code NGHTTP2_REFUSED_STREAM", Code.Unavailable);
        return real.deleteTask(req, { headers: ctx.requestHeader });
      },
      createTask: async (req, ctx) => {
        calls.createTask++;
        // The first call, and the first with a request id after the task is stored: its answer lost.
        if (calls.createTask === 1) throw new ConnectError("replica shutting down", Code.Unavailable);
        if (req.requestId && calls.createTask === 3) {
          await real.createTask(req, { headers: ctx.requestHeader });
          throw new ConnectError("grpc: the client connection is closing", Code.Canceled);
        }
        return real.createTask(req, { headers: ctx.requestHeader });
      },
    });
  const mesh = await startMesh({ databaseUrl: db.url, bus, tasks: { ...tasks, routes: flakyRoutes } });
  try {
    const u = await mesh.user("retry");
    const err = await mesh.taskClient.createTask({ title: "once" }, { headers: u.headers }).catch((e: unknown) => ConnectError.from(e));
    assert.equal((err as ConnectError).code, Code.Unavailable, "the write's failure reaches the client");
    assert.equal(calls.createTask, 1, "and the write was not repeated");
    await mesh.taskClient.createTask({ title: "once" }, { headers: u.headers });
    const { tasks: listed } = await mesh.taskClient.listTasks({}, { headers: u.headers });
    assert.deepEqual(
      listed.map((t) => t.title),
      ["once"],
    );
    assert.equal(calls.listTasks, 2, "the read was tried again");
    await mesh.taskClient.deleteTask({ id: listed[0]!.id }, { headers: u.headers });
    assert.equal(calls.deleteTask, 2, "the refused write was sent again");

    const { task } = await mesh.taskClient.createTask({ title: "with a request id", requestId: "r-1" }, { headers: u.headers });
    assert.equal(calls.createTask, 4, "the dropped write with a request id was sent again");
    const { tasks: after } = await mesh.taskClient.listTasks({}, { headers: u.headers });
    assert.deepEqual(
      after.map((t) => t.id),
      [task!.id],
      "and it is one task",
    );
  } finally {
    await mesh.stop();
    await tasks.stop();
    await bus.close();
    await db.drop();
  }
});
