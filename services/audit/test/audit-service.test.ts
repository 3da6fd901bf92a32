// The audit service on PostgreSQL with the embedded event bus, next to the real task service on
// the same database: what the task service does shows up in ListActivity; redelivered events add
// nothing; paging, kinds, isolation between users, undo through the task service, retention purge,
// and validation.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { toJson } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { openEmbeddedBus, type EventBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind, type ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { Priority, TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { startAuditModule } from "../src/index.js";
import { eventually, recordOf, reminderEvent, taskEvent } from "./fixtures.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

const logger = createLogger("audit-test");
const DAY = 86_400_000;
let userSeq = 0;
const newUser = () => `audit-${process.pid}-${++userSeq}`;
const as = (userId: string, device = "phone") => ({ headers: { "x-user-id": userId, "x-device": device } });
const validated = { router: { interceptors: [createValidateInterceptor()] } };

describe("AuditService", () => {
  let bus: EventBus;
  let tasks: Client<typeof TaskService>;
  let projects: Client<typeof ProjectService>;
  let audit: Client<typeof AuditService>;
  let auditModule: Awaited<ReturnType<typeof startAuditModule>>;
  let clock = new Date();
  let databaseUrl: string;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const db = await freshDatabase();
    stops.push(() => db.drop());
    databaseUrl = db.url;
    bus = await openEmbeddedBus({ url: db.url, logger });
    stops.push(() => bus.close());
    const tasksModule = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (records) => bus.publish(records) } });
    stops.push(() => tasksModule.stop());
    const tasksTransport = createRouterTransport(tasksModule.routes, validated);
    tasks = createClient(TaskService, tasksTransport);
    projects = createClient(ProjectService, tasksTransport);
    auditModule = await startAuditModule({ databaseUrl: db.url, events: bus, logger, now: () => clock, purgeBatchSize: 7, tasks });
    stops.push(() => auditModule.stop());
    audit = createClient(AuditService, createRouterTransport(auditModule.routes, validated));
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  /** The task's entries once there are `count` of them, newest first. */
  const entriesOf = (userId: string, taskId: string, count: number) =>
    eventually(`${count} entries for task ${taskId}`, async () => {
      const { entries } = await audit.listActivity({ taskId, pageSize: 500 }, as(userId));
      return entries.length >= count ? entries : undefined;
    });

  test("create, update, complete, reopen, delete through the task service read back newest first with before/after", async () => {
    const alice = newUser();
    const { task } = await tasks.createTask({ title: "Pay rent", priority: Priority.HIGH, tags: ["home"], timeZone: "Europe/Berlin" }, as(alice, "web"));
    const due = timestampFromDate(new Date("2026-12-03T08:00:00Z"));
    const { task: v2 } = await tasks.updateTask(
      { task: { id: task!.id, priority: Priority.LOW, due: { case: "dueTime", value: due } }, updateMask: { paths: ["priority", "due_time"] }, expectedVersion: 1n },
      as(alice),
    );
    const { task: v3 } = await tasks.completeTask({ id: task!.id }, as(alice));
    await tasks.reopenTask({ id: task!.id }, as(alice));
    await tasks.deleteTask({ id: task!.id }, as(alice));

    const entries = await entriesOf(alice, task!.id, 5);
    assert.deepEqual(
      entries.map((e) => e.kind),
      [ActivityKind.TASK_DELETED, ActivityKind.TASK_REOPENED, ActivityKind.TASK_COMPLETED, ActivityKind.TASK_UPDATED, ActivityKind.TASK_CREATED],
    );
    assert.deepEqual(
      entries.map((e) => e.summary),
      ['deleted "Pay rent"', "reopened", "completed", "priority high → low; due set to Thu 3 Dec 09:00", 'created "Pay rent"'],
    );
    const update = entries[3]!;
    assert.equal(update.device, "phone");
    assert.equal(update.actor, alice);
    assert.equal(update.taskVersion, v2!.version);
    assert.equal(update.taskTitle, "Pay rent");
    assert.deepEqual(
      update.changes.map((c) => [c.field, toJson(ValueSchema, c.before!), toJson(ValueSchema, c.after!)]),
      [
        ["priority", "PRIORITY_HIGH", "PRIORITY_LOW"],
        ["due", null, "2026-12-03T08:00:00Z"],
      ],
    );
    assert.equal(entries[4]!.device, "web");
    assert.equal(entries[2]!.taskVersion, v3!.version);
    assert.ok(entries.every((e, i) => i === 0 || e.occurTime!.seconds <= entries[i - 1]!.occurTime!.seconds));
  });

  test("a redelivered event is recorded once", async () => {
    const alice = newUser();
    const taskId = crypto.randomUUID();
    const event = taskEvent(alice, taskId, 1, { case: "created", value: { task: { id: taskId, title: "Once" } } });
    await bus.publish([recordOf(event)]);
    await bus.publish([recordOf(event), recordOf(event)]);
    const marker = taskEvent(alice, taskId, 2, { case: "completed", value: { task: { id: taskId, title: "Once" } } });
    await bus.publish([recordOf(marker)]);
    // The marker was published after the copies, on the same key: once it is in, so are they.
    const entries = await entriesOf(alice, taskId, 2);
    assert.deepEqual(
      entries.map((e) => e.id),
      [marker.eventId, event.eventId],
    );
  });

  test("events read in one batch: an entry without a title inherits it from its task's creation in the same batch, and the batch redelivered adds nothing", async () => {
    const alice = newUser();
    const taskId = crypto.randomUUID();
    const occurredAt = new Date();
    const created = taskEvent(alice, taskId, 1, { case: "created", value: { task: { id: taskId, title: "Water plants", timeZone: "America/Chicago" } } }, occurredAt);
    const comment = { id: crypto.randomUUID(), taskId, authorId: alice, body: "the ferns too" };
    // No title in the event (a producer that leaves it out): the entry takes the task's last known one.
    const commented = taskEvent(alice, taskId, 1, { case: "commentAdded", value: { comment, taskTitle: "" } }, new Date(occurredAt.getTime() + 1));
    // One publish: the reader finds them side by side and hands them over as one batch.
    await bus.publish([recordOf(created), recordOf(commented)]);
    const [second, first] = await entriesOf(alice, taskId, 2);
    assert.deepEqual([first!.kind, second!.kind], [ActivityKind.TASK_CREATED, ActivityKind.COMMENT_ADDED]);
    assert.equal(second!.taskTitle, "Water plants");
    // The same batch again (two statements in one transaction then): nothing is recorded twice.
    await bus.publish([recordOf(created), recordOf(commented)]);
    const marker = taskEvent(alice, taskId, 2, { case: "completed", value: { task: { id: taskId, title: "Water plants" } } }, new Date(occurredAt.getTime() + 2));
    await bus.publish([recordOf(marker)]);
    const entries = await entriesOf(alice, taskId, 3);
    assert.deepEqual(
      entries.map((e) => e.id),
      [marker.eventId, commented.eventId, created.eventId],
    );
  });

  test("keyset pages cover the history exactly once, newest first; kinds filter; per task and per user", async () => {
    const alice = newUser();
    const start = Date.parse("2026-10-01T00:00:00Z");
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    // Several entries share an instant: the order must still be total.
    const events = Array.from({ length: 123 }, (_, i) =>
      taskEvent(
        alice,
        ids[i % 2]!,
        i + 1,
        i % 3 === 0 ? { case: "completed", value: { task: { title: `t${i}` } } } : { case: "reopened", value: { task: { title: `t${i}` } } },
        new Date(start + Math.floor(i / 4) * 1000),
      ),
    );
    clock = new Date(start + 10 * DAY);
    await bus.publish(events.map(recordOf));
    await eventually("all 123 entries", async () => ((await audit.listActivity({ pageSize: 500 }, as(alice))).entries.length === 123 ? true : undefined));

    const seen: ActivityEntry[] = [];
    let pageToken = "";
    do {
      const page = await audit.listActivity({ pageSize: 20, pageToken }, as(alice));
      assert.ok(page.entries.length <= 20);
      seen.push(...page.entries);
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(seen.length, 123);
    assert.equal(new Set(seen.map((e) => e.id)).size, 123);
    const expected = events.map((e) => e.eventId).reverse();
    assert.deepEqual(
      seen.map((e) => e.id),
      expected,
      "newest first; ties in recording order",
    );

    const completedOnly = await audit.listActivity({ kinds: [ActivityKind.TASK_COMPLETED], pageSize: 500 }, as(alice));
    assert.equal(completedOnly.entries.length, 41);
    assert.ok(completedOnly.entries.every((e) => e.kind === ActivityKind.TASK_COMPLETED));

    const firstTask = await audit.listActivity({ taskId: ids[0], pageSize: 30 }, as(alice));
    assert.equal(firstTask.entries.length, 30);
    assert.ok(firstTask.entries.every((e) => e.taskId === ids[0]));
    const rest = await audit.listActivity({ taskId: ids[0], pageSize: 500, pageToken: firstTask.nextPageToken }, as(alice));
    assert.equal(firstTask.entries.length + rest.entries.length, 62);
    assert.equal(rest.nextPageToken, "");
  });

  test("user B never sees user A's activity, not even with A's task id", async () => {
    const alice = newUser();
    const bob = newUser();
    const { task } = await tasks.createTask({ title: "Alice's secret" }, as(alice));
    await entriesOf(alice, task!.id, 1);
    assert.deepEqual((await audit.listActivity({ taskId: task!.id }, as(bob))).entries, []);
    assert.deepEqual((await audit.listActivity({}, as(bob))).entries, []);
    await expectCode(audit.listActivity({}, {}), Code.Unauthenticated);
  });

  test("each entry's undo, sent to the task service, reverts the change", async () => {
    const alice = newUser();
    const { task } = await tasks.createTask({ title: "Renew passport", priority: Priority.HIGH, tags: ["admin"], due: { case: "dueDate", value: "2026-12-03" }, timeZone: "Europe/Berlin" }, as(alice));
    await tasks.updateTask(
      {
        task: { id: task!.id, priority: Priority.LOW, tags: ["later"], due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-10T09:00:00Z")) }, notes: "bring photos" },
        updateMask: { paths: ["priority", "tags", "due_time", "notes"] },
        expectedVersion: 1n,
      },
      as(alice),
    );
    // Another field changes afterwards: the undo still applies (per-field merge).
    await tasks.updateTask({ task: { id: task!.id, title: "Renew passport now" }, updateMask: { paths: ["title"] }, expectedVersion: 2n }, as(alice));
    const [, update] = await entriesOf(alice, task!.id, 3);
    assert.equal(update!.undo?.request.case, "updateTask");
    await tasks.updateTask(update!.undo.request.value, as(alice));
    const { task: undone } = await tasks.getTask({ id: task!.id }, as(alice));
    assert.equal(undone!.priority, Priority.HIGH);
    assert.deepEqual(undone!.tags, ["admin"]);
    assert.deepEqual(undone!.due, { case: "dueDate", value: "2026-12-03" });
    assert.equal(undone!.notes, "");
    assert.equal(undone!.title, "Renew passport now", "the later change is kept");
    // The undo is itself recorded, and undoing the same change twice is refused, not repeated.
    const [latest] = await entriesOf(alice, task!.id, 4);
    assert.equal(latest!.summary, "notes cleared; priority low → high; tag admin added, tag later removed; due moved from Thu 10 Dec 10:00 to Thu 3 Dec");
    await expectCode(tasks.updateTask(update!.undo.request.value, as(alice)), Code.Aborted);

    await tasks.completeTask({ id: task!.id }, as(alice));
    const [completed] = await entriesOf(alice, task!.id, 5);
    assert.equal(completed!.undo?.request.case, "reopenTask");
    await tasks.reopenTask(completed!.undo.request.value, as(alice));
    assert.equal((await tasks.getTask({ id: task!.id }, as(alice))).task!.status, TaskStatus.OPEN);

    await tasks.deleteTask({ id: task!.id }, as(alice));
    const [deleted] = await entriesOf(alice, task!.id, 7);
    assert.equal(deleted!.undo?.request.case, "restoreTask");
    const restored = await tasks.restoreTask(deleted!.undo.request.value, as(alice));
    const again = await tasks.restoreTask(deleted!.undo.request.value, as(alice));
    assert.equal(again.task!.id, restored.task!.id, "restoring twice restores one task");
    assert.equal(restored.task!.id, task!.id, "under its id: its history goes on");
    assert.equal(restored.task!.title, "Renew passport now");
    assert.deepEqual(restored.task!.tags, ["admin"]);

    const [created] = await entriesOf(alice, restored.task!.id, 8);
    assert.equal(created!.summary, 'restored "Renew passport now"');
    assert.equal(created!.undo?.request.case, "deleteTask");
    await tasks.deleteTask(created!.undo.request.value, as(alice));
    await expectCode(tasks.getTask({ id: restored.task!.id }, as(alice)), Code.NotFound);
  });

  test("a comment, its edit and its deletion are entries with their author, read by every member, with no undo", async () => {
    const [owner, viewer] = [newUser(), newUser()];
    const withEmail = (user: string, device = "phone") => ({ headers: { ...as(user, device).headers, "x-user-email": `${user}@example.com` } });
    const project = (await projects.createProject({ name: "Shared" }, withEmail(owner))).project!;
    const { invitation } = await projects.inviteMember({ projectId: project.id, email: `${viewer}@example.com`, role: ProjectRole.VIEWER }, withEmail(owner));
    await projects.acceptInvitation({ id: invitation!.id }, withEmail(viewer));
    const { task } = await tasks.createTask({ title: "Paint the hall", projectId: project.id }, withEmail(owner));
    const { comment } = await tasks.addComment({ taskId: task!.id, body: "Which white?" }, withEmail(viewer, "tablet"));
    for (const reader of [owner, viewer]) {
      const [entry] = await entriesOf(reader, task!.id, 2);
      assert.equal(entry!.kind, ActivityKind.COMMENT_ADDED);
      assert.equal(entry!.actor, viewer);
      assert.equal(entry!.device, "tablet");
      assert.equal(entry!.summary, 'commented "Which white?"');
      assert.equal(entry!.taskTitle, "Paint the hall");
      assert.equal(entry!.comment?.id, comment!.id);
      assert.equal(entry!.comment?.body, "Which white?");
      assert.equal(entry!.undo, undefined);
    }
    await tasks.editComment({ taskId: task!.id, commentId: comment!.id, body: "Chalk white" }, withEmail(viewer));
    await tasks.deleteComment({ taskId: task!.id, commentId: comment!.id }, withEmail(viewer));
    const [deleted, edited] = await entriesOf(owner, task!.id, 4);
    assert.equal(edited!.kind, ActivityKind.COMMENT_EDITED);
    assert.equal(edited!.summary, 'edited a comment: "Chalk white"');
    assert.equal(deleted!.kind, ActivityKind.COMMENT_DELETED);
    assert.equal(deleted!.summary, "deleted a comment");
    assert.equal(deleted!.comment?.body, "");
    assert.ok([edited, deleted].every((e) => e!.actor === viewer));
  });

  test("reminder events are recorded with the task's title and zone", async () => {
    const alice = newUser();
    const { task } = await tasks.createTask({ title: "Call mum", due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-04T18:00:00Z")) }, timeZone: "Asia/Tokyo" }, as(alice));
    await entriesOf(alice, task!.id, 1);
    const fireAt = timestampFromDate(new Date("2026-12-04T17:30:00Z"));
    await bus.publish([
      recordOf(reminderEvent(alice, task!.id, "r1", { case: "scheduled", value: { fireAt } })),
      recordOf(reminderEvent(alice, task!.id, "r1", { case: "fired", value: { scheduledFor: fireAt, firedAt: fireAt, taskTitle: "Call mum" } })),
    ]);
    const [fired, scheduled] = await entriesOf(alice, task!.id, 3);
    assert.equal(scheduled!.summary, "reminder set for Sat 5 Dec 02:30");
    assert.equal(scheduled!.taskTitle, "Call mum");
    assert.equal(fired!.summary, "reminder fired");
    assert.equal(fired!.actor, "");
    const reminders = await audit.listActivity({ kinds: [ActivityKind.REMINDER_FIRED, ActivityKind.REMINDER_SCHEDULED] }, as(alice));
    assert.equal(reminders.entries.length, 2);
  });

  test("entries past retention are purged in batches, by the periodic job and by replicas at once; newer ones stay", async () => {
    const alice = newUser();
    const taskId = crypto.randomUUID();
    const now = Date.parse("2027-06-01T00:00:00Z");
    let version = 0;
    const publishAged = async (count: number, ageDays: number) => {
      const events = Array.from({ length: count }, (_, i) => taskEvent(alice, taskId, ++version, { case: "reopened", value: { task: { title: "t" } } }, new Date(now - ageDays * DAY + i)));
      await bus.publish(events.map(recordOf));
      return events;
    };
    const remaining = (count: number, newest?: string) =>
      eventually(`${count} entries left`, async () => {
        const { entries } = await audit.listActivity({ taskId, pageSize: 500 }, as(alice));
        return entries.length === count && (!newest || entries[0]!.id === newest) ? entries : undefined;
      });
    const recent = await publishAged(5, 89);
    await publishAged(30, 91);
    await remaining(35);
    clock = new Date(now);

    // Another replica's job, with nothing but its timer: it purges at start and then periodically.
    const replica = await startAuditModule({ databaseUrl, logger, now: () => clock, purgeIntervalMs: 100, purgeBatchSize: 7 });
    try {
      await remaining(5);
      // More expired entries while it runs; a fresh one after them (same task: recorded in order)
      // shows they were all recorded, and purged.
      await publishAged(30, 120);
      const [marker] = await publishAged(1, 1);
      await remaining(6, marker!.eventId);
    } finally {
      await replica.stop();
    }

    // Two purges at once, as two replicas run them: each row is deleted once, by one of them.
    await publishAged(40, 95);
    await remaining(46);
    const [a, b] = await Promise.all([auditModule.retention.runOnce(), auditModule.retention.runOnce()]);
    assert.equal(a["audit.entries"]! + b["audit.entries"]!, 40);
    const left = await remaining(6);
    assert.deepEqual(
      left.slice(1).map((e) => e.id),
      recent.map((e) => e.eventId).reverse(),
    );
  });

  test("bad input is INVALID_ARGUMENT with the field", async () => {
    const alice = newUser();
    for (const pageToken of ["not-a-token", Buffer.from('{"f":"x","t":"1","s":"1"}').toString("base64url")]) {
      const err = await expectCode(audit.listActivity({ pageToken }, as(alice)), Code.InvalidArgument);
      assert.deepEqual(violatedFields(err), ["page_token"]);
    }
    // A token of one list does not page another.
    const taskId = crypto.randomUUID();
    await bus.publish([1, 2, 3].map((v) => recordOf(taskEvent(alice, taskId, v, { case: "reopened", value: { task: { title: "x" } } }))));
    await entriesOf(alice, taskId, 3);
    const { nextPageToken } = await audit.listActivity({ pageSize: 1 }, as(alice));
    const err = await expectCode(audit.listActivity({ taskId, pageToken: nextPageToken }, as(alice)), Code.InvalidArgument);
    assert.match(err.message, /another task_id or kinds/);
    const cases: [Parameters<typeof audit.listActivity>[0], string][] = [
      [{ taskId: "not-a-uuid" }, "task_id"],
      [{ pageSize: -1 }, "page_size"],
      [{ kinds: [ActivityKind.UNSPECIFIED] }, "kinds[0]"],
      [{ kinds: [42 as ActivityKind] }, "kinds[0]"],
    ];
    for (const [req, field] of cases) {
      const e = await expectCode(audit.listActivity(req, as(alice)), Code.InvalidArgument);
      assert.ok(
        violatedFields(e).some((f) => f.startsWith(field.replace(/\[0\]$/, ""))),
        `${field}: ${violatedFields(e)}`,
      );
    }
  });
});
