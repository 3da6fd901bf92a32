// Concurrent changes of one user's tasks (update, complete, reopen, delete) share a transaction
// (TaskStore.writeMany through a per-user group commit) instead of each holding the user's write
// lock through a commit of its own. What callers must not notice: every change, feed entry and event
// once, the feed in the order of the changes, and a change that fails failing alone.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { tasksUnderTest } from "./fixtures.js";

const as = (user: string) => ({ headers: { "x-user-id": user } });

describe("batched changes of one user", () => {
  const service = tasksUnderTest();

  const sql = <Row>(text: string, params: unknown[] = []) => service.module.db.query<Row>(service.module.db.em(), text, params);
  const tasksOf = async (user: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await service.tasks.createTask({ title: `${user} ${i}` }, as(user))).task!.id);
    return ids;
  };
  /** Transactions that last wrote these rows (rows written by one transaction share its xmin). */
  const transactions = async (ids: string[]) => (await sql<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM tasks.tasks WHERE id = ANY($1::uuid[])`, [ids]))[0]!.n;
  const updates = async (user: string) =>
    (await sql<{ payload: Uint8Array }>(`SELECT payload FROM tasks.outbox WHERE topic = 'task-updates' AND key = $1 ORDER BY id`, [user])).map((r) => fromBinary(TaskUpdateSchema, r.payload));
  const events = async (user: string) =>
    (await sql<{ payload: Uint8Array }>(`SELECT payload FROM tasks.outbox WHERE topic = 'task-events' ORDER BY id`))
      .map((r) => fromBinary(TaskEventSchema, r.payload))
      .filter((e) => e.userId === user);

  test("16 completes at once share transactions; each task once in the feed and the events, in order", async () => {
    const user = "completer";
    const ids = await tasksOf(user, 16);
    const done = await Promise.all(ids.map((id) => service.tasks.completeTask({ id }, as(user))));
    assert.ok(done.every((r, i) => r.task!.id === ids[i] && r.task!.status === TaskStatus.COMPLETED && r.task!.version === 2n));
    assert.ok((await transactions(ids)) < 16, "fewer commits than completes");

    const feed = await sql<{ seq: string; taskId: string; deleted: boolean }>(
      `SELECT seq::text AS seq, task_id AS "taskId", deleted FROM tasks.task_changes
        WHERE user_id = $1 AND snapshot->>'status' = 'TASK_STATUS_COMPLETED' ORDER BY seq`,
      [user],
    );
    assert.equal(feed.length, 16, "one feed entry per completion");
    assert.deepEqual(new Set(feed.map((f) => f.taskId)), new Set(ids));
    assert.ok(feed.every((f) => !f.deleted));
    // The TaskUpdates carry the feed's cursors, in the feed's order.
    const completions = (await updates(user)).filter((u) => u.change.case === "upserted" && u.change.value.status === TaskStatus.COMPLETED);
    assert.deepEqual(
      completions.map((u) => u.cursor),
      feed.map((f) => f.seq),
    );
    const completed = (await events(user)).filter((e) => e.event.case === "completed");
    assert.equal(completed.length, 16);
    assert.deepEqual(
      completed.map((e) => e.taskId),
      feed.map((f) => f.taskId),
      "events in the feed's order",
    );
  });

  test("a change that fails fails alone; the others of its batch commit", async () => {
    const user = "mixed-changes";
    const [gone, edited, ...rest] = await tasksOf(user, 12);
    const results = await Promise.allSettled([
      ...rest.map((id) => service.tasks.completeTask({ id }, as(user))),
      service.tasks.completeTask({ id: "00000000-0000-4000-8000-000000000000" }, as(user)),
      service.tasks.deleteTask({ id: gone! }, as(user)),
      service.tasks.updateTask({ task: { id: edited!, title: "renamed" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(user)),
      service.tasks.updateTask({ task: { id: edited!, title: "stale edit" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(user)),
      service.tasks.reopenTask({ id: rest[0]!, expectedVersion: 7n }, as(user)),
    ]);
    const codes = results.map((r) => (r.status === "fulfilled" ? "ok" : Code[ConnectError.from(r.reason).code]));
    assert.deepEqual(codes, [...rest.map(() => "ok"), "NotFound", "ok", "ok", "Aborted", "Aborted"]);
    assert.ok((await transactions(rest)) < rest.length, "the completes were batched");
    const { task } = await service.tasks.getTask({ id: edited! }, as(user));
    assert.equal(task!.title, "renamed");
    assert.equal(task!.version, 2n);
    await assert.rejects(service.tasks.getTask({ id: gone! }, as(user)), (e: unknown) => ConnectError.from(e).code === Code.NotFound);

    const deletion = await sql<{ deleted: boolean; snapshot: unknown }>(`SELECT deleted, snapshot FROM tasks.task_changes WHERE task_id = $1 ORDER BY seq DESC LIMIT 1`, [gone]);
    assert.deepEqual(deletion, [{ deleted: true, snapshot: null }]);
    const kinds = (await events(user)).map((e) => e.event.case);
    assert.deepEqual(
      [kinds.filter((k) => k === "completed").length, kinds.filter((k) => k === "deleted").length, kinds.filter((k) => k === "updated").length],
      [rest.length, 1, 1],
      "one event per change that succeeded",
    );
    const feed = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM tasks.task_changes WHERE user_id = $1`, [user]);
    assert.equal(feed[0]!.n, 12 + rest.length + 2, "creates, completes, the delete and the update");
  });

  test("a change the database refuses sends its batch back to run change by change; only it fails", async () => {
    const user = "refused-change";
    const ids = await tasksOf(user, 10);
    await sql(`UPDATE tasks.tasks SET title = 'cannot be completed' WHERE id = $1`, [ids[4]]);
    await sql(`CREATE FUNCTION tasks.refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$`);
    await sql(`CREATE TRIGGER refuse_completion BEFORE UPDATE ON tasks.tasks FOR EACH ROW
                 WHEN (OLD.title = 'cannot be completed' AND NEW.status = 2) EXECUTE FUNCTION tasks.refuse_completion()`);
    try {
      const results = await Promise.allSettled(ids.map((id) => service.tasks.completeTask({ id }, as(user))));
      assert.deepEqual(
        results.map((r) => r.status),
        ids.map((_, i) => (i === 4 ? "rejected" : "fulfilled")),
      );
      const rows = await sql<{ id: string; status: number }>(`SELECT id, status FROM tasks.tasks WHERE user_id = $1`, [user]);
      assert.deepEqual(
        rows
          .filter((r) => r.status === 2)
          .map((r) => r.id)
          .sort(),
        ids.filter((_, i) => i !== 4).sort(),
      );
      const completed = (await events(user)).filter((e) => e.event.case === "completed").map((e) => e.taskId);
      assert.deepEqual(completed.sort(), ids.filter((_, i) => i !== 4).sort(), "no event for the refused change, one for each other");
      const feed = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM tasks.task_changes WHERE task_id = $1`, [ids[4]]);
      assert.equal(feed[0]!.n, 1, "the refused task has only its creation in the feed");
    } finally {
      await sql(`DROP TRIGGER refuse_completion ON tasks.tasks`);
      await sql(`DROP FUNCTION tasks.refuse_completion()`);
    }
  });
});
