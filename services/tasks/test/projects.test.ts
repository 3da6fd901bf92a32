import { beforeAll, describe, onTestFinished, test } from "vitest";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, type Client } from "@connectrpc/connect";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { TaskService, WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { tasksUnderTest } from "./fixtures.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

const as = (userId: string) => ({ headers: { "x-user-id": userId, "x-user-email": `${userId}@example.com`, "x-time-zone": "UTC" } });

const fieldsOf = (err: ConnectError) => [...new Set(violatedFields(err))];

let seq = 0;
const newUser = (name: string) => `${name}-${process.pid}-${++seq}`;

/** A live WatchTasks stream of one user, read message by message. */
function watch(tasks: Client<typeof TaskService>, user: string) {
  const abort = new AbortController();
  const stream = tasks.watchTasks({}, { ...as(user), signal: abort.signal })[Symbol.asyncIterator]();
  return {
    async next(): Promise<WatchTasksResponse> {
      const r = await stream.next();
      assert.ok(!r.done, "stream ended early");
      return r.value;
    },
    /** Messages until `done` says stop (after a caught-up). */
    async until(done: (m: WatchTasksResponse) => boolean): Promise<WatchTasksResponse[]> {
      const seen: WatchTasksResponse[] = [];
      for (;;) {
        const m = await this.next();
        seen.push(m);
        if (done(m)) return seen;
      }
    },
    close: () => abort.abort(),
  };
}

describe("projects and sharing", () => {
  // Tasks stored before projects existed: the migration moves them into their users' Inboxes.
  const service = tasksUnderTest({
    storedBefore: {
      migration: "Migration20261203180000_projects",
      sql: `INSERT INTO tasks.tasks (id, user_id, title, created_at, updated_at) VALUES
         ('00000000-0000-4000-8000-000000000001', 'before-a', 'old a', now(), now()),
         ('00000000-0000-4000-8000-000000000002', 'before-a', 'old a 2', now(), now()),
         ('00000000-0000-4000-8000-000000000003', 'before-b', 'old b', now(), now())`,
    },
  });

  const outboxEvents = async () =>
    (await service.module.db.query<{ payload: Uint8Array }>(service.module.db.em(), `SELECT payload FROM tasks.outbox WHERE topic = 'task-events' ORDER BY id`)).map((r) =>
      fromBinary(TaskEventSchema, r.payload),
    );

  test("the migration put every existing task into its user's Inbox", async () => {
    const [inboxA] = (await service.projects.listProjects({}, as("before-a"))).projects;
    assert.equal(inboxA!.inbox, true);
    assert.equal(inboxA!.name, "Inbox");
    const { tasks: listed } = await service.tasks.listTasks({ query: "project:inbox" }, as("before-a"));
    assert.deepEqual(listed.map((t) => t.title).sort(), ["old a", "old a 2"]);
    assert.ok(listed.every((t) => t.projectId === inboxA!.id));
    const { task } = await service.tasks.getTask({ id: "00000000-0000-4000-8000-000000000003" }, as("before-b"));
    const [inboxB] = (await service.projects.listProjects({}, as("before-b"))).projects;
    assert.equal(task!.projectId, inboxB!.id);
    assert.notEqual(inboxA!.id, inboxB!.id);
  });

  test("projects: create, validate, rename, archive, order; the Inbox stays", async () => {
    const ann = newUser("ann");
    const { project } = await service.projects.createProject({ name: "  Home reno ", colour: "#AABBCC" }, as(ann));
    assert.equal(project!.name, "Home reno");
    assert.equal(project!.colour, "#aabbcc");
    assert.equal(project!.role, ProjectRole.ADMIN);
    assert.equal(project!.ownerId, ann);
    const second = (await service.projects.createProject({ name: "Work" }, as(ann))).project!;
    assert.ok(second.position > project!.position);
    assert.deepEqual(fieldsOf(await expectCode(service.projects.createProject({ name: "   " }, as(ann)), Code.InvalidArgument)), ["name"]);
    assert.deepEqual(fieldsOf(await expectCode(service.projects.createProject({ name: "x", colour: "red" }, as(ann)), Code.InvalidArgument)), ["colour"]);
    const list = (await service.projects.listProjects({}, as(ann))).projects;
    assert.deepEqual(
      list.map((p) => p.name),
      ["Inbox", "Home reno", "Work"],
    );
    const inbox = list[0]!;
    assert.deepEqual(fieldsOf(await expectCode(service.projects.updateProject({ project: { id: inbox.id, name: "Mine" }, updateMask: { paths: ["name"] } }, as(ann)), Code.InvalidArgument)), [
      "project.name",
    ]);
    // The Inbox sent back whole ("*") with another colour: its name and archived are named but unchanged.
    const recoloured = await service.projects.updateProject({ project: { ...inbox, colour: "#2a9d8f" }, updateMask: { paths: ["*"] } }, as(ann));
    assert.deepEqual([recoloured.project!.name, recoloured.project!.colour], ["Inbox", "#2a9d8f"]);
    assert.deepEqual(fieldsOf(await expectCode(service.projects.updateProject({ project: { ...inbox, archived: true }, updateMask: { paths: ["*"] } }, as(ann)), Code.InvalidArgument)), [
      "project.archived",
    ]);
    assert.deepEqual(fieldsOf(await expectCode(service.projects.updateProject({ project: { id: second.id, name: "" }, updateMask: { paths: ["name"] } }, as(ann)), Code.InvalidArgument)), [
      "project.name",
    ]);
    assert.deepEqual(fieldsOf(await expectCode(service.projects.updateProject({ project: { id: second.id }, updateMask: { paths: ["owner_id"] } }, as(ann)), Code.InvalidArgument)), ["update_mask"]);
    await expectCode(service.projects.deleteProject({ id: inbox.id }, as(ann)), Code.FailedPrecondition);
    const renamed = await service.projects.updateProject({ project: { id: second.id, name: "Office", archived: true }, updateMask: { paths: ["name", "archived"] } }, as(ann));
    assert.equal(renamed.project!.name, "Office");
    assert.deepEqual(
      (await service.projects.listProjects({}, as(ann))).projects.map((p) => p.name),
      ["Inbox", "Home reno"],
    );
    assert.deepEqual(
      (await service.projects.listProjects({ includeArchived: true }, as(ann))).projects.map((p) => p.name),
      ["Inbox", "Home reno", "Office"],
    );
  });

  test("tasks go to the Inbox by default, into projects and sections, move, and filter by project:, section: and assignee:", async () => {
    const ann = newUser("ann");
    const reno = (await service.projects.createProject({ name: "Home reno" }, as(ann))).project!;
    const paint = (await service.projects.createSection({ projectId: reno.id, name: "Paint jobs" }, as(ann))).section!;
    const inboxed = (await service.tasks.createTask({ title: "call mum" }, as(ann))).task!;
    const inbox = (await service.projects.listProjects({}, as(ann))).projects[0]!;
    assert.equal(inboxed.projectId, inbox.id);
    const wall = (await service.tasks.createTask({ title: "paint wall", projectId: reno.id, sectionId: paint.id, assigneeId: ann }, as(ann))).task!;
    assert.equal(wall.sectionId, paint.id);
    assert.equal(wall.assigneeId, ann);
    // A section of another project, or an assignee who is not a member: field errors.
    const other = (await service.projects.createProject({ name: "Other" }, as(ann))).project!;
    assert.deepEqual(fieldsOf(await expectCode(service.tasks.createTask({ title: "x", projectId: other.id, sectionId: paint.id }, as(ann)), Code.InvalidArgument)), ["section_id"]);
    assert.deepEqual(fieldsOf(await expectCode(service.tasks.createTask({ title: "x", projectId: reno.id, assigneeId: "nobody" }, as(ann)), Code.InvalidArgument)), ["assignee_id"]);
    await expectCode(service.tasks.createTask({ title: "x", projectId: "00000000-0000-4000-8000-0000000000ff" }, as(ann)), Code.NotFound);

    const titles = async (query: string) => (await service.tasks.listTasks({ query, orderBy: "title" }, as(ann))).tasks.map((t) => t.title);
    assert.deepEqual(await titles("project:home-reno"), ["paint wall"]);
    assert.deepEqual(await titles('project:"home reno"'), ["paint wall"]);
    assert.deepEqual(await titles("section:paint_jobs"), ["paint wall"]);
    assert.deepEqual(await titles("project:inbox"), ["call mum"]);
    assert.deepEqual(await titles("assignee:me"), ["paint wall"]);
    assert.equal(wall.assignerId, ann, "created assigned: its creator assigned it");
    assert.deepEqual(await titles("assigned by: me"), ["paint wall"]);
    assert.equal(inboxed.assignerId, "");
    assert.deepEqual(await titles("NOT assignee:me"), ["call mum"]);
    // Todoist's wildcard: any run of characters where the `*` is, in project, section and tag names.
    assert.deepEqual(await titles("#home*"), ["paint wall"], "#: the project whose name starts so");
    assert.deepEqual(await titles("/*jobs"), ["paint wall"]);
    assert.deepEqual(await titles("project:*reno"), ["paint wall"]);
    assert.deepEqual(await titles("-section:paint-jobs"), ["call mum"], "a task without a section is not in it");
    assert.deepEqual(await titles("project:nowhere"), []);
    await service.tasks.createTask({ title: "essay", tags: ["homework"] }, as(ann));
    await service.tasks.createTask({ title: "sweep", tags: ["x", "home_chores"] }, as(ann));
    await service.tasks.createTask({ title: "hoover", tags: ["homexchores"] }, as(ann));
    assert.deepEqual(await titles("@home*"), ["essay", "hoover", "sweep"]);
    assert.deepEqual(await titles("tag:home_*"), ["sweep"], "'_' is itself, not LIKE's any character");
    assert.deepEqual(await titles("@*chores -@x"), ["hoover"]);
    const explained = await service.tasks.listTasks({ query: "project:inbox assignee:me", explain: true }, as(ann));
    assert.equal(explained.explanation!.summary, 'project is "inbox" AND assigned to me');

    // Moving to another project leaves the section (unless one of the new project is named).
    const moved = await service.tasks.updateTask({ task: { id: wall.id, projectId: other.id }, updateMask: { paths: ["project_id"] }, expectedVersion: wall.version }, as(ann));
    assert.equal(moved.task!.projectId, other.id);
    assert.equal(moved.task!.sectionId, "");
    assert.deepEqual(await titles("project:other"), ["paint wall"]);
    const events = (await outboxEvents()).filter((e) => e.taskId === wall.id);
    const updated = events.at(-1)!;
    assert.equal(updated.event.case, "updated");
    assert.deepEqual(updated.event.case === "updated" && updated.event.value.changedFields, ["project_id"]);
    assert.equal(updated.projectId, other.id);

    // Deleting a section keeps its tasks in the project.
    const sec = (await service.projects.createSection({ projectId: other.id, name: "Soon" }, as(ann))).section!;
    await service.tasks.updateTask({ task: { id: wall.id, sectionId: sec.id }, updateMask: { paths: ["section_id"] }, expectedVersion: moved.task!.version }, as(ann));
    await service.projects.deleteSection({ id: sec.id }, as(ann));
    const after = (await service.tasks.getTask({ id: wall.id }, as(ann))).task!;
    assert.equal(after.sectionId, "");
    assert.equal(after.projectId, other.id);
    // Deleting a project deletes its tasks.
    await service.projects.deleteProject({ id: other.id }, as(ann));
    await expectCode(service.tasks.getTask({ id: wall.id }, as(ann)), Code.NotFound);
  });

  test("#name in a filter is the caller's project of that name, their own or shared with them, any other #name a tag; /name their section", async () => {
    const [ann, bob] = [newUser("ann"), newUser("bob")];
    const reno = (await service.projects.createProject({ name: "Home reno" }, as(ann))).project!;
    await service.tasks.createTask({ title: "paint wall", projectId: reno.id }, as(ann));
    await service.tasks.createTask({ title: "tagged like the project", tags: ["home-reno", "garden"] }, as(ann));
    await service.tasks.createTask({ title: "dig", tags: ["garden"] }, as(ann));
    const list = async (query: string, user = ann) => {
      const page = await service.tasks.listTasks({ query, orderBy: "title", explain: true }, as(user));
      return { titles: page.tasks.map((t) => t.title), readAs: page.explanation!.normalizedQuery };
    };
    assert.deepEqual(await list("#home-reno"), { titles: ["paint wall"], readAs: "project:home-reno" });
    assert.deepEqual(await list("#Home_Reno OR #garden"), { titles: ["dig", "paint wall", "tagged like the project"], readAs: "project:home-reno OR tag:garden" });
    assert.deepEqual(await list("tag:home-reno"), { titles: ["tagged like the project"], readAs: "tag:home-reno" });
    assert.deepEqual(await list("@home-reno"), { titles: ["tagged like the project"], readAs: "tag:home-reno" });
    assert.deepEqual(await list("-#home-reno #garden"), { titles: ["dig", "tagged like the project"], readAs: "NOT project:home-reno AND tag:garden" });
    assert.deepEqual((await list("#inbox")).titles, ["dig", "tagged like the project"]);
    // Todoist's ##project is the project whatever its tags; /section the caller's section of that name.
    assert.deepEqual(await list("##home-reno"), { titles: ["paint wall"], readAs: "project:home-reno" });
    assert.deepEqual(await list("##garden"), { titles: [], readAs: "project:garden" });
    const walls = (await service.projects.createSection({ projectId: reno.id, name: "Walls" }, as(ann))).section!;
    await service.tasks.createTask({ title: "sand the wall", projectId: reno.id, sectionId: walls.id }, as(ann));
    await service.tasks.createTask({ title: "walls / floors" }, as(ann));
    assert.deepEqual(await list("#home-reno /walls"), { titles: ["sand the wall"], readAs: "project:home-reno AND section:walls" });
    assert.deepEqual(await list("/floors"), { titles: ["walls / floors"], readAs: "/floors" });
    // Bob has no project of that name until Ann shares hers; then it is hers.
    assert.deepEqual(await list("#home-reno", bob), { titles: [], readAs: "tag:home-reno" });
    const { invitation } = await service.projects.inviteMember({ projectId: reno.id, email: `${bob}@example.com`, role: ProjectRole.VIEWER }, as(ann));
    await service.projects.acceptInvitation({ id: invitation!.id }, as(bob));
    assert.deepEqual(await list("#home-reno", bob), { titles: ["paint wall", "sand the wall"], readAs: "project:home-reno" });
    assert.deepEqual(await list("/walls", bob), { titles: ["sand the wall"], readAs: "section:walls" });
  });

  test("a member's list merges their own tasks and each shared project's, page by page, in every order", async () => {
    const [owner, other, member] = [newUser("owner"), newUser("other"), newUser("member")];
    const shared = [(await service.projects.createProject({ name: "One" }, as(owner))).project!, (await service.projects.createProject({ name: "Two" }, as(other))).project!];
    for (const [p, by] of [
      [shared[0]!, owner],
      [shared[1]!, other],
    ] as const) {
      const { invitation } = await service.projects.inviteMember({ projectId: p.id, email: `${member}@example.com`, role: ProjectRole.VIEWER }, as(by));
      await service.projects.acceptInvitation({ id: invitation!.id }, as(member));
    }
    const titles: string[] = [];
    const add = async (user: string, projectId: string, n: number) => {
      const title = `t${titles.length.toString().padStart(2, "0")}`;
      titles.push(title);
      const due = n % 4 === 0 ? {} : { due: { case: "dueDate" as const, value: `2026-04-${String(((n * 7) % 28) + 1).padStart(2, "0")}` } };
      await service.tasks.createTask({ title, projectId, priority: 1 + (n % 4), ...due }, as(user));
    };
    for (let n = 0; n < 7; n++) await add(member, "", n);
    for (let n = 0; n < 8; n++) await add(owner, shared[0]!.id, n + 7);
    for (let n = 0; n < 6; n++) await add(other, shared[1]!.id, n + 15);
    await add(owner, "", 30); // the owner's Inbox: not the member's

    for (const orderBy of ["due", "due desc", "priority", "title desc", "created"]) {
      const all = (await service.tasks.listTasks({ orderBy, pageSize: 500 }, as(member))).tasks.map((t) => t.title);
      assert.equal(all.length, 21, orderBy);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const page = await service.tasks.listTasks({ orderBy, pageSize: 4, pageToken }, as(member));
        paged.push(...page.tasks.map((t) => t.title));
        pageToken = page.nextPageToken;
      } while (pageToken);
      assert.deepEqual(paged, all, `pages of ${orderBy}`);
    }
    const byTitle = (await service.tasks.listTasks({ orderBy: "title", pageSize: 500 }, as(member))).tasks.map((t) => t.title);
    assert.deepEqual(byTitle, titles.slice(0, 21));
  });

  test("a page of one's own tasks is one statement; joining a project puts its tasks on the next page, leaving it takes them off", async () => {
    const [owner, member] = [newUser("owner"), newUser("member")];
    const { project } = await service.projects.createProject({ name: "Joined" }, as(owner));
    for (const title of ["mine 1", "mine 2", "mine 3"]) await service.tasks.createTask({ title }, as(member));
    for (const title of ["theirs 1", "theirs 2"]) await service.tasks.createTask({ title, projectId: project!.id }, as(owner));
    const statements = countStatements();
    onTestFinished(statements.stop);
    const titles = async (query = "") => {
      statements.n = 0;
      return (await service.tasks.listTasks({ query, orderBy: "title", pageSize: 2 }, as(member))).tasks.map((t) => t.title);
    };

    assert.deepEqual(await titles(), ["mine 1", "mine 2"]);
    assert.equal(statements.n, 1, "own tasks: the page and the projects' check in one statement");
    assert.deepEqual(await titles("nothinglikethis"), []);
    assert.equal(statements.n, 1, "an empty page too");

    const { invitation } = await service.projects.inviteMember({ projectId: project!.id, email: `${member}@example.com`, role: ProjectRole.VIEWER }, as(owner));
    await service.projects.acceptInvitation({ id: invitation!.id }, as(member));
    assert.deepEqual(await titles("theirs"), ["theirs 1", "theirs 2"]);
    assert.equal(statements.n, 3, "the check finds the project: its projects, then the merged page");
    assert.deepEqual(await titles("theirs"), ["theirs 1", "theirs 2"]);
    assert.equal(statements.n, 2, "a member seen before: its projects, then the merged page");

    await service.projects.removeMember({ projectId: project!.id, userId: member }, as(owner));
    assert.deepEqual(await titles("theirs"), []);
    assert.deepEqual(await titles(), ["mine 1", "mine 2"]);
    assert.equal(statements.n, 1, "no project shared any more: one statement again");
  });

  /** Counts the statements of the tasks module's database from here on. */
  function countStatements() {
    const executor = service.module.db.orm.em.getConnection().getClient().getExecutor();
    const executeQuery = executor.executeQuery;
    const counter = {
      n: 0,
      stop: () => {
        Object.assign(executor, { executeQuery });
      },
    };
    Object.assign(executor, {
      executeQuery: (...args: Parameters<typeof executeQuery>) => {
        counter.n++;
        return executeQuery.apply(executor, args);
      },
    });
    return counter;
  }

  describe("a shared project, every RPC for every role", () => {
    const owner = newUser("owner");
    const members = { viewer: newUser("viewer"), editor: newUser("editor"), admin: newUser("admin") };
    const stranger = newUser("stranger");
    let projectId: string;
    let taskId: string;

    beforeAll(async () => {
      projectId = (await service.projects.createProject({ name: "Shared" }, as(owner))).project!.id;
      taskId = (await service.tasks.createTask({ title: "shared task" }, as(owner)).then(() => service.tasks.createTask({ title: "shared task", projectId }, as(owner)))).task!.id;
      for (const [role, user] of Object.entries(members)) {
        const roleValue = { viewer: ProjectRole.VIEWER, editor: ProjectRole.EDITOR, admin: ProjectRole.ADMIN }[role]!;
        const { invitation } = await service.projects.inviteMember({ projectId, email: `${user}@example.com`, role: roleValue }, as(owner));
        // Only the addressee sees and answers the invitation.
        assert.deepEqual((await service.projects.listInvitations({}, as(stranger))).invitations, []);
        await expectCode(service.projects.acceptInvitation({ id: invitation!.id }, as(stranger)), Code.NotFound, "a stranger accepting");
        const mine = (await service.projects.listInvitations({}, as(user))).invitations;
        assert.deepEqual(
          mine.map((i) => [i.projectName, i.role]),
          [["Shared", roleValue]],
        );
        const accepted = await service.projects.acceptInvitation({ id: invitation!.id }, as(user));
        assert.equal(accepted.project!.role, roleValue);
      }
    });

    const roles = ["viewer", "editor", "admin", "stranger"] as const;
    const userOf = (role: (typeof roles)[number]) => (role === "stranger" ? stranger : members[role]);
    const canRead = (role: string) => role !== "stranger";
    const canEdit = (role: string) => role === "editor" || role === "admin";
    const refusal = (role: string) => (role === "stranger" ? Code.NotFound : Code.PermissionDenied);

    for (const role of roles) {
      test(`${role}: TaskService`, async () => {
        const user = userOf(role);
        const check = async <T>(what: string, allowed: boolean, call: () => Promise<T>) => {
          if (allowed) return call();
          await expectCode(call(), refusal(role), `${role} ${what}`);
          return undefined;
        };
        // Reads: a stranger guessing the id learns nothing.
        if (canRead(role)) assert.equal((await service.tasks.getTask({ id: taskId }, as(user))).task!.title.startsWith("shared task"), true);
        else await expectCode(service.tasks.getTask({ id: taskId }, as(user)), Code.NotFound, `${role} GetTask`);
        const listed = (await service.tasks.listTasks({ query: "project:shared" }, as(user))).tasks.map((t) => t.id);
        assert.equal(listed.includes(taskId), canRead(role), `${role} ListTasks`);
        assert.equal(
          (await service.tasks.listTasks({}, as(user))).tasks.some((t) => t.id === taskId),
          canRead(role),
        );

        const created = await check("CreateTask", canEdit(role), () => service.tasks.createTask({ title: `by ${role}`, projectId }, as(user)));
        // The refusal names the project as its members know it, not by its id.
        if (role === "viewer") {
          const refused = await expectCode(service.tasks.createTask({ title: "x", projectId }, as(user)), Code.PermissionDenied);
          assert.equal(refused.rawMessage, "you are a viewer of “Shared”: only an editor may do this (an admin of the project can change your role)");
        }
        if (created) {
          assert.equal(created.task!.projectId, projectId);
          const events = await outboxEvents();
          const event = events.find((e) => e.taskId === created.task!.id)!;
          assert.equal(event.userId, owner, "the task is the owner's");
          assert.equal(event.actorId, user, "the history says who did it");
          assert.equal(event.projectId, projectId);
        }
        const current = (await service.tasks.getTask({ id: taskId }, as(owner))).task!;
        await check("UpdateTask", canEdit(role), () =>
          service.tasks.updateTask({ task: { id: taskId, title: `shared task (${role})` }, updateMask: { paths: ["title"] }, expectedVersion: current.version }, as(user)),
        );
        await check("CompleteTask", canEdit(role), () => service.tasks.completeTask({ id: taskId }, as(user)));
        await check("ReopenTask", canEdit(role), () => service.tasks.reopenTask({ id: taskId }, as(user)));
        const doomed = (await service.tasks.createTask({ title: "to delete", projectId }, as(owner))).task!;
        await check("DeleteTask", canEdit(role), () => service.tasks.deleteTask({ id: doomed.id }, as(user)));
        // Assigning to a member; a viewer cannot.
        const version = (await service.tasks.getTask({ id: taskId }, as(owner))).task!.version;
        await check("UpdateTask assignee", canEdit(role), () =>
          service.tasks.updateTask({ task: { id: taskId, assigneeId: user }, updateMask: { paths: ["assignee_id"] }, expectedVersion: version }, as(user)),
        );
        if (canEdit(role)) {
          assert.ok((await service.tasks.listTasks({ query: "assignee:me" }, as(user))).tasks.some((t) => t.id === taskId));
          // Who assigned it (Todoist's `assigned by:`), kept while only other fields change.
          const given = (await service.tasks.getTask({ id: taskId }, as(owner))).task!;
          await service.tasks.updateTask({ task: { id: taskId, title: "shared task" }, updateMask: { paths: ["title"] }, expectedVersion: given.version }, as(owner));
          assert.equal((await service.tasks.getTask({ id: taskId }, as(owner))).task!.assignerId, user);
          assert.ok((await service.tasks.listTasks({ query: "assigned by: me" }, as(user))).tasks.some((t) => t.id === taskId));
          assert.ok(!(await service.tasks.listTasks({ query: "assigned by: me" }, as(owner))).tasks.some((t) => t.id === taskId));
        }
        const latest = (await service.tasks.getTask({ id: taskId }, as(owner))).task!.version;
        await service.tasks.updateTask({ task: { id: taskId, assigneeId: "" }, updateMask: { paths: ["assignee_id"] }, expectedVersion: latest }, as(owner));
        assert.equal((await service.tasks.getTask({ id: taskId }, as(owner))).task!.assignerId, "", "unassigned: nobody assigned it");
      });

      test(`${role}: ProjectService`, async () => {
        const user = userOf(role);
        const admin = role === "admin";
        const check = async <T>(what: string, allowed: boolean, call: () => Promise<T>) => {
          if (allowed) return call();
          await expectCode(call(), refusal(role), `${role} ${what}`);
          return undefined;
        };
        await check("GetProject", canRead(role), () => service.projects.getProject({ id: projectId }, as(user)));
        await check("ListSections", canRead(role), () => service.projects.listSections({ projectId }, as(user)));
        await check("ListMembers", canRead(role), () => service.projects.listMembers({ projectId }, as(user)));
        assert.equal(
          (await service.projects.listProjects({}, as(user))).projects.some((p) => p.id === projectId),
          canRead(role),
        );
        const section = await check("CreateSection", canEdit(role), () => service.projects.createSection({ projectId, name: `by ${role}` }, as(user)));
        const anySection = section?.section ?? (await service.projects.createSection({ projectId, name: `for ${role}` }, as(owner))).section!;
        await check("UpdateSection", canEdit(role), () => service.projects.updateSection({ section: { id: anySection.id, name: "renamed" }, updateMask: { paths: ["name"] } }, as(user)));
        await check("DeleteSection", canEdit(role), () => service.projects.deleteSection({ id: anySection.id }, as(user)));
        await check("UpdateProject", admin, () => service.projects.updateProject({ project: { id: projectId, colour: "#112233" }, updateMask: { paths: ["colour"] } }, as(user)));
        await check("InviteMember", admin, () => service.projects.inviteMember({ projectId, email: `guest-of-${role}@example.com`, role: ProjectRole.VIEWER }, as(user)));
        await check("UpdateMember", admin, () => service.projects.updateMember({ projectId, userId: members.viewer, role: ProjectRole.VIEWER }, as(user)));
        // Only the owner deletes the project; nobody removes the owner.
        await expectCode(service.projects.deleteProject({ id: projectId }, as(user)), role === "admin" ? Code.PermissionDenied : refusal(role), `${role} DeleteProject`);
        if (canRead(role)) await expectCode(service.projects.removeMember({ projectId, userId: owner }, as(user)), admin ? Code.FailedPrecondition : Code.PermissionDenied);
        else await expectCode(service.projects.removeMember({ projectId, userId: owner }, as(user)), Code.NotFound);
      });
    }

    test("live sync fans out to every member; a removed member loses access at once, open streams included", async () => {
      const editor = members.editor;
      const viewerFeed = watch(service.tasks, members.viewer);
      const editorFeed = watch(service.tasks, editor);
      assert.equal((await viewerFeed.next()).change.case, "caughtUp");
      assert.equal((await editorFeed.next()).change.case, "caughtUp");
      const { task } = await service.tasks.createTask({ title: "fanned out", projectId }, as(members.admin));
      for (const feed of [viewerFeed, editorFeed]) {
        const got = await feed.next();
        assert.equal(got.change.case, "upserted");
        assert.equal(got.change.case === "upserted" && got.change.value.id, task!.id);
      }
      const before = (await service.tasks.listTasks({ query: "project:shared status:all", pageSize: 500 }, as(owner))).tasks.map((t) => t.id).sort();

      await service.projects.removeMember({ projectId, userId: editor }, as(owner));
      // The removed member's open stream deletes every task of the project; the viewer's gets nothing.
      const removed = new Set<string>();
      await editorFeed.until((m) => {
        if (m.change.case === "deletedTaskId") removed.add(m.change.value);
        return removed.size === before.length;
      });
      assert.deepEqual([...removed].sort(), before);
      await expectCode(service.tasks.getTask({ id: task!.id }, as(editor)), Code.NotFound, "removed GetTask");
      await expectCode(service.tasks.completeTask({ id: task!.id }, as(editor)), Code.NotFound, "removed CompleteTask");
      assert.equal((await service.tasks.listTasks({ query: "project:shared" }, as(editor))).tasks.length, 0);
      await expectCode(service.projects.getProject({ id: projectId }, as(editor)), Code.NotFound);

      // Later changes reach the remaining members, not the removed one.
      await service.tasks.updateTask({ task: { id: task!.id, title: "after removal" }, updateMask: { paths: ["title"] }, expectedVersion: task!.version }, as(owner));
      const seen = await viewerFeed.next();
      assert.equal(seen.change.case === "upserted" && seen.change.value.title, "after removal");
      const marker = (await service.tasks.createTask({ title: "editor's own" }, as(editor))).task!;
      const next = await editorFeed.next();
      assert.equal(next.change.case === "upserted" && next.change.value.id, marker.id, "the removed member's next message is their own task, not the project's");

      // Leaving works the same way, and an invitation can be declined.
      await service.projects.removeMember({ projectId, userId: members.viewer }, as(members.viewer));
      await expectCode(service.tasks.getTask({ id: task!.id }, as(members.viewer)), Code.NotFound);
      const { invitation } = await service.projects.inviteMember({ projectId, email: `${editor}@example.com`, role: ProjectRole.EDITOR }, as(owner));
      await service.projects.declineInvitation({ id: invitation!.id }, as(editor));
      assert.deepEqual((await service.projects.listInvitations({}, as(editor))).invitations, []);
      viewerFeed.close();
      editorFeed.close();
    });

    test("a member moves a task of their Inbox into the shared project: the owner's from then on", async () => {
      const admin = members.admin;
      const mine = (await service.tasks.createTask({ title: "from my inbox" }, as(admin))).task!;
      const moved = (await service.tasks.updateTask({ task: { id: mine.id, projectId }, updateMask: { paths: ["project_id"] }, expectedVersion: mine.version }, as(admin))).task!;
      assert.equal(moved.projectId, projectId);
      assert.ok((await service.tasks.listTasks({ query: "project:shared" }, as(owner))).tasks.some((t) => t.id === mine.id));
      await service.tasks.completeTask({ id: mine.id }, as(owner));
      const last = (await outboxEvents()).filter((e) => e.taskId === mine.id).at(-1)!;
      assert.equal(last.userId, owner);
      assert.equal(last.actorId, owner);
    });

    test("a task moved to a project its assignee is not a member of goes unassigned, as its subtasks do; naming an assignee there still must name a member", async () => {
      const assignee = members.admin;
      const task = (await service.tasks.createTask({ title: "assigned, then moved", projectId, assigneeId: assignee }, as(owner))).task!;
      const step = (await service.tasks.createTask({ title: "its step", parentId: task.id, assigneeId: assignee }, as(owner))).task!;
      assert.equal(step.assigneeId, assignee);
      const elsewhere = (await service.projects.createProject({ name: "Owner only" }, as(owner))).project!;
      const moved = (await service.tasks.updateTask({ task: { id: task.id, projectId: elsewhere.id }, updateMask: { paths: ["project_id"] }, expectedVersion: task.version }, as(owner))).task!;
      assert.equal(moved.projectId, elsewhere.id);
      assert.equal(moved.assigneeId, "");
      assert.equal((await service.tasks.getTask({ id: step.id }, as(owner))).task!.assigneeId, "");
      const event = (await outboxEvents()).filter((e) => e.taskId === task.id).at(-1)!;
      assert.deepEqual(event.event.case === "updated" && event.event.value.changedFields, ["project_id", "assignee_id"]);
      // Moved back with its assignee named: a member of the shared project, so it is kept.
      const back = (
        await service.tasks.updateTask({ task: { id: task.id, projectId, assigneeId: assignee }, updateMask: { paths: ["project_id", "assignee_id"] }, expectedVersion: moved.version }, as(owner))
      ).task!;
      assert.equal(back.assigneeId, assignee);
      const stranger = newUser("stranger");
      assert.deepEqual(
        fieldsOf(
          await expectCode(
            service.tasks.updateTask(
              { task: { id: task.id, projectId: elsewhere.id, assigneeId: stranger }, updateMask: { paths: ["project_id", "assignee_id"] }, expectedVersion: back.version },
              as(owner),
            ),
            Code.InvalidArgument,
          ),
        ),
        ["task.assignee_id"],
      );
    });
  });
});
