// Concurrent completes of one user share a transaction (see write-batching.test.ts), and each locks
// its task and the task's subtasks in one statement. A batch of completes of tasks with and without
// subtasks: each call gets its own answer or its own error, every completed task is in the feed and
// the events once, subtasks before their parent, and a refused complete changes nothing. And 16
// completes of one user, one stale and one of a deleted task: each caller's answer is its own and
// each completion has exactly its own event, TaskUpdate and feed entry.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { OpenSubtasksSchema, TaskConflictSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { tasksUnderTest } from "./fixtures.js";

const as = (user: string) => ({ headers: { "x-user-id": user } });

describe("batched completes of tasks with subtasks", () => {
  const service = tasksUnderTest();

  const sql = <Row>(text: string, params: unknown[] = []) => service.module.db.query<Row>(service.module.db.em(), text, params);
  const create = async (user: string, title: string, parentId = "") => (await service.tasks.createTask({ title, parentId }, as(user))).task!.id;

  test("each complete of a batch gets its own answer; subtasks complete with their parent, before it", async () => {
    const user = "tree-completer";
    const blocked = await create(user, "blocked parent");
    const blockedChild = await create(user, "open child", blocked);
    const whole = await create(user, "parent completed with its subtree");
    const wholeChild = await create(user, "child", whole);
    const wholeGrandchild = await create(user, "grandchild", wholeChild);
    const doneChildren = await create(user, "parent whose child is done");
    const doneChild = await create(user, "done child", doneChildren);
    await service.tasks.completeTask({ id: doneChild }, as(user));
    const plain = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => create(user, `plain ${n}`)));
    const stale = await create(user, "stale version");

    const calls = [
      service.tasks.completeTask({ id: blocked }, as(user)),
      service.tasks.completeTask({ id: whole, includeSubtasks: true }, as(user)),
      service.tasks.completeTask({ id: doneChildren }, as(user)),
      service.tasks.completeTask({ id: stale, expectedVersion: 5n }, as(user)),
      ...plain.map((id) => service.tasks.completeTask({ id }, as(user))),
      service.tasks.completeTask({ id: wholeChild }, as(user)),
    ];
    const results = await Promise.allSettled(calls);
    const outcome = results.map((r) => (r.status === "fulfilled" ? TaskStatus[r.value.task!.status] : Code[ConnectError.from(r.reason).code]));
    assert.deepEqual(outcome, ["FailedPrecondition", "COMPLETED", "COMPLETED", "Aborted", ...plain.map(() => "COMPLETED"), "COMPLETED"]);
    const refused = ConnectError.from((results[0] as PromiseRejectedResult).reason);
    assert.equal(refused.findDetails(OpenSubtasksSchema)[0]?.openCount, 1);
    assert.match(ConnectError.from((results[3] as PromiseRejectedResult).reason).rawMessage, /is at version 1, not 5/);
    // Each answer is its own task at its own version: the subtree's complete took the child first,
    // so the later complete of that child finds it done and changes nothing.
    const answered = results.map((r) => (r.status === "fulfilled" ? [r.value.task!.id, r.value.task!.version] : undefined));
    assert.deepEqual(answered[1], [whole, 2n]);
    assert.deepEqual(answered[2], [doneChildren, 2n]);
    assert.deepEqual(
      answered.slice(4, 10),
      plain.map((id) => [id, 2n]),
    );
    assert.deepEqual(answered[10], [wholeChild, 2n]);

    const { n } = (await sql<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM tasks.tasks WHERE id = ANY($1::uuid[])`, [[whole, doneChildren, ...plain]]))[0]!;
    assert.ok(n < 8, `the completes were batched (${n} transactions for 8 tasks)`);

    const statuses = new Map((await sql<{ id: string; status: number }>(`SELECT id, status FROM tasks.tasks WHERE user_id = $1`, [user])).map((r) => [r.id, r.status]));
    assert.equal(statuses.get(blocked), TaskStatus.OPEN, "a refused complete changes nothing");
    assert.equal(statuses.get(blockedChild), TaskStatus.OPEN);
    assert.equal(statuses.get(stale), TaskStatus.OPEN);

    const completedNow = [wholeGrandchild, wholeChild, whole, doneChildren, ...plain];
    const events = (await sql<{ payload: Uint8Array }>(`SELECT payload FROM tasks.outbox WHERE topic = 'task-events' ORDER BY id`))
      .map((r) => fromBinary(TaskEventSchema, r.payload))
      .filter((e) => e.userId === user && e.event.case === "completed" && e.taskId !== doneChild)
      .map((e) => e.taskId);
    assert.deepEqual([...events].sort(), [...completedNow].sort(), "one completed event per task completed, none for the refused ones");
    const feed = (
      await sql<{ taskId: string }>(`SELECT task_id AS "taskId" FROM tasks.task_changes WHERE user_id = $1 AND snapshot->>'status' = 'TASK_STATUS_COMPLETED' AND task_id <> $2 ORDER BY seq`, [
        user,
        doneChild,
      ])
    ).map((r) => r.taskId);
    assert.deepEqual(feed, events, "one feed entry per completion, in the events' order");
    const at = (id: string) => feed.indexOf(id);
    assert.ok(at(wholeGrandchild) < at(whole) && at(wholeChild) < at(whole), "a parent's subtasks are completed before it");
  });

  test("16 completes of one user at once: each caller gets its own task, its own error, and exactly its own events", async () => {
    const user = "sixteen-completer";
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) ids.push(await create(user, `task ${i}`));
    const stale = 5;
    const deleted = 11;
    await service.tasks.deleteTask({ id: ids[deleted]! }, as(user));
    const [before] = await sql<{ outbox: string; feed: string }>(
      `SELECT (SELECT coalesce(max(id), 0) FROM tasks.outbox)::text AS outbox, (SELECT coalesce(max(seq), 0) FROM tasks.task_changes)::text AS feed`,
    );

    // Every other call names the version it read, so a check applied to the wrong call's task fails.
    const results = await Promise.allSettled(ids.map((id, i) => service.tasks.completeTask({ id, expectedVersion: i === stale ? 3n : i % 2 === 0 ? 1n : 0n }, as(user))));
    const outcome = results.map((r) => (r.status === "fulfilled" ? [r.value.task!.id, r.value.task!.version, TaskStatus[r.value.task!.status]] : Code[ConnectError.from(r.reason).code]));
    assert.deepEqual(
      outcome,
      ids.map((id, i) => (i === stale ? "Aborted" : i === deleted ? "NotFound" : [id, 2n, "COMPLETED"])),
    );
    const conflict = ConnectError.from((results[stale] as PromiseRejectedResult).reason);
    assert.match(conflict.rawMessage, new RegExp(`task ${ids[stale]} is at version 1, not 3`));
    const current = conflict.findDetails(TaskConflictSchema)[0]?.current;
    assert.deepEqual([current?.id, current?.version, current?.status], [ids[stale], 1n, TaskStatus.OPEN], "the conflict carries the caller's own task as it is");
    assert.match(ConnectError.from((results[deleted] as PromiseRejectedResult).reason).rawMessage, new RegExp(`task ${ids[deleted]} not found`));
    const completed = ids.filter((_, i) => i !== stale && i !== deleted);
    assert.ok(
      (await sql<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM tasks.tasks WHERE id = ANY($1::uuid[])`, [completed]))[0]!.n < completed.length,
      "the completes were batched",
    );

    const rows = new Map((await sql<{ id: string; status: number; version: number }>(`SELECT id, status, version FROM tasks.tasks WHERE user_id = $1`, [user])).map((r) => [r.id, r]));
    assert.deepEqual(rows.get(ids[stale]!), { id: ids[stale], status: TaskStatus.OPEN, version: 1 }, "the stale complete changed nothing");
    assert.equal(rows.has(ids[deleted]!), false);

    // Since the calls: per completed task one event, of its own task at its new version, and one
    // TaskUpdate of the user's feed carrying the same task; nothing else. (By task: the router
    // transport does not promise that concurrent calls reach the service in call order.)
    const byTask = <T>(list: T[], id: (item: T) => string) => [...list].sort((a, b) => id(a).localeCompare(id(b)));
    const sorted = [...completed].sort();
    const outbox = await sql<{ topic: string; key: string; payload: Uint8Array }>(`SELECT topic, key, payload FROM tasks.outbox WHERE id > $1 ORDER BY id`, [before!.outbox]);
    const events = outbox.filter((r) => r.topic === "task-events").map((r) => ({ key: r.key, event: fromBinary(TaskEventSchema, r.payload) }));
    assert.deepEqual(
      byTask(events, (e) => e.key).map(({ key, event: e }) => [
        key,
        e.taskId,
        e.userId,
        e.actorId,
        e.version,
        e.event.case,
        e.event.case === "completed" ? [e.event.value.task?.id, e.event.value.task?.version] : undefined,
      ]),
      sorted.map((id) => [id, id, user, user, 2n, "completed", [id, 2n]]),
    );
    assert.equal(new Set(events.map((e) => e.event.eventId)).size, completed.length, "each event its own id");
    const updates = outbox.filter((r) => r.topic === "task-updates").map((r) => fromBinary(TaskUpdateSchema, r.payload));
    const updated = (u: (typeof updates)[number]) => (u.change.case === "upserted" ? u.change.value.id : "");
    assert.deepEqual(
      byTask(updates, updated).map((u) => (u.change.case === "upserted" ? [u.userId, u.change.value.id, u.change.value.version, TaskStatus[u.change.value.status]] : u.change.case)),
      sorted.map((id) => [user, id, 2n, "COMPLETED"]),
    );
    assert.equal(outbox.length, 2 * completed.length);
    const feed = await sql<{ seq: string; taskId: string }>(`SELECT seq::text AS seq, task_id AS "taskId" FROM tasks.task_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq`, [user, before!.feed]);
    assert.deepEqual(
      feed.map((f) => [f.seq, f.taskId]),
      updates.map((u) => [u.cursor, updated(u)]),
      "one feed entry per completion, the TaskUpdates carrying its cursor",
    );
  });

  test("the trees a batch locks together are what its earlier writes left; its status changes are written once, the last one winning", async () => {
    const user = "tree-batch";
    const store = service.module.store;
    const [root, moved, other] = [await create(user, "root"), await create(user, "moved under root"), await create(user, "other root")];
    const otherChild = await create(user, "other's child", other);
    const statusOf = async (id: string) => (await sql<{ status: number; version: number }>(`SELECT status, version FROM tasks.tasks WHERE id = $1`, [id]))[0];

    const moves = await store.writeMany(user, [
      { run: async (tx) => (await tx.lockTree(root))?.subtree.length, locksTree: root },
      // Another kind of write: the trees locked before it are stale once it moved a task.
      { run: (tx) => tx.sql(`UPDATE tasks.tasks SET parent_id = $2 WHERE user_id = $3 AND id = $1`, [moved, root, user]) },
      { run: async (tx) => (await tx.lockTree(root))?.subtree.map((row) => row.id), locksTree: root },
    ]);
    assert.deepEqual([moves[0], moves[2]], [0, [moved]]);
    const statuses = await store.writeMany(user, [
      // A status change: later writes see it, in the trees locked and in statements.
      {
        run: async (tx) => {
          const tree = (await tx.lockTree(other))!;
          return tx.setStatus(tree.subtree[0]!, TaskStatus.COMPLETED, new Date(), {}, new Date()).version;
        },
        locksTree: other,
      },
      { run: async (tx) => (await tx.lockTree(otherChild))?.task.status, locksTree: otherChild },
      {
        run: async (tx) => {
          const row = (await tx.lock(otherChild))!;
          return tx.setStatus(row, TaskStatus.OPEN, null, {}, new Date()).version;
        },
      },
      { run: async (tx) => (await tx.lockTree(otherChild))?.task.version, locksTree: otherChild },
      { run: async (tx) => (await tx.lockTree("00000000-0000-4000-8000-000000000000")) ?? "missing", locksTree: "00000000-0000-4000-8000-000000000000" },
    ]);
    assert.deepEqual(statuses, [2n, TaskStatus.COMPLETED, 3n, 3, "missing"]);
    assert.deepEqual(await statusOf(otherChild), { status: TaskStatus.OPEN, version: 3 });
    assert.deepEqual(await statusOf(other), { status: TaskStatus.OPEN, version: 1 });
  });
});
