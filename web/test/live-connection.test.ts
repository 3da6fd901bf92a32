// The web app's live-sync client against the real gateway (embedded app): frames become tasks,
// deletions and refetches; a refused token makes it renew and come back with the new one.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { LiveConnection, liveUrl, type LiveHandlers, type LiveStatus } from "../src/live/live-connection.js";
import { startApp, type RunningApp } from "./support/app.js";

let app: RunningApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app?.stop());

/** Everything the connection reported, and a way to wait for the next matching report. */
function recorder() {
  const seen: { kind: keyof LiveHandlers; value: unknown }[] = [];
  const waiters: (() => void)[] = [];
  const push = (kind: keyof LiveHandlers) => (value?: unknown) => {
    seen.push({ kind, value });
    for (const wake of waiters.splice(0)) wake();
  };
  const handlers: LiveHandlers = { task: push("task"), deleted: push("deleted"), refetch: push("refetch"), reminder: push("reminder"), inbox: push("inbox"), status: push("status") };
  async function next<T>(kind: keyof LiveHandlers, match: (value: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = seen.find((s) => s.kind === kind && match(s.value as T));
      if (found) {
        seen.splice(seen.indexOf(found), 1);
        return found.value as T;
      }
      if (Date.now() > deadline) throw new Error(`no ${kind} report within ${timeoutMs} ms; saw ${seen.map((s) => s.kind).join(", ")}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
  return { handlers, next };
}

async function account() {
  const transport = createConnectTransport({ baseUrl: app.url, httpVersion: "1.1" });
  const { accessToken } = await createClient(AuthService, transport).signUp({ email: `live-${Date.now()}@example.com`, password: "correct horse battery" });
  const tasks = createClient(
    TaskService,
    createConnectTransport({
      baseUrl: app.url,
      httpVersion: "1.1",
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${accessToken}`);
          return next(req);
        },
      ],
    }),
  );
  return { accessToken, tasks };
}

test("changes arrive as tasks and deletions; the first ready asks for a refetch", async () => {
  const { accessToken, tasks } = await account();
  const { handlers, next } = recorder();
  const live = new LiveConnection({ url: liveUrl(app.url), token: () => accessToken, renew: async () => false, handlers });
  live.start();
  try {
    await next<LiveStatus>("status", (s) => s === "live");
    await next("refetch");
    const { task } = await tasks.createTask({ title: "Book flights", tags: ["travel"] });
    const pushed = await next<Task>("task", (t) => t.id === task!.id);
    assert.equal(pushed.title, "Book flights");
    assert.deepEqual(pushed.tags, ["travel"]);
    await tasks.deleteTask({ id: task!.id });
    assert.equal(await next<string>("deleted"), task!.id);
  } finally {
    live.stop();
  }
});

test("a refused token is renewed once and the connection comes back with the new one", async () => {
  const { accessToken, tasks } = await account();
  const { handlers, next } = recorder();
  let token = "not-a-token";
  let renewals = 0;
  const live = new LiveConnection({
    url: liveUrl(app.url),
    token: () => token,
    renew: async () => {
      renewals++;
      token = accessToken;
      return true;
    },
    handlers,
  });
  live.start();
  try {
    await next<LiveStatus>("status", (s) => s === "live");
    assert.equal(renewals, 1);
    const { task } = await tasks.createTask({ title: "After renewal" });
    assert.equal((await next<Task>("task")).id, task!.id);
  } finally {
    live.stop();
  }
});
