// Who a reminder of a shared project's task reaches: its assignee, else the member who created it,
// on every channel (the in-app event, the inbox, webhooks), following reassignment before it fires.
// The task's history stays under its owner.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { NotificationChannel, ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { eventually, sleep, startStack, type Stack } from "./harness.js";
import { startLocalServer } from "./local-server.js";

const as = (user: string) => ({ headers: { "x-user-id": user, "x-user-email": `${user}@example.com` } });
const inMs = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

/** A webhook receiver; the task ids of the reminders it was sent. */
async function webhookReceiver() {
  const server = await startLocalServer();
  return {
    url: `${server.base}/hook`,
    taskIds: () => server.requests.map((r) => (JSON.parse(r.body.toString()) as { taskId: string }).taskId),
    close: server.close,
  };
}

describe("reminders go to the assignee, else the creator", () => {
  let db: FreshDatabase;
  let stack: Stack;
  const [owner, bob, carol] = ["owner", "bob", "carol"].map((name) => `${name}-${process.pid}`) as [string, string, string];
  let projectId = "";
  const hooks = new Map<string, Awaited<ReturnType<typeof webhookReceiver>>>();

  beforeAll(async () => {
    db = await freshDatabase();
    stack = await startStack(db.url, { delivery: { retryMs: 100 }, webhooks: { allowedHosts: "loopback", allowHttp: true } });
    projectId = (await stack.projects.createProject({ name: "Shared" }, as(owner))).project!.id;
    for (const member of [bob, carol]) {
      const { invitation } = await stack.projects.inviteMember({ projectId, email: `${member}@example.com`, role: ProjectRole.EDITOR }, as(owner));
      await stack.projects.acceptInvitation({ id: invitation!.id }, as(member));
    }
    for (const user of [owner, bob, carol]) {
      const hook = await webhookReceiver();
      hooks.set(user, hook);
      await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.IN_APP, NotificationChannel.WEBHOOK], webhookUrl: hook.url } }, as(user));
    }
  });
  afterAll(async () => {
    for (const hook of hooks.values()) await hook.close();
    await stack.stop();
    await db.drop();
  });

  const listed = async (user: string, taskId: string) => (await stack.reminders.listReminders({ taskId }, as(user))).reminders;
  const notified = async (user: string, taskId: string) => (await stack.reminders.listNotifications({}, as(user))).notifications.filter((n) => n.taskId === taskId).length;

  /** Waits for the task's reminder to fire, then checks it reached `to` alone. */
  async function firesTo(taskId: string, to: string) {
    const [fired] = await eventually("the fired event", () => (stack.fired(taskId).length ? stack.fired(taskId) : undefined), 30_000);
    assert.equal(fired!.recipientId, to, "the in-app event goes to the recipient's devices");
    assert.equal(fired!.userId, owner, "the event stays under the task's owner (its history)");
    await eventually("the recipient's webhook", () => hooks.get(to)!.taskIds().includes(taskId) || undefined);
    assert.equal(await notified(to, taskId), 1, "in the recipient's inbox");
    assert.equal((await listed(to, taskId))[0]?.state, ReminderState.FIRED);
    await sleep(300);
    for (const other of [owner, bob, carol].filter((u) => u !== to)) {
      assert.ok(!hooks.get(other)!.taskIds().includes(taskId), `no webhook to ${other}`);
      assert.equal(await notified(other, taskId), 0, `nothing in ${other}'s inbox`);
      assert.deepEqual(await listed(other, taskId), [], `not in ${other}'s reminders`);
    }
  }

  test("an unassigned task's reminder goes to the member who created it, not the project's owner", async () => {
    const { task } = await stack.tasks.createTask({ title: "Order paint", projectId, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(1_500) } }] }, as(carol));
    await firesTo(task!.id, carol);
  });

  test("an assigned task's reminder goes to the assignee, and follows a reassignment made before it fires", async () => {
    const { task } = await stack.tasks.createTask({ title: "Book the van", projectId, assigneeId: bob, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(4_000) } }] }, as(owner));
    await eventually("armed for bob", async () => (await listed(bob, task!.id))[0]?.state === ReminderState.SCHEDULED || undefined);
    assert.deepEqual(await listed(owner, task!.id), []);
    const moved = await stack.tasks.updateTask({ task: { id: task!.id, assigneeId: carol }, updateMask: { paths: ["assignee_id"] }, expectedVersion: task!.version }, as(owner));
    await eventually("armed for carol", async () => (await listed(carol, task!.id))[0]?.state === ReminderState.SCHEDULED || undefined);
    await firesTo(task!.id, carol);
    // Unassigned again after it fired: the fired reminder is back with its creator, who may snooze it.
    await stack.tasks.updateTask({ task: { id: task!.id, assigneeId: "" }, updateMask: { paths: ["assignee_id"] }, expectedVersion: moved.task!.version }, as(bob));
    await eventually("back with the creator", async () => (await listed(owner, task!.id))[0]?.state === ReminderState.FIRED || undefined);
    const { reminder } = await stack.reminders.snoozeReminder({ taskId: task!.id, reminderId: "r", until: { case: "duration", value: { seconds: 600n } } }, as(owner));
    assert.equal(reminder!.state, ReminderState.SNOOZED);
  });

  test("an assignee removed from the project is reminded no more: the task is unassigned and reminds its creator", async () => {
    const dave = `dave-${process.pid}`;
    const { invitation } = await stack.projects.inviteMember({ projectId, email: `${dave}@example.com`, role: ProjectRole.EDITOR }, as(owner));
    await stack.projects.acceptInvitation({ id: invitation!.id }, as(dave));
    const { task } = await stack.tasks.createTask(
      { title: "Return the keys", projectId, assigneeId: dave, reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(3_600_000) } }] },
      as(bob),
    );
    await eventually("armed for dave", async () => (await listed(dave, task!.id))[0]?.state === ReminderState.SCHEDULED || undefined);
    await stack.projects.removeMember({ projectId, userId: dave }, as(owner));
    const { task: after } = await stack.tasks.getTask({ id: task!.id }, as(owner));
    assert.equal(after!.assigneeId, "");
    await eventually("armed for bob, who created it", async () => (await listed(bob, task!.id))[0]?.state === ReminderState.SCHEDULED || undefined);
    assert.deepEqual(await listed(dave, task!.id), []);
  });
});
