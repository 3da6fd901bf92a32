// Reminders end to end in one process, on PostgreSQL: tasks with reminders through TaskService →
// task-events → armed → fired at their time → ReminderEvent on the bus; moves, cancellations,
// snooze, validation, isolation, catch-up after downtime.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import pg from "pg";
import { timestampDate, timestampFromDate, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { register } from "prom-client";
import { ReminderState, NotificationChannel } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { violatedFields } from "@taskmesh/testing/connect";
import { as, eventually, sleep, startStack, type Stack } from "./harness.js";

const alice = as("alice");
const bob = as("bob");
const inMs = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

async function rejects(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await call.then(
    () => assert.fail(`expected ${Code[code]}`),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(err.code, code, err.message);
  return err;
}

describe("reminders", () => {
  let db: FreshDatabase;
  let stack: Stack;
  beforeAll(async () => {
    db = await freshDatabase();
    stack = await startStack(db.url, { delivery: { retryMs: 100 }, overdueSweep: { intervalMs: 500, graceMs: 1_000 } });
  });
  afterAll(async () => {
    await stack.stop();
    await db.drop();
  });

  test("a reminder fires at its time, never before, and ReminderEvent{fired} reaches the bus", async () => {
    const lateness = () => register.getSingleMetric("taskmesh_reminder_lateness_seconds")?.get();
    const before = (await lateness())?.values.find((v) => (v as { metricName?: string }).metricName === "taskmesh_reminder_lateness_seconds_count")?.value ?? 0;
    const { task } = await stack.tasks.createTask({ title: "Call the dentist", reminders: [{ id: "soon", trigger: { case: "absoluteTime", value: inMs(1_500) } }] }, alice);
    const scheduled = await eventually("armed", async () => (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders.at(0));
    assert.equal(scheduled.state, ReminderState.SCHEDULED, scheduled.cancelReason);
    const [fired] = await eventually("the fired event", () => (stack.fired(task!.id).length ? stack.fired(task!.id) : undefined));
    assert.equal(fired!.event.case, "fired");
    if (fired!.event.case !== "fired") return;
    const { scheduledFor, firedAt, taskTitle } = fired!.event.value;
    assert.equal(taskTitle, "Call the dentist");
    assert.ok(timestampDate(firedAt!) >= timestampDate(scheduledFor!), "never before its time");
    assert.equal(timestampDate(scheduledFor!).getTime(), timestampDate(task!.reminders[0]!.trigger.value as never).getTime());
    const [listed] = (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders;
    assert.equal(listed!.state, ReminderState.FIRED);
    assert.equal(listed!.nextFireTime, undefined);
    const after = (await lateness())!.values.find((v) => (v as { metricName?: string }).metricName === "taskmesh_reminder_lateness_seconds_count")!.value;
    assert.ok(after > before, "lateness recorded");
    await sleep(500);
    assert.equal(stack.fired(task!.id).length, 1, "fired once");
  });

  test("moving the due moves a relative reminder; the upcoming list follows", async () => {
    const due = Date.now() + 3_600_000;
    const { task } = await stack.tasks.createTask(
      { title: "Report", due: { case: "dueTime", value: timestampFromDate(new Date(due)) }, reminders: [{ id: "r10", trigger: { case: "beforeDue", value: durationFromMs(600_000) } }] },
      alice,
    );
    const fireTime = async () => (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders[0]?.nextFireTime;
    const first = await eventually("armed", fireTime);
    assert.equal(timestampDate(first).getTime(), due - 600_000);
    const moved = due + 3_600_000;
    await stack.tasks.updateTask(
      { task: { id: task!.id, due: { case: "dueTime", value: timestampFromDate(new Date(moved)) } }, updateMask: { paths: ["due_time"] }, expectedVersion: task!.version },
      alice,
    );
    await eventually("moved", async () => timestampDate((await fireTime())!).getTime() === moved - 600_000);
    const upcoming = (await stack.reminders.listReminders({}, alice)).reminders.filter((r) => r.taskId === task!.id);
    assert.equal(upcoming.length, 1);
    const scheduled = () => stack.events.filter((e) => e.taskId === task!.id && e.event.case === "scheduled");
    await eventually("a scheduled event per arming", () => scheduled().length === 2 || undefined);
  });

  test("completing cancels, reopening re-arms what is still ahead, deleting cancels", async () => {
    const { task } = await stack.tasks.createTask(
      {
        title: "Water plants",
        reminders: [
          { id: "later", trigger: { case: "absoluteTime", value: inMs(3_600_000) } },
          { id: "soon", trigger: { case: "absoluteTime", value: inMs(1_000) } },
        ],
      },
      alice,
    );
    const states = async () => (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders.map((r) => `${r.reminder!.id}:${ReminderState[r.state]}:${r.cancelReason}`);
    await eventually("armed", async () => (await states()).length === 2 || undefined);
    const done = await stack.tasks.completeTask({ id: task!.id }, alice);
    await eventually("cancelled", async () => (await states()).join() === "later:CANCELLED:task_completed,soon:CANCELLED:task_completed" || undefined);
    await sleep(1_500); // "soon" is past now: it must not fire, nor be re-armed on reopen
    const reopened = await stack.tasks.reopenTask({ id: task!.id, expectedVersion: done.task!.version }, alice);
    await eventually("re-armed", async () => (await states()).join() === "later:SCHEDULED:,soon:CANCELLED:time_passed" || undefined);
    assert.equal(stack.fired(task!.id).length, 0);
    await stack.tasks.deleteTask({ id: task!.id, expectedVersion: reopened.task!.version }, alice);
    await eventually("gone", async () => (await states()).length === 0 || undefined);
    assert.equal((await stack.reminders.listReminders({}, alice)).reminders.filter((r) => r.taskId === task!.id).length, 0);
    const cancels = () => stack.events.filter((e) => e.taskId === task!.id && e.event.case === "cancelled").map((e) => (e.event.value as { reason: string }).reason);
    await eventually("cancel events", () => cancels().length === 3 || undefined);
    assert.deepEqual(cancels().sort(), ["task_completed", "task_completed", "task_deleted"]);
  });

  test("SetReminders replaces a task's reminders through the task service", async () => {
    const { task } = await stack.tasks.createTask({ title: "Pay bills", reminders: [{ id: "old", trigger: { case: "absoluteTime", value: inMs(3_600_000) } }] }, alice);
    const res = await stack.reminders.setReminders({ taskId: task!.id, reminders: [{ id: "new", trigger: { case: "absoluteTime", value: inMs(7_200_000) } }] }, alice);
    assert.deepEqual(
      res.task!.reminders.map((r) => r.id),
      ["new"],
      "the task is the source of truth",
    );
    assert.deepEqual(
      res.reminders.map((r) => [r.reminder!.id, ReminderState[r.state]]),
      [["new", "SCHEDULED"]],
    );
    const { task: stored } = await stack.tasks.getTask({ id: task!.id }, alice);
    assert.deepEqual(
      stored!.reminders.map((r) => r.id),
      ["new"],
    );
    // The task event arriving afterwards changes nothing.
    await sleep(1_000);
    assert.deepEqual(
      (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders.map((r) => r.reminder!.id),
      ["new"],
    );
    await rejects(stack.reminders.setReminders({ taskId: task!.id, reminders: [], expectedVersion: 1n }, alice), Code.Aborted);
  });

  test("snooze re-arms a fired reminder; dismiss stops a snoozed one; cancel skips a scheduled one", async () => {
    const { task } = await stack.tasks.createTask(
      {
        title: "Stretch",
        reminders: [
          { id: "now", trigger: { case: "absoluteTime", value: inMs(800) } },
          { id: "far", trigger: { case: "absoluteTime", value: inMs(3_600_000) } },
        ],
      },
      alice,
    );
    await eventually("first fire", () => stack.fired(task!.id).length === 1 || undefined);
    await rejects(stack.reminders.snoozeReminder({ taskId: task!.id, reminderId: "far", until: { case: "duration", value: durationFromMs(600_000) } }, alice), Code.FailedPrecondition);
    const until = new Date(Date.now() + 1_200);
    const { reminder } = await stack.reminders.snoozeReminder({ taskId: task!.id, reminderId: "now", until: { case: "untilTime", value: timestampFromDate(until) } }, alice);
    assert.equal(reminder!.state, ReminderState.SNOOZED);
    assert.equal(timestampDate(reminder!.nextFireTime!).getTime(), until.getTime());
    const [, second] = await eventually("fired again after the snooze", () => (stack.fired(task!.id).length === 2 ? stack.fired(task!.id) : undefined));
    if (second!.event.case !== "fired") return assert.fail();
    assert.equal(timestampDate(second!.event.value.scheduledFor!).getTime(), until.getTime());
    assert.ok(timestampDate(second!.event.value.firedAt!) >= until);
    assert.ok(stack.events.some((e) => e.taskId === task!.id && e.event.case === "snoozed"));

    const snoozedAgain = await stack.reminders.snoozeReminder({ taskId: task!.id, reminderId: "now", until: { case: "untilTime", value: inMs(1_000) } }, alice);
    assert.equal(snoozedAgain.reminder!.state, ReminderState.SNOOZED);
    const dismissed = await stack.reminders.dismissReminder({ taskId: task!.id, reminderId: "now" }, alice);
    assert.equal(dismissed.reminder!.state, ReminderState.DISMISSED);
    const cancelled = await stack.reminders.cancelReminder({ taskId: task!.id, reminderId: "far" }, alice);
    assert.equal(cancelled.reminder!.state, ReminderState.CANCELLED);
    assert.equal(cancelled.reminder!.cancelReason, "cancelled_by_user");
    await sleep(1_500);
    assert.equal(stack.fired(task!.id).length, 2, "the dismissed snooze did not fire");
  });

  test("bad input is INVALID_ARGUMENT with field violations", async () => {
    let err = await rejects(stack.reminders.setReminders({ taskId: "not-a-uuid", reminders: [] }, alice), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["task_id"]);
    err = await rejects(stack.reminders.snoozeReminder({ taskId: crypto.randomUUID(), reminderId: "x", until: { case: "duration", value: durationFromMs(5_000) } }, alice), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["duration"]);
    err = await rejects(stack.reminders.snoozeReminder({ taskId: crypto.randomUUID(), reminderId: "x", until: { case: "untilTime", value: inMs(40 * 86_400_000) } }, alice), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["until_time"]);
    err = await rejects(stack.reminders.listReminders({ pageToken: "garbage" }, alice), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["page_token"]);
    err = await rejects(
      stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK, NotificationChannel.EMAIL], timeZone: "Mars/Olympus" } }, alice),
      Code.InvalidArgument,
    );
    assert.deepEqual(violatedFields(err).sort(), ["preferences.email_address", "preferences.time_zone", "preferences.webhook_url"]);
    err = await rejects(stack.reminders.updateNotificationPreferences({ preferences: { emailAddress: "nope", quietHours: { start: "25:00", end: "07:00" } } }, alice), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err).sort(), ["preferences.email_address", "preferences.quiet_hours.start"]);
    err = await rejects(stack.tasks.createTask({ title: "x", reminders: [{ id: "r", trigger: { case: "beforeDue", value: durationFromMs(60_000) } }] }, alice), Code.InvalidArgument);
    assert.ok(violatedFields(err).some((f) => f.includes("before_due")));
  });

  test("notification preferences: defaults, masked update, a webhook secret shown once", async () => {
    const { preferences } = await stack.reminders.getNotificationPreferences({}, as("carol"));
    assert.deepEqual(preferences!.channels, [NotificationChannel.IN_APP]);
    const first = await stack.reminders.updateNotificationPreferences(
      { preferences: { channels: [NotificationChannel.IN_APP, NotificationChannel.WEBHOOK], webhookUrl: "https://example.test/hook" }, updateMask: { paths: ["channels", "webhook_url"] } },
      as("carol"),
    );
    assert.match(first.webhookSigningSecret, /^whsec_/);
    assert.equal(first.preferences!.webhookSecretSet, true);
    const second = await stack.reminders.updateNotificationPreferences(
      { preferences: { quietHours: { start: "22:00", end: "07:00" }, timeZone: "Europe/Berlin" }, updateMask: { paths: ["quiet_hours", "time_zone"] } },
      as("carol"),
    );
    assert.equal(second.webhookSigningSecret, "", "not shown again");
    assert.equal(second.preferences!.webhookUrl, "https://example.test/hook", "unmasked fields kept");
    const rotated = await stack.reminders.updateNotificationPreferences({ preferences: {}, updateMask: { paths: ["time_zone"] }, rotateWebhookSecret: true }, as("carol"));
    assert.notEqual(rotated.webhookSigningSecret, first.webhookSigningSecret);
    assert.equal(rotated.preferences!.timeZone, "UTC");
    const err = await rejects(stack.reminders.updateNotificationPreferences({ preferences: {}, updateMask: { paths: ["webhook_secret"] } }, as("carol")), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["update_mask"]);
  });

  test("users see and change only their own reminders", async () => {
    const { task } = await stack.tasks.createTask({ title: "Alice's", reminders: [{ id: "a", trigger: { case: "absoluteTime", value: inMs(3_600_000) } }] }, alice);
    await eventually("armed", async () => (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders.length === 1 || undefined);
    assert.deepEqual((await stack.reminders.listReminders({ taskId: task!.id }, bob)).reminders, []);
    assert.equal((await stack.reminders.listReminders({}, bob)).reminders.filter((r) => r.taskId === task!.id).length, 0);
    await rejects(stack.reminders.cancelReminder({ taskId: task!.id, reminderId: "a" }, bob), Code.NotFound);
    await rejects(stack.reminders.setReminders({ taskId: task!.id, reminders: [] }, bob), Code.NotFound);
    await rejects(stack.reminders.listReminders({}, { headers: {} }), Code.Unauthenticated);
    assert.equal((await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders[0]!.state, ReminderState.SCHEDULED);
  });

  test("the upcoming list pages soonest first", async () => {
    const user = as("pager");
    for (let i = 0; i < 5; i++) {
      await stack.tasks.createTask({ title: `t${i}`, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(3_600_000 + (5 - i) * 60_000) } }] }, user);
    }
    await eventually("5 armed", async () => (await stack.reminders.listReminders({}, user)).reminders.length === 5 || undefined);
    const titles: string[] = [];
    let pageToken = "";
    do {
      const page = await stack.reminders.listReminders({ pageSize: 2, pageToken }, user);
      titles.push(...page.reminders.map((r) => r.taskTitle));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(titles, ["t4", "t3", "t2", "t1", "t0"]);
  });

  test("a reminder whose timer was lost still fires, late, once (the overdue sweep)", async () => {
    const { task } = await stack.tasks.createTask({ title: "Lost timer", reminders: [{ id: "lost", trigger: { case: "absoluteTime", value: inMs(800) } }] }, alice);
    await eventually("armed", async () => (await stack.reminders.listReminders({ taskId: task!.id }, alice)).reminders.at(0));
    // As if the timer lived in a backend that is gone: the scheduler no longer has it.
    const client = new pg.Client(db.url);
    await client.connect();
    const { rowCount } = await client.query(`DELETE FROM reminders.scheduler_jobs WHERE id LIKE $1`, [`%${task!.id}%`]);
    await client.end();
    assert.equal(rowCount, 1, "the timer was there to lose");
    await eventually("the fired event", () => (stack.fired(task!.id).length ? true : undefined), 15_000);
    await sleep(1_500);
    assert.equal(stack.fired(task!.id).length, 1, "fired once");
  });

  test("task events queued while the service was down are applied in one batch, in order: the last due wins, a deleted task's reminder is cancelled", async () => {
    const due = Date.now() + 3_600_000;
    const relative = [{ id: "r", trigger: { case: "beforeDue" as const, value: durationFromMs(600_000) } }];
    const dueAt = (ms: number) => ({ case: "dueTime" as const, value: timestampFromDate(new Date(ms)) });
    let moved = "";
    let deleted = "";
    await stack.restartReminders(async () => {
      const { task } = await stack.tasks.createTask({ title: "moved twice", due: dueAt(due), reminders: relative }, alice);
      const { task: v2 } = await stack.tasks.updateTask({ task: { id: task!.id, due: dueAt(due + 60_000) }, updateMask: { paths: ["due_time"] }, expectedVersion: task!.version }, alice);
      await stack.tasks.updateTask({ task: { id: task!.id, due: dueAt(due + 120_000) }, updateMask: { paths: ["due_time"] }, expectedVersion: v2!.version }, alice);
      const { task: gone } = await stack.tasks.createTask({ title: "deleted", due: dueAt(due), reminders: relative }, alice);
      await stack.tasks.deleteTask({ id: gone!.id }, alice);
      [moved, deleted] = [task!.id, gone!.id];
    });
    const fireTime = async (taskId: string) => (await stack.reminders.listReminders({ taskId }, alice)).reminders[0]?.nextFireTime;
    await eventually("the moved task armed at its last due", async () => (await fireTime(moved)) && timestampDate((await fireTime(moved))!).getTime() === due + 120_000 - 600_000);
    const cancelled = () => stack.events.some((e) => e.taskId === deleted && e.event.case === "cancelled");
    const scheduledDeleted = () => stack.events.some((e) => e.taskId === deleted && e.event.case === "scheduled");
    await eventually("the deleted task's reminder never armed or cancelled", async () => !(await fireTime(deleted)) && (cancelled() || !scheduledDeleted()));
    const jobs = new pg.Client(db.url);
    await jobs.connect();
    try {
      const { rows } = await jobs.query("SELECT id, due_at FROM reminders.scheduler_jobs WHERE id LIKE $1 OR id LIKE $2", [`%${moved}%`, `%${deleted}%`]);
      assert.deepEqual(
        rows.map((r) => [String(r.id).includes(moved), new Date(r.due_at).getTime()]),
        [[true, due + 120_000 - 600_000]],
        "one timer, the moved task's, at its last time",
      );
    } finally {
      await jobs.end();
    }
  });

  test("reminders that fell due while the service was down fire on restart, each once", async () => {
    const created: string[] = [];
    await stack.restartReminders(async () => {
      // Armed while down (the task events wait on the bus), due before it is back.
      for (let i = 0; i < 10; i++) {
        const { task } = await stack.tasks.createTask({ title: `down ${i}`, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(300 + i * 20) } }] }, alice);
        created.push(task!.id);
      }
      await sleep(1_000);
    });
    await eventually("10 caught-up fires", () => created.every((id) => stack.fired(id).length > 0) || undefined);
    await sleep(500);
    assert.deepEqual(
      created.map((id) => stack.fired(id).length),
      created.map(() => 1),
    );
  });
});
