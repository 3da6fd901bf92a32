// Live sync over WebSocket, on PostgreSQL (events through the embedded log): every device of a user
// gets each change; a device reconnecting with its cursor gets exactly what it missed, or is told to
// refetch when it cannot resume; reminders arrive on the same socket; dead sockets and expired
// tokens are dropped.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReminderEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { FiredReminderSchema, ReadySchema, RefetchSchema } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import { TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { randomUUID } from "node:crypto";
import { AccessTokens, ACCESS_TOKEN_TTL_SECONDS } from "../src/auth/access-tokens.js";
import { clientFrame, hello, JWT_SECRET, LiveClient, meshUnderTest, type Frame } from "./fixtures.js";

const title = (f: Frame) => (f.case === "task" ? f.value.task?.title : `(a ${f.case} frame)`);

describe("live sync", () => {
  const mesh = meshUnderTest({ livePingIntervalMs: 500, gateway: { metricsPort: 0 } });
  /** A socket signed in with `token`, once the gateway said it is ready. */
  const openReady = async (token: string) => {
    const socket = await LiveClient.open(mesh.url, hello(token));
    await socket.next("ready");
    return socket;
  };

  test("every device of the user gets creates, updates and deletes, in order, each with a cursor of its own", async () => {
    const u = await mesh.user("devices");
    const phone = await LiveClient.open(mesh.url, hello(u.token));
    const laptop = await LiveClient.open(mesh.url, hello(u.token));
    const ready = await phone.next("ready");
    assert.equal(phone.frames[0]?.case, "ready", "ready first");
    assert.match(phone.texts[0]!, /^\{"ready":\{"cursor":"c1\.[\w-]{22}","pingInterval":"0\.500s"\}\}$/, "proto3 JSON of a ServerFrame");
    await laptop.next("ready");

    const { task } = await mesh.taskClient.createTask({ title: "Buy milk", tags: ["home"] }, { headers: u.headers });
    await mesh.taskClient.updateTask({ task: { id: task!.id, title: "Buy oat milk" }, updateMask: { paths: ["title"] }, expectedVersion: task!.version }, { headers: u.headers });
    await mesh.taskClient.deleteTask({ id: task!.id }, { headers: u.headers });
    for (const device of [phone, laptop]) {
      const created = await device.next((f) => f.case !== "ping");
      const updated = await device.next((f) => f.case !== "ping");
      const deleted = await device.next((f) => f.case !== "ping");
      assert.equal(created.case, "task");
      assert.equal(title(created), "Buy milk");
      assert.deepEqual(created.case === "task" && created.value.task?.tags, ["home"]);
      assert.equal(created.case === "task" && created.value.task?.status, TaskStatus.OPEN);
      assert.equal(title(updated), "Buy oat milk");
      assert.equal(deleted.case === "deleted" && deleted.value.taskId, task!.id);
      const cursors = [ready.cursor, ...[created, updated, deleted].map((f) => (f.value && "cursor" in f.value ? f.value.cursor : ""))];
      assert.equal(new Set(cursors).size, 4, `a new cursor per change: ${cursors}`);
      for (const cursor of cursors) assert.match(cursor, /^c1\.[\w-]{22}$/, "opaque: no position in the feed of all users");
      assert.deepEqual(
        (await device.quiet(300)).map((f) => f.case),
        [],
        "nothing twice",
      );
    }
    phone.close();
    laptop.close();
  });

  test("a device reconnecting with its cursor receives exactly what it missed, then live changes", async () => {
    const u = await mesh.user("reconnect");
    const h = { headers: u.headers };
    const first = await openReady(u.token);
    const { task: a } = await mesh.taskClient.createTask({ title: "seen before" }, h);
    const seen = await first.next("task");
    first.close();
    await first.closed;

    // Offline: three changes.
    const { task: b } = await mesh.taskClient.createTask({ title: "missed 1" }, h);
    await mesh.taskClient.completeTask({ id: a!.id, expectedVersion: a!.version }, h);
    await mesh.taskClient.deleteTask({ id: b!.id }, h);

    const again = await LiveClient.open(mesh.url, hello(u.token, seen.cursor));
    const ready = await again.next();
    assert.deepEqual(ready, { case: "ready", value: create(ReadySchema, { cursor: seen.cursor, pingInterval: durationFromMs(500) }) });
    const missed = [await again.next(), await again.next(), await again.next()];
    assert.deepEqual(
      missed.map((f) => (f.case === "task" ? `${title(f)}:${TaskStatus[f.value.task!.status]}` : f.case === "deleted" ? `deleted:${f.value.taskId}` : f.case)),
      ["missed 1:OPEN", "seen before:COMPLETED", `deleted:${b!.id}`],
    );
    await mesh.taskClient.createTask({ title: "live again" }, h);
    const live = await again.next((f) => f.case !== "ping");
    assert.equal(title(live), "live again");
    assert.deepEqual(
      (await again.quiet(500)).map((f) => f.case),
      [],
      "no duplicates from the topic of what catch-up sent",
    );
    again.close();
  });

  test("a cursor the feed cannot resume from gets refetch, then live changes", async () => {
    const u = await mesh.user("stale");
    // A cursor of the older plain-number form (or another database's, or pruned history): refetch.
    const back = await LiveClient.open(mesh.url, hello(u.token, "999999999999"));
    const ready = await back.next();
    const refetch = await back.next();
    assert.equal(ready.case, "ready");
    assert.deepEqual(refetch, { case: "refetch", value: create(RefetchSchema, { cursor: ready.value?.cursor }) });
    assert.match(ready.value?.cursor ?? "", /^c1\./, "resume from the feed's current position, sealed");
    await mesh.taskClient.createTask({ title: "after refetch" }, { headers: u.headers });
    assert.equal((await back.next("task")).task?.title, "after refetch");
    back.close();
  });

  test("fired reminders arrive on the user's sockets only", async () => {
    const u = await mesh.user("reminded");
    const other = await mesh.user("not-reminded");
    const mine = await openReady(u.token);
    const theirs = await openReady(other.token);
    const taskId = randomUUID();
    const scheduledFor = new Date("2026-12-01T08:00:00Z");
    const firedAt = new Date("2026-12-01T08:00:00.120Z");
    const event = (eventCase: "fired" | "scheduled") =>
      create(ReminderEventSchema, {
        eventId: randomUUID(),
        occurredAt: timestampFromDate(firedAt),
        userId: u.id,
        taskId,
        reminderId: "r1",
        event:
          eventCase === "fired"
            ? { case: "fired", value: { scheduledFor: timestampFromDate(scheduledFor), firedAt: timestampFromDate(firedAt), taskTitle: "Pay rent" } }
            : { case: "scheduled", value: { fireAt: timestampFromDate(scheduledFor) } },
      });
    await mesh.bus.publish((["scheduled", "fired"] as const).map((c) => ({ topic: "reminders", key: taskId, payload: toBinary(ReminderEventSchema, event(c)), headers: {} })));
    const frame = await mine.next((f) => f.case !== "ping");
    assert.deepEqual(frame, {
      case: "reminder",
      value: create(FiredReminderSchema, { taskId, reminderId: "r1", title: "Pay rent", scheduledFor: timestampFromDate(scheduledFor), firedAt: timestampFromDate(firedAt) }),
    });
    assert.match(mine.texts.at(-1)!, /"scheduledFor":"2026-12-01T08:00:00Z","firedAt":"2026-12-01T08:00:00.120Z"/, "RFC 3339 times");
    assert.deepEqual(
      (await theirs.quiet(500)).map((f) => f.case),
      [],
    );
    mine.close();
    theirs.close();
  });

  test("a reminder of a task assigned to a member goes to the member's sockets, not the owner's", async () => {
    const owner = await mesh.user("task-owner");
    const member = await mesh.user("assignee");
    const assignee = await openReady(member.token);
    const owners = await openReady(owner.token);
    const taskId = randomUUID();
    const at = timestampFromDate(new Date("2026-12-01T08:00:00Z"));
    const fired = create(ReminderEventSchema, {
      eventId: randomUUID(),
      occurredAt: at,
      userId: owner.id,
      recipientId: member.id,
      taskId,
      reminderId: "r1",
      event: { case: "fired", value: { scheduledFor: at, firedAt: at, taskTitle: "Book the van" } },
    });
    await mesh.bus.publish([{ topic: "reminders", key: taskId, payload: toBinary(ReminderEventSchema, fired), headers: {} }]);
    assert.equal((await assignee.next("reminder")).title, "Book the van");
    assert.deepEqual(
      (await owners.quiet(500)).map((f) => f.case),
      [],
    );
    assignee.close();
    owners.close();
  });

  test("ping/pong keeps a socket; one that does not answer is dropped", async () => {
    const u = await mesh.user("pinged");
    const answering = await LiveClient.open(mesh.url, hello(u.token));
    const silent = await LiveClient.open(mesh.url, hello(u.token), undefined, false);
    answering.socket.send(clientFrame({ case: "ping", value: {} }));
    await answering.next("pong");
    const { code } = await silent.closed;
    assert.equal(code, 1006, "dropped without a closing handshake");
    assert.ok(silent.frames.some((f) => f.case === "ping"));
    assert.equal(answering.socket.readyState, answering.socket.OPEN);
    answering.close();
  });

  test("a socket opened with a long-lived API token stays open and gets changes", async () => {
    const u = await mesh.user("scripted");
    // Ten years: further away than a timer can wait (2^31 - 1 ms, about 24.8 days).
    const { secret } = await mesh.auth.createApiToken({ name: "sync script", validDays: 3650 }, { headers: u.headers });
    const s = await LiveClient.open(mesh.url, hello(secret));
    assert.equal((await s.next()).case, "ready");
    const { task } = await mesh.taskClient.createTask({ title: "From a script" }, { headers: u.headers });
    assert.equal((await s.next("task")).task?.id, task!.id);
    const closed = await Promise.race([s.closed, new Promise((r) => setTimeout(() => r("open"), 300))]);
    assert.equal(closed, "open");
  });

  test("a socket closes with 4401 when its access token expires", async () => {
    const u = await mesh.user("expiring");
    // Issued so that it has a few seconds left.
    const { token } = await new AccessTokens(JWT_SECRET).issue(u.id, "UTC", new Date(Date.now() - (ACCESS_TOKEN_TTL_SECONDS - 4) * 1000));
    const s = await LiveClient.open(mesh.url, hello(token));
    assert.equal((await s.next()).case, "ready");
    const closed = await s.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /expired/);
  });

  test("/metrics counts the open sockets and times each push from the change's commit", async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${mesh.gateway.metrics!.port}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    };
    const u = await mesh.user("metrics");
    const open = await metric("taskmesh_live_connections");
    const pushes = await metric("taskmesh_live_push_delay_seconds_count");
    const a = await openReady(u.token);
    const b = await openReady(u.token);
    assert.equal(await metric("taskmesh_live_connections"), open + 2);
    await mesh.taskClient.createTask({ title: "Timed" }, { headers: u.headers });
    await a.next("task");
    // observed once the push went out to every device of the user, which may follow the first one's frame
    for (let i = 0; i < 40 && !((await metric("taskmesh_live_push_delay_seconds_count")) > pushes); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await metric("taskmesh_live_push_delay_seconds_count")) > pushes);
    a.close();
    b.close();
    await Promise.all([a.closed, b.closed]);
    assert.equal(await metric("taskmesh_live_connections"), open);
  });
});
