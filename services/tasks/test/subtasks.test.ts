import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { OpenSubtasksSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { tasksUnderTest } from "./fixtures.js";
import { expectCode, fieldPathText } from "@taskmesh/testing/connect";

const as = (userId: string) => ({ headers: { "x-user-id": userId, "x-user-email": `${userId}@example.com`, "x-time-zone": "UTC" } });

const violationsOf = (err: ConnectError) => (err.findDetails(ViolationsSchema)[0]?.violations ?? []).map((v) => ({ field: fieldPathText(v.field), rule: v.ruleId }));

let seq = 0;
const newUser = (name: string) => `${name}-${process.pid}-${++seq}`;

describe("subtasks", () => {
  const service = tasksUnderTest();

  const eventsOf = async (taskId: string) =>
    (await service.module.db.query<{ payload: Uint8Array }>(service.module.db.em(), `SELECT payload FROM tasks.outbox WHERE topic = 'task-events' ORDER BY id`))
      .map((r) => fromBinary(TaskEventSchema, r.payload))
      .filter((e) => e.taskId === taskId);

  /** A chain of tasks, each a subtask of the one before. */
  async function chain(user: string, projectId: string, titles: string[]): Promise<Task[]> {
    const made: Task[] = [];
    for (const title of titles) made.push((await service.tasks.createTask({ title, projectId, parentId: made.at(-1)?.id ?? "" }, as(user))).task!);
    return made;
  }

  const get = async (user: string, id: string) => (await service.tasks.getTask({ id }, as(user))).task!;

  test("any depth, in the parent's project; a missing, hidden or other project's parent and cycles are field errors", async () => {
    const [ann, bob] = [newUser("ann"), newUser("bob")];
    const home = (await service.projects.createProject({ name: "Home" }, as(ann))).project!;
    const [a, b, c, d, e] = await chain(ann, home.id, ["a", "b", "c", "d", "e"]);
    assert.deepEqual(
      [a, b, c, d, e].map((t) => t!.parentId),
      ["", a!.id, b!.id, c!.id, d!.id],
    );
    assert.ok([a, b, c, d, e].every((t) => t!.projectId === home.id));
    // No project named: the parent's, not the Inbox.
    const sub = (await service.tasks.createTask({ title: "sub", parentId: a!.id }, as(ann))).task!;
    assert.equal(sub.projectId, home.id);

    const work = (await service.projects.createProject({ name: "Work" }, as(ann))).project!;
    const refused = async (promise: Promise<unknown>, field: string, rule: string) => assert.deepEqual(violationsOf(await expectCode(promise, Code.InvalidArgument, rule)), [{ field, rule }]);
    await refused(service.tasks.createTask({ title: "x", projectId: work.id, parentId: a!.id }, as(ann)), "parent_id", "parent_id.same_project");
    await refused(service.tasks.createTask({ title: "x", parentId: "00000000-0000-4000-8000-0000000000ff" }, as(ann)), "parent_id", "parent_id.exists");
    // Bob's guess at Ann's task gets the answer a task that does not exist gets.
    const hidden = await expectCode(service.tasks.createTask({ title: "x", parentId: a!.id }, as(bob)), Code.InvalidArgument);
    assert.deepEqual(violationsOf(hidden), [{ field: "parent_id", rule: "parent_id.exists" }]);
    assert.match(hidden.rawMessage, new RegExp(`task ${a!.id} not found$`));
    await refused(service.tasks.createTask({ title: "x", parentId: "not-a-uuid" }, as(ann)), "parent_id", "string.uuid");

    const reparent = (task: Task, parentId: string) => service.tasks.updateTask({ task: { id: task.id, parentId }, updateMask: { paths: ["parent_id"] }, expectedVersion: task.version }, as(ann));
    await refused(reparent(a!, a!.id), "task.parent_id", "parent_id.no_cycle");
    await refused(reparent(a!, e!.id), "task.parent_id", "parent_id.no_cycle");
    await refused(reparent(b!, d!.id), "task.parent_id", "parent_id.no_cycle");
    assert.equal((await get(ann, a!.id)).parentId, "", "nothing was written");

    // Up to the top level and under another task of the project.
    const top = (await reparent(c!, "")).task!;
    assert.equal(top.parentId, "");
    const under = (await reparent(top, sub.id)).task!;
    assert.equal(under.parentId, sub.id);
    const [event] = (await eventsOf(c!.id)).slice(-1);
    assert.equal(event!.event.case, "updated");
    assert.deepEqual(event!.event.case === "updated" && event!.event.value.changedFields, ["parent_id"]);
  });

  test("Todoist's filters subtask and recurring pick subtasks and repeating tasks, and their negations the others", async () => {
    const ann = newUser("ann");
    const home = (await service.projects.createProject({ name: "Home" }, as(ann))).project!;
    const [parent, child] = await chain(ann, home.id, ["parent", "child"]);
    const daily = (await service.tasks.createTask({ title: "daily", due: { case: "dueDate", value: "2026-12-01" }, recurrence: { rrule: "FREQ=DAILY" } }, as(ann))).task!;
    const titles = async (query: string) => (await service.tasks.listTasks({ query, orderBy: "title" }, as(ann))).tasks.map((t) => t.title);
    assert.deepEqual(await titles("subtask"), [child!.title]);
    assert.deepEqual(await titles("!subtask"), [daily.title, parent!.title]);
    assert.deepEqual(await titles("recurring"), [daily.title]);
    assert.deepEqual(await titles("is:subtask OR is:recurring"), [child!.title, daily.title]);
  });

  test("moving a parent takes its whole subtree to the new project; a subtask moved alone leaves its parent", async () => {
    const ann = newUser("ann");
    const [home, work] = [(await service.projects.createProject({ name: "Home" }, as(ann))).project!, (await service.projects.createProject({ name: "Work" }, as(ann))).project!];
    const sec = (await service.projects.createSection({ projectId: home.id, name: "Later" }, as(ann))).section!;
    const [a, b, c, d] = await chain(ann, home.id, ["a", "b", "c", "d"]);
    await service.tasks.updateTask({ task: { id: c!.id, sectionId: sec.id }, updateMask: { paths: ["section_id"] }, expectedVersion: c!.version }, as(ann));

    await service.tasks.updateTask({ task: { id: a!.id, projectId: work.id }, updateMask: { paths: ["project_id"] }, expectedVersion: a!.version }, as(ann));
    const moved = await Promise.all([a, b, c, d].map((t) => get(ann, t!.id)));
    assert.deepEqual(
      moved.map((t) => t.projectId),
      [work.id, work.id, work.id, work.id],
    );
    assert.deepEqual(
      moved.map((t) => t.parentId),
      ["", a!.id, b!.id, c!.id],
      "the tree stays as it was",
    );
    assert.equal(moved[2]!.sectionId, "", "a section of the old project does not follow");
    // Each subtask's move is a change of its own (history, live sync).
    const [event] = (await eventsOf(d!.id)).slice(-1);
    assert.equal(event!.projectId, work.id);
    assert.deepEqual(event!.event.case === "updated" && event!.event.value.changedFields, ["project_id"]);

    // A subtask moved to another project without its parent leaves it; its own subtasks follow.
    const alone = (await service.tasks.updateTask({ task: { id: c!.id, projectId: home.id }, updateMask: { paths: ["project_id"] }, expectedVersion: moved[2]!.version }, as(ann))).task!;
    assert.equal(alone.parentId, "");
    assert.equal((await get(ann, d!.id)).projectId, home.id);
    // Put under a task of another project, a task goes to that project, its subtasks with it.
    const back = (await service.tasks.updateTask({ task: { id: c!.id, parentId: b!.id }, updateMask: { paths: ["parent_id"] }, expectedVersion: alone.version }, as(ann))).task!;
    assert.equal(back.projectId, work.id);
    assert.equal((await get(ann, d!.id)).projectId, work.id);
  });

  test("completing a task with open subtasks is refused with their number unless they are completed too", async () => {
    const ann = newUser("ann");
    const [a, b, c] = await chain(ann, "", ["a", "b", "c"]);
    const sibling = (await service.tasks.createTask({ title: "b2", parentId: a!.id }, as(ann))).task!;
    const doneAlready = (await service.tasks.createTask({ title: "b3", parentId: a!.id }, as(ann))).task!;
    await service.tasks.completeTask({ id: doneAlready.id }, as(ann));

    const err = await expectCode(service.tasks.completeTask({ id: a!.id }, as(ann)), Code.FailedPrecondition);
    assert.match(err.rawMessage, /has 3 open subtasks/);
    assert.equal(err.findDetails(OpenSubtasksSchema)[0]?.openCount, 3);
    assert.equal((await get(ann, a!.id)).status, TaskStatus.OPEN);
    assert.match((await expectCode(service.tasks.completeTask({ id: b!.id }, as(ann)), Code.FailedPrecondition)).rawMessage, /has 1 open subtask:/);

    const { task, completedSubtaskIds } = await service.tasks.completeTask({ id: a!.id, includeSubtasks: true }, as(ann));
    assert.equal(task!.status, TaskStatus.COMPLETED);
    // What this call completed, to undo it: not the subtask done before.
    assert.deepEqual(new Set(completedSubtaskIds), new Set([b!.id, c!.id, sibling.id]));
    for (const t of [b, c, sibling]) {
      assert.equal((await get(ann, t!.id)).status, TaskStatus.COMPLETED);
      assert.equal((await eventsOf(t!.id)).at(-1)!.event.case, "completed");
    }
    // A leaf completes as before.
    await service.tasks.reopenTask({ id: c!.id }, as(ann));
    assert.equal((await service.tasks.completeTask({ id: c!.id }, as(ann))).task!.status, TaskStatus.COMPLETED);
  });

  test("deleting a task moves its subtasks up to its own parent, each change reaching the watchers", async () => {
    const ann = newUser("ann");
    const [a, b, c, d] = await chain(ann, "", ["a", "b", "c", "d"]);
    const c2 = (await service.tasks.createTask({ title: "c2", parentId: b!.id }, as(ann))).task!;
    const abort = new AbortController();
    const stream = service.tasks.watchTasks({}, { ...as(ann), signal: abort.signal })[Symbol.asyncIterator]();
    assert.equal((await stream.next()).value?.change.case, "caughtUp");

    await service.tasks.deleteTask({ id: b!.id }, as(ann));
    await expectCode(service.tasks.getTask({ id: b!.id }, as(ann)), Code.NotFound);
    assert.equal((await get(ann, c!.id)).parentId, a!.id);
    assert.equal((await get(ann, c2.id)).parentId, a!.id);
    assert.equal((await get(ann, d!.id)).parentId, c!.id, "grandchildren stay under their parent");
    const seen = new Map<string, string>();
    while (seen.size < 3) {
      const { value } = await stream.next();
      if (value?.change.case === "upserted") seen.set(value.change.value.id, value.change.value.parentId);
      if (value?.change.case === "deletedTaskId") seen.set(value.change.value, "deleted");
    }
    abort.abort();
    assert.deepEqual(Object.fromEntries(seen), { [c!.id]: a!.id, [c2.id]: a!.id, [b!.id]: "deleted" });
  });

  test("in a shared project a viewer adds no subtask and an editor does", async () => {
    const [owner, viewer, editor] = [newUser("owner"), newUser("viewer"), newUser("editor")];
    const shared = (await service.projects.createProject({ name: "Shared" }, as(owner))).project!;
    for (const [user, role] of [
      [viewer, ProjectRole.VIEWER],
      [editor, ProjectRole.EDITOR],
    ] as const) {
      const { invitation } = await service.projects.inviteMember({ projectId: shared.id, email: `${user}@example.com`, role }, as(owner));
      await service.projects.acceptInvitation({ id: invitation!.id }, as(user));
    }
    const parent = (await service.tasks.createTask({ title: "parent", projectId: shared.id }, as(owner))).task!;
    await expectCode(service.tasks.createTask({ title: "x", parentId: parent.id }, as(viewer)), Code.PermissionDenied);
    const sub = (await service.tasks.createTask({ title: "by editor", parentId: parent.id }, as(editor))).task!;
    assert.equal(sub.projectId, shared.id);
    await expectCode(service.tasks.completeTask({ id: parent.id, includeSubtasks: true }, as(viewer)), Code.PermissionDenied);
    const { tasks: seen } = await service.tasks.listTasks({ query: "project:shared", orderBy: "title" }, as(viewer));
    assert.deepEqual(
      seen.map((t) => [t.title, t.parentId]),
      [
        ["by editor", parent.id],
        ["parent", ""],
      ],
    );
  });
});
