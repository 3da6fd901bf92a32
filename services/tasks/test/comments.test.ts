// Comments on tasks against a real PostgreSQL: who may read and write them in a shared project,
// validation, idempotency by request id, the event for history, and the change feed that tells
// every member's devices.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { tasksUnderTest } from "./fixtures.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

const as = (userId: string) => ({ headers: { "x-user-id": userId, "x-user-email": `${userId}@example.com`, "x-time-zone": "UTC", "x-device": "phone" } });

const violationsOf = (err: ConnectError) => err.findDetails(ViolationsSchema)[0]?.violations ?? [];
const fieldsOf = (err: ConnectError) => [...new Set(violatedFields(err))];

let seq = 0;
const newUser = (name: string) => `${name}-${process.pid}-${++seq}`;

describe("comments on tasks", () => {
  const service = tasksUnderTest();

  const commentEvents = async (taskId: string) =>
    (await service.module.db.query<{ payload: Uint8Array }>(service.module.db.em(), `SELECT payload FROM tasks.outbox WHERE topic = 'task-events' AND key = $1 ORDER BY id`, [taskId]))
      .map((r) => fromBinary(TaskEventSchema, r.payload))
      .filter((e) => e.event.case?.startsWith("comment"));

  /** A project of `owner` shared with a viewer, an editor and an admin, and a task in it. */
  async function sharedTask() {
    const owner = newUser("owner");
    const [viewer, editor, admin, stranger] = [newUser("viewer"), newUser("editor"), newUser("admin"), newUser("stranger")];
    const project = (await service.projects.createProject({ name: "Shared" }, as(owner))).project!;
    for (const [user, role] of [
      [viewer, ProjectRole.VIEWER],
      [editor, ProjectRole.EDITOR],
      [admin, ProjectRole.ADMIN],
    ] as const) {
      const { invitation } = await service.projects.inviteMember({ projectId: project.id, email: `${user}@example.com`, role }, as(owner));
      await service.projects.acceptInvitation({ id: invitation!.id }, as(user));
    }
    const { task } = await service.tasks.createTask({ title: "Paint the hall", projectId: project.id }, as(owner));
    return { owner, viewer, editor, admin, stranger, project, task: task! };
  }

  test("every member reads and writes comments, oldest first, with author and time; a stranger gets NOT_FOUND", async () => {
    const { owner, viewer, editor, admin, stranger, task } = await sharedTask();
    const before = Date.now();
    for (const [user, body] of [
      [owner, "Which white?"],
      [editor, "Chalk white"],
      [admin, "Agreed"],
      [viewer, "Looks good from here"],
    ] as const) {
      const { comment } = await service.tasks.addComment({ taskId: task.id, body }, as(user));
      assert.equal(comment!.authorId, user);
      assert.equal(comment!.taskId, task.id);
      assert.equal(comment!.body, body);
      assert.ok(Number(comment!.createTime!.seconds) * 1000 >= before - 1000);
    }
    for (const user of [owner, viewer, editor, admin]) {
      const { comments } = await service.tasks.listComments({ taskId: task.id }, as(user));
      assert.deepEqual(
        comments.map((c) => [c.authorId, c.body]),
        [
          [owner, "Which white?"],
          [editor, "Chalk white"],
          [admin, "Agreed"],
          [viewer, "Looks good from here"],
        ],
      );
    }
    await expectCode(service.tasks.listComments({ taskId: task.id }, as(stranger)), Code.NotFound, "a stranger listing");
    await expectCode(service.tasks.addComment({ taskId: task.id, body: "hi" }, as(stranger)), Code.NotFound, "a stranger commenting");
    const notFound = await expectCode(service.tasks.addComment({ taskId: crypto.randomUUID(), body: "hi" }, as(owner)), Code.NotFound, "no such task");
    assert.match(notFound.rawMessage, /not found/);
    // The comment counts on the task, and commenting is no edit: the version stays.
    const { task: now } = await service.tasks.getTask({ id: task.id }, as(viewer));
    assert.equal(now!.commentCount, 4);
    assert.equal(now!.version, task.version);
  });

  test("a member removed from the project can no longer read or add comments", async () => {
    const { owner, editor, project, task } = await sharedTask();
    await service.tasks.addComment({ taskId: task.id, body: "before leaving" }, as(editor));
    await service.projects.removeMember({ projectId: project.id, userId: editor }, as(owner));
    await expectCode(service.tasks.listComments({ taskId: task.id }, as(editor)), Code.NotFound, "a removed member listing");
    await expectCode(service.tasks.addComment({ taskId: task.id, body: "after" }, as(editor)), Code.NotFound, "a removed member commenting");
  });

  test("bad input is INVALID_ARGUMENT naming the field", async () => {
    const { owner, task } = await sharedTask();
    for (const [body, rule] of [
      ["", "string.min_len"],
      ["   \n\t", "body.not_blank"],
      ["x".repeat(10_001), "string.max_len"],
    ] as const) {
      const err = await expectCode(service.tasks.addComment({ taskId: task.id, body }, as(owner)), Code.InvalidArgument, `body ${JSON.stringify(body.slice(0, 10))}`);
      assert.deepEqual(fieldsOf(err), ["body"]);
      assert.ok(
        violationsOf(err).some((v) => v.ruleId === rule),
        `${rule} in ${err.rawMessage}`,
      );
    }
    assert.deepEqual(fieldsOf(await expectCode(service.tasks.addComment({ taskId: "nope", body: "x" }, as(owner)), Code.InvalidArgument, "task id")), ["task_id"]);
    assert.deepEqual(fieldsOf(await expectCode(service.tasks.listComments({ taskId: task.id, pageToken: "abc" }, as(owner)), Code.InvalidArgument, "page token")), ["page_token"]);
    assert.equal((await service.tasks.listComments({ taskId: task.id }, as(owner))).comments.length, 0);
  });

  test("a request id makes a retried AddComment one comment, one event", async () => {
    const { editor, task } = await sharedTask();
    const first = (await service.tasks.addComment({ taskId: task.id, body: "once", requestId: "c-1" }, as(editor))).comment!;
    const again = (await service.tasks.addComment({ taskId: task.id, body: "once", requestId: "c-1" }, as(editor))).comment!;
    assert.equal(again.id, first.id);
    assert.equal((await service.tasks.listComments({ taskId: task.id }, as(editor))).comments.length, 1);
    assert.equal((await service.tasks.getTask({ id: task.id }, as(editor))).task!.commentCount, 1);
    assert.equal((await commentEvents(task.id)).length, 1);
  });

  test("the event carries the comment, its author and device, under the task's owner", async () => {
    const { owner, viewer, project, task } = await sharedTask();
    const { comment } = await service.tasks.addComment({ taskId: task.id, body: "Seen it" }, as(viewer));
    const [event] = await commentEvents(task.id);
    assert.ok(event?.event.case === "commentAdded");
    assert.equal(event.userId, owner);
    assert.equal(event.actorId, viewer);
    assert.equal(event.device, "phone");
    assert.equal(event.projectId, project.id);
    assert.equal(event.version, task.version);
    assert.equal(event.event.value.comment!.id, comment!.id);
    assert.equal(event.event.value.comment!.body, "Seen it");
    assert.equal(event.event.value.taskTitle, "Paint the hall");
  });

  test("every member's change feed receives the task with its new count", async () => {
    const { owner, viewer, editor, task } = await sharedTask();
    const streams = [owner, viewer].map((user) => {
      const abort = new AbortController();
      return { abort, iterator: service.tasks.watchTasks({}, { ...as(user), signal: abort.signal })[Symbol.asyncIterator]() };
    });
    const next = async (s: (typeof streams)[number]): Promise<WatchTasksResponse> => (await s.iterator.next()).value as WatchTasksResponse;
    for (const s of streams) assert.equal((await next(s)).change.case, "caughtUp");
    await service.tasks.addComment({ taskId: task.id, body: "Live" }, as(editor));
    for (const s of streams) {
      const m = await next(s);
      assert.ok(m.change.case === "upserted");
      assert.equal(m.change.value.id, task.id);
      assert.equal(m.change.value.commentCount, 1);
      s.abort.abort();
    }
  });

  test("only a comment's author edits or deletes it; each is an event, and the count follows", async () => {
    const { owner, viewer, editor, stranger, task } = await sharedTask();
    const { comment } = await service.tasks.addComment({ taskId: task.id, body: "Blue?" }, as(viewer));
    const mine = { taskId: task.id, commentId: comment!.id };
    for (const user of [owner, editor]) {
      await expectCode(service.tasks.editComment({ ...mine, body: "Red" }, as(user)), Code.PermissionDenied, `${user} editing another's comment`);
      await expectCode(service.tasks.deleteComment(mine, as(user)), Code.PermissionDenied, `${user} deleting another's comment`);
    }
    await expectCode(service.tasks.editComment({ ...mine, body: "Red" }, as(stranger)), Code.NotFound, "a stranger editing");
    await expectCode(service.tasks.deleteComment({ taskId: task.id, commentId: crypto.randomUUID() }, as(viewer)), Code.NotFound, "no such comment");
    assert.deepEqual(fieldsOf(await expectCode(service.tasks.editComment({ ...mine, body: " " }, as(viewer)), Code.InvalidArgument, "a blank edit")), ["body"]);

    const { comment: edited } = await service.tasks.editComment({ ...mine, body: "Blue, the dark one" }, as(viewer));
    assert.equal(edited!.body, "Blue, the dark one");
    assert.ok(edited!.updateTime);
    assert.equal((await service.tasks.listComments({ taskId: task.id }, as(owner))).comments[0]!.body, "Blue, the dark one");
    await service.tasks.deleteComment(mine, as(viewer));
    assert.deepEqual((await service.tasks.listComments({ taskId: task.id }, as(owner))).comments, []);
    assert.equal((await service.tasks.getTask({ id: task.id }, as(owner))).task!.commentCount, 0);
    const events = await commentEvents(task.id);
    assert.deepEqual(
      events.map((e) => e.event.case),
      ["commentAdded", "commentEdited", "commentDeleted"],
    );
    assert.ok(events[1]!.event.case === "commentEdited" && events[1]!.event.value.beforeBody === "Blue?");
    assert.ok(events[2]!.event.case === "commentDeleted" && events[2]!.event.value.comment!.body === "", "a deleted comment's text is not kept");
    assert.ok(events.every((e) => e.actorId === viewer));
  });

  test("pages of comments follow each other without gaps; deleting the task deletes its comments", async () => {
    const { owner, task } = await sharedTask();
    for (let i = 0; i < 5; i++) await service.tasks.addComment({ taskId: task.id, body: `c${i}` }, as(owner));
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await service.tasks.listComments({ taskId: task.id, pageSize: 2, pageToken }, as(owner));
      seen.push(...page.comments.map((c) => c.body));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(seen, ["c0", "c1", "c2", "c3", "c4"]);
    await service.tasks.deleteTask({ id: task.id }, as(owner));
    const [left] = await service.module.db.query<{ n: number }>(service.module.db.em(), `SELECT count(*)::int AS n FROM tasks.comments WHERE task_id = $1`, [task.id]);
    assert.equal(left!.n, 0);
  });
});
