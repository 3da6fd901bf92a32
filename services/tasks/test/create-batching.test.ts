// Concurrent CreateTask calls share transactions (TaskStore.createMany through GroupCommit). What
// callers must not notice: every task, feed entry and event exactly once, retries by request id
// collapsing to one task, and one bad create failing alone with a clear error.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { ChangeHub } from "../src/change-hub.js";
import { startTasksModule } from "../src/index.js";
import { createTaskServiceImpl } from "../src/task-service.js";
import type { TaskRow } from "../src/task-row.js";
import { TaskStore, type NewTask } from "../src/task-store.js";
import { ProjectStore } from "../src/project-store.js";
import { tasksUnderTest } from "./fixtures.js";

const as = (user: string) => ({ headers: { "x-user-id": user } });

describe("batched creates", () => {
  const service = tasksUnderTest();

  const outbox = (topic: string) =>
    service.module.db.query<{ key: string; payload: Uint8Array }>(service.module.db.em(), `SELECT key, payload FROM tasks.outbox WHERE topic = $1 ORDER BY id`, [topic]);

  test("200 concurrent creates of 20 users: every task, feed entry and event once, each user's feed in order", async () => {
    const users = Array.from({ length: 20 }, (_, u) => `burst-${u}`);
    const created = await Promise.all(users.flatMap((user) => Array.from({ length: 10 }, (_, n) => service.tasks.createTask({ title: `${user} task ${n}`, tags: ["burst"] }, as(user)))));
    assert.equal(new Set(created.map((c) => c.task!.id)).size, 200);
    for (const user of users) {
      const { tasks } = await service.tasks.listTasks({ query: "tag:burst", pageSize: 50 }, as(user));
      assert.equal(tasks.length, 10, `${user} sees exactly their 10 tasks`);
      assert.ok(tasks.every((t) => t.title.startsWith(`${user} `)));
      const feed = await service.module.db.query<{ seq: string; taskId: string }>(
        service.module.db.em(),
        `SELECT seq::text AS seq, task_id AS "taskId" FROM tasks.task_changes WHERE user_id = $1 ORDER BY seq`,
        [user],
      );
      assert.deepEqual(new Set(feed.map((f) => f.taskId)), new Set(tasks.map((t) => t.id)), "one feed entry per task");
    }
    const events = (await outbox("task-events")).map((r) => fromBinary(TaskEventSchema, r.payload));
    const burst = events.filter((e) => e.userId.startsWith("burst-"));
    assert.equal(burst.length, 200);
    assert.ok(burst.every((e) => e.event.case === "created" && e.version === 1n));
    assert.equal(new Set(burst.map((e) => e.taskId)).size, 200);
    assert.equal((await outbox("task-updates")).filter((r) => r.key.startsWith("burst-")).length, 200);
  });

  test("the same request sent 30 times at once creates one task and one event", async () => {
    const replies = await Promise.all(Array.from({ length: 30 }, () => service.tasks.createTask({ title: "Once only", requestId: "retry-storm" }, as("retrier"))));
    assert.equal(new Set(replies.map((r) => r.task!.id)).size, 1);
    const events = (await outbox("task-events")).map((r) => fromBinary(TaskEventSchema, r.payload)).filter((e) => e.userId === "retrier");
    assert.equal(events.length, 1);
    const again = await service.tasks.createTask({ title: "Once only", requestId: "retry-storm" }, as("retrier"));
    assert.equal(again.task!.id, replies[0]!.task!.id, "a later retry returns the same task");
  });

  test("a retry finds its task by request id even when the task's id was not derived from it", async () => {
    // Tasks stored before ids were derived from request ids carry random ids.
    const legacyId = "00000000-0000-4000-8000-00000000abcd";
    await service.module.db.query(
      service.module.db.em(),
      `INSERT INTO tasks.tasks (id, user_id, title, request_id, created_at, updated_at) VALUES ($1, 'legacy-user', 'From before', 'old-request', now(), now())`,
      [legacyId],
    );
    const [alone, ...together] = await Promise.all([
      service.tasks.createTask({ title: "From before", requestId: "old-request" }, as("legacy-user")),
      ...Array.from({ length: 3 }, (_, n) => service.tasks.createTask({ title: `New ${n}` }, as("legacy-user"))),
    ]);
    assert.equal(alone!.task!.id, legacyId);
    assert.equal(new Set(together.map((r) => r.task!.id)).size, 3);
    const { tasks } = await service.tasks.listTasks({ pageSize: 50 }, as("legacy-user"));
    assert.equal(tasks.length, 4, "the retry created nothing");
  });

  test("a create the database would refuse fails alone, with a field error, among good ones", async () => {
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, n) => service.tasks.createTask({ title: `good ${n}` }, as("mixed"))),
      service.tasks.createTask({ title: "bad series", seriesId: "not-a-uuid" }, as("mixed")),
      service.tasks.createTask({ title: "nul \u0000 in title" }, as("mixed")),
      service.tasks.createTask({ title: "nul in notes", notes: "a\u0000b" }, as("mixed")),
      service.tasks.createTask({ title: "nul in request id", requestId: "r\u0000" }, as("mixed")),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 10);
    const errors = results.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason)] : []));
    assert.deepEqual(
      errors.map((e) => e.code),
      [Code.InvalidArgument, Code.InvalidArgument, Code.InvalidArgument, Code.InvalidArgument],
    );
    assert.match(errors[0]!.rawMessage, /series_id/);
    assert.match(errors[1]!.rawMessage, /title/);
    assert.match(errors[2]!.rawMessage, /notes/);
    assert.match(errors[3]!.rawMessage, /request_id/);
    assert.equal((await service.tasks.listTasks({ pageSize: 50 }, as("mixed"))).tasks.length, 10);
  });
});

// The database refusing one create of a batch is what validation is there to prevent; should it
// happen anyway (a constraint added later, a bug), the other callers of that batch must not fail.
describe("batched creates when the database refuses one of them", () => {
  test("the batch is retried item by item and only the refused create fails", async () => {
    const fresh = await freshDatabase();
    const module = await startTasksModule({ databaseUrl: fresh.url });
    try {
      // A rule the database keeps and the request checks do not know.
      await module.db.query(module.db.em(), `ALTER TABLE tasks.tasks ADD CONSTRAINT title_not_refused CHECK (title <> 'refused')`);
      const batches: string[][] = [];
      let releaseFirst = () => {};
      const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
      // The first batch is held until the next callers have queued, so that they go in one batch.
      class RecordingStore extends TaskStore {
        override async createMany(items: readonly NewTask[]): Promise<TaskRow[]> {
          batches.push(items.map((i) => i.fields.title));
          if (batches.length === 1) await firstHeld;
          return super.createMany(items);
        }
      }
      const impl = createTaskServiceImpl({ store: new RecordingStore(module.db), projects: new ProjectStore(module.db), hub: new ChangeHub() });
      const batched = createClient(
        TaskService,
        createRouterTransport((r) => r.service(TaskService, impl)),
      );
      const first = batched.createTask({ title: "first" }, as("u"));
      while (batches.length === 0) await new Promise((r) => setTimeout(r, 5));
      const calls = ["a", "refused", "b", "c"].map((title) => batched.createTask({ title }, as("u")));
      await new Promise((r) => setTimeout(r, 50));
      releaseFirst();
      await first;
      const results = await Promise.allSettled(calls);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled", "fulfilled"],
      );
      assert.equal(ConnectError.from((results[1] as PromiseRejectedResult).reason).code, Code.Internal);
      assert.ok(
        batches.some((b) => b.length === 4 && b.includes("refused")),
        `the refused create was batched with others: ${JSON.stringify(batches)}`,
      );
      const stored = await batched.listTasks({ pageSize: 50 }, as("u"));
      assert.deepEqual(stored.tasks.map((t) => t.title).sort(), ["a", "b", "c", "first"]);
    } finally {
      await module.stop();
      await fresh.drop();
    }
  });
});
