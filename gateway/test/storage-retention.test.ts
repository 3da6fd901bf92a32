// Storage stays bounded, on PostgreSQL behind the gateway: the change feed, the embedded event log
// and processed_events are pruned by retention (here a second), safely: a WatchTasks cursor from
// before the feed's horizon gets resyncRequired / refetch and never a feed with a hole, and the event
// log keeps what a consumer group has not consumed yet.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { openEmbeddedBus, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { RefetchSchema } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import { startRemindersModule } from "@taskmesh/reminders";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { hello, LiveClient, startMesh, type TestMesh } from "./fixtures.js";

const logger = createLogger("retention-test");
const RETENTION_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

describe("storage bounded by retention", () => {
  let mesh: TestMesh;
  let bus: EventBus;
  let tasks: Awaited<ReturnType<typeof startTasksModule>>;
  let reminders: Awaited<ReturnType<typeof startRemindersModule>>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
    // The event log prunes on its own every 200 ms; the feed and processed_events when told (runOnce).
    bus = await openEmbeddedBus({ url: db.url, logger, retentionMs: RETENTION_MS, pruneIntervalMs: 200 });
    tasks = await startTasksModule({ databaseUrl: db.url, logger, events: { send: (r) => bus.publish(r) }, feedRetentionMs: RETENTION_MS, pruneIntervalMs: 3_600_000 });
    reminders = await startRemindersModule({ databaseUrl: db.url, logger, events: bus, processedEventsRetentionMs: RETENTION_MS, pruneIntervalMs: 3_600_000 });
    mesh = await startMesh({ databaseUrl: db.url, bus, tasks });
  });
  afterAll(async () => {
    await mesh.stop();
    await reminders.stop();
    await tasks.stop();
    await bus.close();
    await drop();
  });

  const count = async (query: string, params: unknown[] = []) => Number((await tasks.db.query<{ n: string }>(tasks.db.em(), query, params))[0]!.n);

  async function watch(headers: Record<string, string>, cursor = "") {
    const out = [];
    for await (const m of mesh.taskClient.watchTasks({ cursor, untilCaughtUp: true }, { headers })) out.push(m);
    return out;
  }

  test("the change feed: pruned past retention; a cursor from before the horizon gets a refetch, one after it resumes", async () => {
    const u = await mesh.user("feed");
    const start = (await watch(u.headers)).at(-1)!.cursor;
    await mesh.taskClient.createTask({ title: "old" }, { headers: u.headers });
    const afterOld = (await watch(u.headers, start)).at(-1)!.cursor;
    await sleep(RETENTION_MS + 200);
    await mesh.taskClient.createTask({ title: "recent" }, { headers: u.headers });

    const before = await count(`SELECT count(*) AS n FROM tasks.task_changes`);
    const deleted = (await tasks.retention.runOnce())["tasks.task_changes"]!;
    assert.ok(deleted >= 1, "the old change is pruned");
    assert.equal(await count(`SELECT count(*) AS n FROM tasks.task_changes`), before - deleted);

    const stale = await watch(u.headers, start);
    assert.deepEqual(
      stale.map((m) => m.change.case),
      ["resyncRequired", "caughtUp"],
      "refetch, never a feed with a hole",
    );
    const resumed = await watch(u.headers, afterOld);
    assert.deepEqual(
      resumed.map((m) => (m.change.case === "upserted" ? m.change.value.title : m.change.case)),
      ["recent", "caughtUp"],
    );

    const device = await LiveClient.open(mesh.url, hello(u.token, start));
    const ready = await device.next("ready");
    assert.deepEqual(await device.next(), { case: "refetch", value: create(RefetchSchema, { cursor: ready.cursor }) });
    device.close();
  });

  test("the event log: pruned past retention, but never what a consumer group has not consumed", async () => {
    const u = await mesh.user("log");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const slow: Subscription = await bus.subscribe({
      group: "slow-reader",
      topics: ["task-events"],
      handler: async () => {
        held = true;
        await gate;
      },
    });
    try {
      const { task } = await mesh.taskClient.createTask({ title: "waits for the slow reader" }, { headers: u.headers });
      await eventually("the slow reader holds an event", async () => (held ? true : undefined));
      // A new group starts at the topic's oldest event; the new one is in the log once relayed.
      await eventually("the task's event is in the log", async () =>
        (await count(`SELECT count(*) AS n FROM events.log WHERE topic = 'task-events' AND key = $1`, [task!.id])) > 0 ? true : undefined,
      );
      const position = async () => count(`SELECT next_offset AS n FROM events.group_offsets WHERE group_id = 'slow-reader' AND topic = 'task-events'`);
      const unconsumed = async () => count(`SELECT count(*) AS n FROM events.log WHERE topic = 'task-events' AND "offset" >= $1`, [await position()]);
      const waiting = await unconsumed();
      assert.ok(waiting >= 1);
      // task-updates has no group reading it (live sync reads it as broadcast): pruned once old.
      await eventually("task-updates pruned", async () => ((await count(`SELECT count(*) AS n FROM events.log WHERE topic = 'task-updates'`)) === 0 ? true : undefined));
      await sleep(RETENTION_MS + 500);
      assert.equal(await unconsumed(), waiting, "what the group has not consumed stays, however old");
      assert.ok((await count(`SELECT count(*) AS n FROM events.log WHERE topic = 'task-events' AND "offset" < $1`, [await position()])) === 0, "what it consumed is gone");
      release();
      await eventually("the log is empty once consumed and old", async () => ((await count(`SELECT count(*) AS n FROM events.log`)) === 0 ? true : undefined));
    } finally {
      release();
      await slow.stop();
    }
  });

  test("processed_events: event ids are kept against redelivery for the retention, then pruned", async () => {
    const u = await mesh.user("processed");
    await mesh.taskClient.createTask({ title: "seen by reminders" }, { headers: u.headers });
    const recent = `SELECT count(*) AS n FROM reminders.processed_events WHERE processed_at > now() - interval '800 milliseconds'`;
    await eventually("reminders recorded the event", async () => ((await count(recent)) > 0 ? true : undefined));
    await reminders.retention.runOnce();
    assert.ok((await count(recent)) > 0, "kept within the retention");
    await sleep(RETENTION_MS + 200);
    assert.ok((await reminders.retention.runOnce())["reminders.processed_events"]! >= 1);
    assert.equal(await count(`SELECT count(*) AS n FROM reminders.processed_events`), 0);
  });
});
