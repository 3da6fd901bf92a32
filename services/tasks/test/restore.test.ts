// RestoreTask against a real PostgreSQL: a deleted task comes back under its id with its comments,
// open or completed as it was, where it was as far as that still exists; to whom, and how often.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { expectCode } from "@taskmesh/testing/connect";
import { deletedTasksPruned } from "../src/feed-retention.js";
import { tasksUnderTest } from "./fixtures.js";

const as = (userId: string) => ({ headers: { "x-user-id": userId, "x-user-email": `${userId}@example.com`, "x-time-zone": "UTC" } });

let seq = 0;
const newUser = (name: string) => `${name}-${process.pid}-${++seq}`;

describe("restoring a deleted task", () => {
  const service = tasksUnderTest();

  test("comes back under its id, completed as it was, with its comments in order and a later version", async () => {
    const ann = newUser("ann");
    const project = (await service.projects.createProject({ name: "Home" }, as(ann))).project!;
    const section = (await service.projects.createSection({ projectId: project.id, name: "Kitchen" }, as(ann))).section!;
    const { task } = await service.tasks.createTask(
      { title: "Descale the kettle", notes: "vinegar", tags: ["home"], projectId: project.id, sectionId: section.id, due: { case: "dueDate", value: "2031-02-03" } },
      as(ann),
    );
    for (const body of ["Bought vinegar", "Done twice a year"]) await service.tasks.addComment({ taskId: task!.id, body }, as(ann));
    const done = (await service.tasks.completeTask({ id: task!.id }, as(ann))).task!;
    await service.tasks.deleteTask({ id: task!.id }, as(ann));
    await expectCode(service.tasks.getTask({ id: task!.id }, as(ann)), Code.NotFound);

    const { task: back } = await service.tasks.restoreTask({ id: task!.id }, as(ann));
    assert.deepEqual(
      [back!.id, back!.title, back!.notes, back!.tags, back!.due.value, back!.status, back!.projectId, back!.sectionId, back!.commentCount],
      [task!.id, "Descale the kettle", "vinegar", ["home"], "2031-02-03", TaskStatus.COMPLETED, project.id, section.id, 2],
    );
    assert.equal(back!.completeTime?.seconds, done.completeTime?.seconds);
    assert.equal(back!.createTime?.seconds, task!.createTime?.seconds);
    assert.ok(back!.version > done.version + 1n, `version ${back!.version} after ${done.version} and the deletion`);
    const { comments } = await service.tasks.listComments({ taskId: task!.id }, as(ann));
    assert.deepEqual(
      comments.map((c) => c.body),
      ["Bought vinegar", "Done twice a year"],
    );
    // Sent again (a retry), it answers the task as it is, and restores nothing twice.
    assert.equal((await service.tasks.restoreTask({ id: task!.id }, as(ann))).task!.id, task!.id);
    assert.equal((await service.tasks.listComments({ taskId: task!.id }, as(ann))).comments.length, 2);
    // Deleted and restored again: the same once more.
    await service.tasks.deleteTask({ id: task!.id }, as(ann));
    assert.equal((await service.tasks.restoreTask({ id: task!.id }, as(ann))).task!.commentCount, 2);
  });

  test("back between the tasks it was between, when its place is free; after the others when a task took it", async () => {
    const cy = newUser("cy");
    const project = (await service.projects.createProject({ name: "Week" }, as(cy))).project!;
    const titles = async () => (await service.tasks.listTasks({ query: "project:week", orderBy: "manual" }, as(cy))).tasks.map((t) => t.title);
    const made = [];
    for (const title of ["Mon", "Tue", "Wed"]) made.push((await service.tasks.createTask({ title, projectId: project.id }, as(cy))).task!);
    const tue = made[1]!;
    await service.tasks.deleteTask({ id: tue.id }, as(cy));
    const thu = (await service.tasks.createTask({ title: "Thu", projectId: project.id }, as(cy))).task!;
    await service.tasks.restoreTask({ id: tue.id }, as(cy));
    assert.deepEqual(await titles(), ["Mon", "Tue", "Wed", "Thu"]);
    // Its key given to another task in the meantime: it comes back last.
    await service.tasks.deleteTask({ id: tue.id }, as(cy));
    await service.tasks.moveTask({ id: thu.id, place: { case: "beforeId", value: made[2]!.id } }, as(cy));
    assert.equal((await service.tasks.getTask({ id: thu.id }, as(cy))).task!.orderKey, tue.orderKey, "a move between Mon and Wed made Tue's key again");
    await service.tasks.restoreTask({ id: tue.id }, as(cy));
    assert.deepEqual(await titles(), ["Mon", "Thu", "Wed", "Tue"]);
  });

  test("where its project, section or parent is gone it comes back to the top level of the caller's Inbox", async () => {
    const bo = newUser("bo");
    const project = (await service.projects.createProject({ name: "Trip" }, as(bo))).project!;
    const parent = (await service.tasks.createTask({ title: "Pack", projectId: project.id }, as(bo))).task!;
    const { task } = await service.tasks.createTask({ title: "Socks", parentId: parent.id }, as(bo));
    await service.projects.deleteProject({ id: project.id }, as(bo));
    await expectCode(service.tasks.getTask({ id: task!.id }, as(bo)), Code.NotFound);
    const { task: back } = await service.tasks.restoreTask({ id: task!.id }, as(bo));
    const inbox = (await service.projects.listProjects({}, as(bo))).projects.find((p) => p.inbox)!;
    assert.deepEqual([back!.id, back!.projectId, back!.parentId, back!.sectionId], [task!.id, inbox.id, "", ""]);
  });

  test("an editor of its project may restore it there; a viewer or a stranger is told there is nothing", async () => {
    const owner = newUser("owner");
    const [editor, viewer, stranger] = [newUser("editor"), newUser("viewer"), newUser("stranger")];
    const project = (await service.projects.createProject({ name: "Shared" }, as(owner))).project!;
    for (const [user, role] of [
      [editor, ProjectRole.EDITOR],
      [viewer, ProjectRole.VIEWER],
    ] as const) {
      const { invitation } = await service.projects.inviteMember({ projectId: project.id, email: `${user}@example.com`, role }, as(owner));
      await service.projects.acceptInvitation({ id: invitation!.id }, as(user));
    }
    const { task } = await service.tasks.createTask({ title: "Paint", projectId: project.id, assigneeId: editor }, as(owner));
    await service.tasks.deleteTask({ id: task!.id }, as(editor));
    for (const user of [viewer, stranger]) await expectCode(service.tasks.restoreTask({ id: task!.id }, as(user)), Code.NotFound);
    const { task: back } = await service.tasks.restoreTask({ id: task!.id }, as(editor));
    assert.deepEqual([back!.projectId, back!.assigneeId], [project.id, editor]);
    assert.equal((await service.tasks.getTask({ id: task!.id }, as(owner))).task!.title, "Paint");
    await expectCode(service.tasks.restoreTask({ id: "00000000-0000-4000-8000-00000000abcd" }, as(owner)), Code.NotFound);
  });

  test("deleted tasks are kept as long as the change feed, then pruned", async () => {
    const cy = newUser("cy");
    const { task } = await service.tasks.createTask({ title: "Old" }, as(cy));
    await service.tasks.deleteTask({ id: task!.id }, as(cy));
    const pruned = deletedTasksPruned(service.module.db, 1);
    assert.ok((await pruned.prune(new Date(Date.now() + 60_000), 10_000)) >= 1);
    const err = await expectCode(service.tasks.restoreTask({ id: task!.id }, as(cy)), Code.NotFound);
    assert.match(err.rawMessage, /deleted longer ago than deleted tasks are kept/);
  });
});
