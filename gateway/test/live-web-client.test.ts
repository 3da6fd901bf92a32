// The web app's live-sync client (web/src/live) against the gateway over a real WebSocket, on
// PostgreSQL: every kind of frame the gateway sends is read by the web's code, and the gateway reads
// what the web sends (hello, pong), so that neither end can drift from taskmesh.live.v1 unnoticed.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { openEmbeddedBus, type EventBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ReminderEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { FiredReminderSchema, ServerFrameSchema, type FiredReminder } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { randomUUID } from "node:crypto";
import { LiveConnection, liveUrl, parseServerFrame, type LiveStatus } from "../../web/src/live/live-connection.js";
import { clientFrame, startMesh, type TestMesh } from "./fixtures.js";

const logger = createLogger("live-web-client-test");
const PING_MS = 300;
const RETENTION_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let mesh: TestMesh;
let stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const db = await freshDatabase();
  const bus: EventBus = await openEmbeddedBus({ url: db.url, logger });
  const tasks = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (r) => bus.publish(r) }, feedRetentionMs: RETENTION_MS, pruneIntervalMs: 3_600_000 });
  mesh = await startMesh({ databaseUrl: db.url, bus, tasks, livePingIntervalMs: PING_MS });
  stops = [mesh.stop, tasks.stop, () => bus.close(), db.drop];
});
afterAll(async () => {
  for (const stop of stops) await stop();
});

/** The sockets the web client opened, with every message each received; `offline` refuses new connections as a lost network does. */
const network = { offline: false, sockets: [] as RecordingSocket[] };
class RecordingSocket extends WebSocket {
  readonly received: string[] = [];
  constructor(url: string | URL) {
    super(network.offline ? "ws://127.0.0.1:1/live" : url);
    network.sockets.push(this);
    this.addEventListener("message", (event) => this.received.push(String(event.data)));
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

test("every kind of frame the gateway sends reaches the web app's client, which answers in frames the gateway reads", async () => {
  const u = await mesh.user("web-client");
  const seen = { statuses: [] as LiveStatus[], tasks: [] as Task[], deleted: [] as string[], refetches: 0, reminders: [] as FiredReminder[], inboxes: 0 };
  const live = new LiveConnection({
    url: liveUrl(mesh.url),
    token: () => u.token,
    renew: async () => false,
    handlers: {
      status: (s) => seen.statuses.push(s),
      task: (t) => seen.tasks.push(t),
      deleted: (id) => seen.deleted.push(id),
      refetch: () => seen.refetches++,
      reminder: (r) => seen.reminders.push(r),
      inbox: () => seen.inboxes++,
    },
    WebSocket: RecordingSocket,
    minDelayMs: 100,
    maxDelayMs: 100,
  });
  const current = () => network.sockets.at(-1)!;
  live.start();
  try {
    // ready: a hello the gateway accepted; the first one also refetches the lists (no cursor yet).
    await until("live", () => seen.statuses.includes("live"));
    assert.equal(seen.refetches, 1);

    const { task } = await mesh.taskClient.createTask({ title: "Water the plants", tags: ["home"] }, { headers: u.headers });
    await until("the task", () => seen.tasks.some((t) => t.id === task!.id));
    const pushed = seen.tasks.find((t) => t.id === task!.id)!;
    assert.deepEqual([pushed.title, pushed.tags, pushed.version], ["Water the plants", ["home"], task!.version]);
    await mesh.taskClient.deleteTask({ id: task!.id }, { headers: u.headers });
    await until("the deletion", () => seen.deleted.includes(task!.id));

    const scheduledFor = timestampFromDate(new Date("2026-12-05T07:00:00Z"));
    const firedAt = timestampFromDate(new Date("2026-12-05T07:00:00.250Z"));
    const taskId = randomUUID();
    const fired = create(ReminderEventSchema, {
      eventId: randomUUID(),
      occurredAt: firedAt,
      userId: u.id,
      taskId,
      reminderId: "r1",
      event: { case: "fired", value: { scheduledFor, firedAt, taskTitle: "Call the plumber" } },
    });
    await mesh.bus.publish([{ topic: "reminders", key: taskId, payload: toBinary(ReminderEventSchema, fired), headers: {} }]);
    await until("the reminder", () => seen.reminders.length === 1);
    assert.deepEqual(seen.reminders[0], create(FiredReminderSchema, { taskId, reminderId: "r1", title: "Call the plumber", scheduledFor, firedAt }));
    // Read on another device: this one lists its inbox again.
    const read = create(ReminderEventSchema, { eventId: randomUUID(), occurredAt: firedAt, userId: u.id, taskId, reminderId: "r1", event: { case: "read", value: { notificationId: "1" } } });
    await mesh.bus.publish([{ topic: "reminders", key: taskId, payload: toBinary(ReminderEventSchema, read), headers: {} }]);
    await until("the inbox changed", () => seen.inboxes === 1);

    // The gateway drops a socket that stays silent between two pings: this one answers them.
    await until("three pings", () => current().received.filter((text) => parseServerFrame(text)?.frame.case === "ping").length >= 3);
    assert.deepEqual(seen.statuses, ["connecting", "live"], "never dropped");

    current().send(clientFrame({ case: "ping", value: {} }));
    await until("a pong", () => current().received.some((text) => parseServerFrame(text)?.frame.case === "pong"));
    assert.deepEqual(seen.statuses, ["connecting", "live"], "a pong is no trouble to the client");

    // Offline while a change is made and then pruned from the feed: back with its cursor, it is told to refetch.
    network.offline = true;
    current().close();
    await until("offline", () => seen.statuses.at(-1) === "offline");
    await mesh.taskClient.createTask({ title: "made while offline" }, { headers: u.headers });
    await sleep(RETENTION_MS + 200);
    await mesh.taskClient.createTask({ title: "kept" }, { headers: u.headers });
    assert.ok((await mesh.tasks.retention.runOnce())["tasks.task_changes"]! >= 1, "the feed pruned");
    network.offline = false;
    await until("a refetch", () => seen.refetches === 2);
    // Nothing replays what the inbox went through meanwhile: it is listed again.
    await until("the inbox listed again", () => seen.inboxes === 2);
    assert.equal(seen.statuses.at(-1), "live");
    const { task: after } = await mesh.taskClient.createTask({ title: "after the refetch" }, { headers: u.headers });
    await until("live changes again", () => seen.tasks.some((t) => t.id === after!.id));
  } finally {
    live.stop();
  }

  const kinds = new Set(network.sockets.flatMap((s) => s.received).map((text) => parseServerFrame(text)?.frame.case));
  assert.deepEqual([...kinds].sort(), ServerFrameSchema.oneofs[0]!.fields.map((f) => f.localName).sort(), "every kind of ServerFrame, each read by the web's code");
});

/** A socket whose path can go dead without a word, as a lost network leaves it: nothing arrives, not even the close. */
class SeveredSocket extends RecordingSocket {
  severed = false;
  override set onmessage(handler: ((event: MessageEvent) => void) | null) {
    super.onmessage = handler && ((event) => !this.severed && handler(event));
  }
  override get onmessage() {
    return super.onmessage;
  }
  override set onclose(handler: ((event: CloseEvent) => void) | null) {
    super.onclose = handler && ((event) => !this.severed && handler(event));
  }
  override get onclose() {
    return super.onclose;
  }
  override send(data: string): void {
    if (!this.severed) super.send(data);
  }
}

test("a connection gone silent is taken for dead after two pings unheard, and the client comes back with its cursor, missing nothing", async () => {
  const u = await mesh.user("web-client-severed");
  const statuses: LiveStatus[] = [];
  const tasks: Task[] = [];
  const live = new LiveConnection({
    url: liveUrl(mesh.url),
    token: () => u.token,
    renew: async () => false,
    handlers: { status: (s) => statuses.push(s), task: (t) => tasks.push(t), deleted: () => {}, refetch: () => {}, reminder: () => {}, inbox: () => {} },
    WebSocket: SeveredSocket,
    minDelayMs: 100,
    maxDelayMs: 100,
  });
  live.start();
  try {
    await until("live", () => statuses.includes("live"));
    const first = network.sockets.at(-1) as SeveredSocket;
    assert.ok(
      first.received.some((text) => parseServerFrame(text)?.frame.case === "ready" && JSON.parse(text).ready.pingInterval === "0.300s"),
      "ready says how often the gateway pings",
    );
    first.severed = true;
    const severedAt = Date.now();
    const { task } = await mesh.taskClient.createTask({ title: "made while the path was dead" }, { headers: u.headers });
    await until("offline", () => statuses.includes("offline"), 5_000);
    const noticedMs = Date.now() - severedAt;
    assert.ok(noticedMs >= 2 * PING_MS, `not before two pings went unheard (${noticedMs} ms)`);
    await until("live again", () => statuses.at(-1) === "live");
    assert.notEqual(network.sockets.at(-1), first, "on a new socket");
    await until("the change made meanwhile", () => tasks.some((t) => t.id === task!.id));
    assert.deepEqual(statuses, ["connecting", "live", "offline", "connecting", "live"]);
  } finally {
    live.stop();
  }
});
