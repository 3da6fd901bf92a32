import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { tasksUnderTest } from "./fixtures.js";
import { expectCode, fieldPathText } from "@taskmesh/testing/connect";

const as = (userId: string, device = "test") => ({ headers: { "x-user-id": userId, "x-user-email": `${userId}@example.com`, "x-time-zone": "UTC", "x-device": device } });

const rulesOf = (err: ConnectError) => (err.findDetails(ViolationsSchema)[0]?.violations ?? []).map((v) => `${fieldPathText(v.field)}: ${v.ruleId}`);

let seq = 0;
const newUser = (name: string) => `${name}-${process.pid}-${++seq}`;

describe("manual order", () => {
  // Tasks stored before order keys existed get keys in the order they were created.
  const service = tasksUnderTest({
    storedBefore: {
      migration: "Migration20261204170000_order_keys",
      sql: `INSERT INTO tasks.tasks (id, user_id, title, created_at, updated_at) VALUES
         ('00000000-0000-4000-8000-000000000003', 'before-keys', 'third', now(), now()),
         ('00000000-0000-4000-8000-000000000001', 'before-keys', 'first', now() - interval '2 days', now()),
         ('00000000-0000-4000-8000-000000000002', 'before-keys', 'second', now() - interval '1 day', now())`,
    },
  });

  const manual = async (user: string, query = "") => (await service.tasks.listTasks({ query, orderBy: "manual" }, as(user))).tasks;
  const titles = async (user: string, query = "") => (await manual(user, query)).map((t) => t.title);
  const create = async (user: string, titles: string[], fields: { projectId?: string; parentId?: string; sectionId?: string } = {}) => {
    const made: Task[] = [];
    for (const title of titles) made.push((await service.tasks.createTask({ title, ...fields }, as(user))).task!);
    return made;
  };

  test("tasks stored before keys existed keep their creation order and can be moved", async () => {
    assert.deepEqual(await titles("before-keys"), ["first", "second", "third"]);
    const [first, , third] = await manual("before-keys");
    await service.tasks.moveTask({ id: third!.id, place: { case: "beforeId", value: first!.id } }, as("before-keys"));
    assert.deepEqual(await titles("before-keys"), ["third", "first", "second"]);
  });

  test("new tasks go last; a move gives the moved task alone a new key between its new neighbours", async () => {
    const ann = newUser("ann");
    const [a, b, c, d] = await create(ann, ["a", "b", "c", "d"]);
    assert.deepEqual(await titles(ann), ["a", "b", "c", "d"]);
    const { task: moved } = await service.tasks.moveTask({ id: d!.id, place: { case: "beforeId", value: b!.id } }, as(ann));
    assert.ok(a!.orderKey < moved!.orderKey && moved!.orderKey < b!.orderKey, `${a!.orderKey} < ${moved!.orderKey} < ${b!.orderKey}`);
    assert.deepEqual(await titles(ann), ["a", "d", "b", "c"]);
    await service.tasks.moveTask({ id: a!.id, place: { case: "afterId", value: c!.id } }, as(ann));
    assert.deepEqual(await titles(ann), ["d", "b", "c", "a"]);
    assert.deepEqual(await titles(`${ann}x`), []);
    // No other task changed.
    const now = new Map((await manual(ann)).map((t) => [t.id, t]));
    assert.deepEqual(
      [b, c].map((t) => [now.get(t!.id)!.version, now.get(t!.id)!.orderKey]),
      [b, c].map((t) => [t!.version, t!.orderKey]),
    );
    // Descending, and page by page.
    assert.deepEqual(
      (await service.tasks.listTasks({ orderBy: "manual desc" }, as(ann))).tasks.map((t) => t.title),
      ["a", "c", "b", "d"],
    );
    const first = await service.tasks.listTasks({ orderBy: "manual", pageSize: 3 }, as(ann));
    const second = await service.tasks.listTasks({ orderBy: "manual", pageSize: 3, pageToken: first.nextPageToken }, as(ann));
    assert.deepEqual(
      [...first.tasks, ...second.tasks].map((t) => t.title),
      ["d", "b", "c", "a"],
    );

    const events = (await service.module.db.query<{ payload: Uint8Array }>(service.module.db.em(), `SELECT payload FROM tasks.outbox WHERE topic = 'task-events' ORDER BY id`))
      .map((r) => fromBinary(TaskEventSchema, r.payload))
      .filter((e) => e.taskId === d!.id);
    const last = events.at(-1)!;
    assert.equal(last.event.case, "updated");
    assert.deepEqual(last.event.case === "updated" && last.event.value.changedFields, ["order_key"]);
    assert.equal(last.event.case === "updated" && last.event.value.after!.orderKey, moved!.orderKey);
  });

  test("two devices moving tasks at once: every move lands, keys stay unique, nothing else is renumbered", async () => {
    const ann = newUser("ann");
    const made = await create(
      ann,
      Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, "0")}`),
    );
    const [anchor] = made;
    // Both devices put a task right after the same anchor at the same moment, twice over, and then
    // scatter more moves at once.
    await Promise.all([
      service.tasks.moveTask({ id: made[5]!.id, place: { case: "afterId", value: anchor!.id } }, as(ann, "phone")),
      service.tasks.moveTask({ id: made[6]!.id, place: { case: "afterId", value: anchor!.id } }, as(ann, "laptop")),
    ]);
    const afterPair = await titles(ann);
    assert.deepEqual(afterPair.slice(0, 1), ["t00"]);
    assert.deepEqual(afterPair.slice(1, 3).sort(), ["t05", "t06"], "both right after the anchor");
    const moves = Array.from({ length: 16 }, (_, i) => ({ id: made[(i * 5 + 3) % 12]!.id, anchor: made[(i * 7 + 1) % 12]!.id, before: i % 2 === 0 })).filter((m) => m.id !== m.anchor);
    const results = await Promise.allSettled(
      moves.map((m, i) => service.tasks.moveTask({ id: m.id, place: { case: m.before ? "beforeId" : "afterId", value: m.anchor } }, as(ann, i % 2 ? "phone" : "laptop"))),
    );
    assert.deepEqual(
      results.filter((r) => r.status === "rejected"),
      [],
    );
    const listed = await manual(ann);
    assert.equal(listed.length, 12);
    assert.equal(new Set(listed.map((t) => t.orderKey)).size, 12, "keys are unique");
    assert.deepEqual(
      listed.map((t) => t.orderKey),
      listed.map((t) => t.orderKey).sort(),
      "listed in key order",
    );
    // Each task changed version only by its own moves.
    const movesOf = (id: string) => moves.filter((m) => m.id === id).length + (id === made[5]!.id || id === made[6]!.id ? 1 : 0);
    for (const t of listed) assert.equal(Number(t.version), Number(made.find((m) => m.id === t.id)!.version) + movesOf(t.id), t.title);
  });

  test("only among siblings: subtasks of one parent, or top-level tasks of one project and section", async () => {
    const [ann, bob] = [newUser("ann"), newUser("bob")];
    const home = (await service.projects.createProject({ name: "Home" }, as(ann))).project!;
    const sec = (await service.projects.createSection({ projectId: home.id, name: "Later" }, as(ann))).section!;
    const [p, q] = await create(ann, ["p", "q"], { projectId: home.id });
    const [s1, s2, s3] = await create(ann, ["s1", "s2", "s3"], { parentId: p!.id });
    const [l1] = await create(ann, ["l1"], { projectId: home.id, sectionId: sec.id });
    const [inbox] = await create(ann, ["inbox"]);
    const [bobs] = await create(bob, ["bob's"]);

    await service.tasks.moveTask({ id: s3!.id, place: { case: "beforeId", value: s1!.id } }, as(ann));
    assert.deepEqual(
      (await manual(ann, `project:home`)).filter((t) => t.parentId === p!.id).map((t) => t.title),
      ["s3", "s1", "s2"],
    );
    const refused = async (anchor: string, what: string) =>
      assert.deepEqual(rulesOf(await expectCode(service.tasks.moveTask({ id: s2!.id, place: { case: "afterId", value: anchor } }, as(ann)), Code.InvalidArgument, what)), [
        "after_id: after_id.sibling",
      ]);
    await refused(q!.id, "a top-level task of the project");
    await refused(s2!.id, "itself");
    await refused(bobs!.id, "a stranger's task");
    await refused("00000000-0000-4000-8000-0000000000ff", "no task");
    await expectCode(service.tasks.moveTask({ id: p!.id, place: { case: "beforeId", value: l1!.id } }, as(ann)), Code.InvalidArgument, "another section");
    await expectCode(service.tasks.moveTask({ id: p!.id, place: { case: "beforeId", value: inbox!.id } }, as(ann)), Code.InvalidArgument, "another project");
    await expectCode(service.tasks.moveTask({ id: inbox!.id, place: { case: "beforeId", value: p!.id } }, as(bob)), Code.NotFound, "a stranger moving");
    await expectCode(service.tasks.moveTask({ id: p!.id, place: { case: undefined } }, as(ann)), Code.InvalidArgument, "no place");

    // Joining other siblings puts a task after them: moved to a section, a project, out of a deleted section.
    const [l2] = await create(ann, ["l2"], { projectId: home.id, sectionId: sec.id });
    const inSection = (await service.tasks.updateTask({ task: { id: q!.id, sectionId: sec.id }, updateMask: { paths: ["section_id"] }, expectedVersion: q!.version }, as(ann))).task!;
    assert.ok(inSection.orderKey > l2!.orderKey);
    await service.tasks.moveTask({ id: inSection.id, place: { case: "beforeId", value: l1!.id } }, as(ann));
    await service.projects.deleteSection({ id: sec.id }, as(ann));
    assert.deepEqual(
      (await manual(ann, "project:home")).filter((t) => !t.parentId).map((t) => t.title),
      ["p", "q", "l1", "l2"],
    );
    await service.tasks.updateTask({ task: { id: inbox!.id, projectId: home.id }, updateMask: { paths: ["project_id"] }, expectedVersion: inbox!.version }, as(ann));
    assert.deepEqual(
      (await manual(ann, "project:home")).filter((t) => !t.parentId).map((t) => t.title),
      ["p", "q", "l1", "l2", "inbox"],
    );
    // Subtasks moved up by their parent's deletion follow its siblings, in their order.
    await service.tasks.deleteTask({ id: p!.id }, as(ann));
    assert.deepEqual(
      (await manual(ann, "project:home")).map((t) => t.title),
      ["q", "l1", "l2", "inbox", "s3", "s1", "s2"],
    );
  });

  test("a viewer of a shared project may not reorder it", async () => {
    const [owner, viewer] = [newUser("owner"), newUser("viewer")];
    const shared = (await service.projects.createProject({ name: "Shared" }, as(owner))).project!;
    const { invitation } = await service.projects.inviteMember({ projectId: shared.id, email: `${viewer}@example.com`, role: ProjectRole.VIEWER }, as(owner));
    await service.projects.acceptInvitation({ id: invitation!.id }, as(viewer));
    const [a, b] = await create(owner, ["a", "b"], { projectId: shared.id });
    await expectCode(service.tasks.moveTask({ id: b!.id, place: { case: "beforeId", value: a!.id } }, as(viewer)), Code.PermissionDenied);
    assert.deepEqual(await titles(viewer, "project:shared"), ["a", "b"]);
  });
});
