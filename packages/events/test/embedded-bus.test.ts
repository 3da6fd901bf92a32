// The embedded bus (event log on @taskmesh/db) on PostgreSQL: the bus contract, plus what only a
// database-backed log has to show (reopen, publishing from inside a caller's transaction).
import { afterAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { create, toBinary, type Message } from "@bufbuild/protobuf";
import { TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { openDatabase, type Database } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { deadLetterTopic, eventLogMigrations, EVENTS_CHANNEL, openEmbeddedBus, type EventBus, type EventRecord, type TopicContract } from "../src/index.js";
import { busContract } from "./bus-contract.js";
import { freshTopics, taskEventRecord, topicTableToEnv, versionOf, waitUntil } from "./fixtures.js";

const LEASE_MS = 2_000;

async function withEventsDb<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url, schema: "events", entities: [], migrations: eventLogMigrations });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const fresh = await freshDatabase();
afterAll(() => fresh.drop());

busContract({
  name: "embedded bus",
  system: "taskmesh_event_log",
  openBus: (topics) => openEmbeddedBus({ url: fresh.url, topics, leaseMs: LEASE_MS }),
  produceRaw: (_topics, topic, key, value) =>
    withEventsDb(fresh.url, async (db) => {
      await db.query(
        db.em(),
        `WITH head AS (
           INSERT INTO events.topics (topic, next_offset) VALUES ($1, 1)
           ON CONFLICT (topic) DO UPDATE SET next_offset = events.topics.next_offset + 1 RETURNING next_offset - 1 AS o)
         INSERT INTO events.log (topic, "offset", key, value) SELECT $1, o, $2, $3 FROM head`,
        [topic, key, value],
      );
      await db.query(db.em(), `SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, topic]);
    }),
  deadLetters: (_topics, topic) =>
    withEventsDb(fresh.url, (db) =>
      db.query<{ key: string; value: Uint8Array; headers: Record<string, string> }>(db.em(), `SELECT key, value, headers FROM events.log l WHERE l.topic = $1 ORDER BY l."offset"`, [
        deadLetterTopic(topic),
      ]),
    ),
  effectsUrl: () => fresh.url,
  childEnv: (topics: TopicContract[]) => ({ CHILD_BUS: "embedded", CHILD_BUS_URL: fresh.url, CHILD_LEASE_MS: String(LEASE_MS), CHILD_TOPICS: topicTableToEnv(topics) }),
});

describe("embedded bus", () => {
  test("survives reopen: what was published before a restart is delivered, what was consumed is not again", async () => {
    const t = freshTopics();
    const key = randomUUID();
    let bus: EventBus = await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS });
    await bus.publish(Array.from({ length: 30 }, (_, i) => taskEventRecord(t.taskEvents, key, i + 1)));
    const seen: number[] = [];
    const collect = async (e: { value: Message }) => void seen.push(versionOf(e.value));
    let sub = await bus.subscribe({
      group: "reopen",
      topics: [t.taskEvents],
      handler: async (e) => {
        await collect(e);
        if (seen.length === 10) void sub.stop();
      },
    });
    await waitUntil("ten events", () => seen.length >= 10);
    await sub.stop();
    await bus.close();

    bus = await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS });
    await bus.publish(Array.from({ length: 5 }, (_, i) => taskEventRecord(t.taskEvents, key, 31 + i)));
    sub = await bus.subscribe({ group: "reopen", topics: [t.taskEvents], handler: collect });
    await waitUntil("the rest", () => seen.length >= 35);
    await new Promise((r) => setTimeout(r, 200));
    await sub.stop();
    await bus.close();
    assert.deepEqual(
      seen,
      Array.from({ length: 35 }, (_, i) => i + 1),
    );
  });

  test("publish inside a caller's transaction on the same database does not join it: its events stand when the caller rolls back", async () => {
    const t = freshTopics();
    const bus = await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS });
    const caller = await openDatabase({ url: fresh.url, schema: "relay_like", entities: [], migrations: [] });
    try {
      const key = randomUUID();
      // As the outbox relay does: read under a transaction, publish, then delete.
      await caller.em().transactional(async (em) => {
        await caller.query(em, `SELECT 1`);
        await bus.publish([taskEventRecord(t.taskEvents, key, 1)]);
      });
      await assert.rejects(
        caller.em().transactional(async () => {
          await bus.publish([taskEventRecord(t.taskEvents, key, 99)]);
          throw new Error("relay failed after publishing");
        }),
        /relay failed/,
      );
      await bus.publish([taskEventRecord(t.taskEvents, key, 2)]);
      const versions: number[] = [];
      const sub = await bus.subscribe({ group: "joined", topics: [t.taskEvents], handler: async (e) => void versions.push(versionOf(e.value)) });
      await waitUntil("two events", () => versions.length >= 2);
      await new Promise((r) => setTimeout(r, 200));
      await sub.stop();
      assert.deepEqual(versions, [1, 99, 2]);
    } finally {
      await caller.close();
      await bus.close();
    }
  });

  test("an event published while the reader handles the batch before it is delivered at once, not after the idle poll", async () => {
    const t = freshTopics();
    const bus = await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS, idlePollMs: 60_000 });
    try {
      const key = randomUUID();
      const seen: number[] = [];
      const sub = await bus.subscribe({
        group: "drained",
        topics: [t.taskEvents],
        handler: async (e) => {
          seen.push(versionOf(e.value));
          // Published after the batch's read: the reader finds its batch drained and must not sleep past this one.
          if (seen.length === 1) await bus.publish([taskEventRecord(t.taskEvents, key, 2)]);
        },
      });
      await bus.publish([taskEventRecord(t.taskEvents, key, 1)]);
      await waitUntil("both events", () => seen.length >= 2);
      await sub.stop();
      assert.deepEqual(seen, [1, 2]);
    } finally {
      await bus.close();
    }
  });

  test("two members of a group: one reads the topic while the other stands by, each event once; the other takes over where it stopped", async () => {
    const t = freshTopics();
    const buses = [await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS }), await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS })];
    try {
      const key = randomUUID();
      const seen: { member: number; version: number }[] = [];
      const subs = [];
      for (const [member, bus] of buses.entries()) {
        subs.push(await bus.subscribe({ group: "pair", topics: [t.taskEvents], handler: async (e) => void seen.push({ member, version: versionOf(e.value) }) }));
      }
      for (let i = 1; i <= 20; i++) await buses[i % 2]!.publish([taskEventRecord(t.taskEvents, key, i)]);
      await waitUntil("the first twenty", () => seen.length >= 20);
      await new Promise((r) => setTimeout(r, 300));
      const first = seen[0]!.member;
      assert.deepEqual(
        seen,
        Array.from({ length: 20 }, (_, i) => ({ member: first, version: i + 1 })),
      );
      await subs[first]!.stop();
      for (let i = 21; i <= 40; i++) await buses[first]!.publish([taskEventRecord(t.taskEvents, key, i)]);
      await waitUntil("the next twenty", () => seen.length >= 40);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        seen.slice(20),
        Array.from({ length: 20 }, (_, i) => ({ member: 1 - first, version: i + 21 })),
      );
      await subs[1 - first]!.stop();
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });

  test("publishes over two topics, at once from two buses in opposite topic orders: each topic's offsets run on from 0, none missing or twice, each publish's in its order", async () => {
    const t = freshTopics();
    // One after the other: each migrates the log when it opens.
    const buses = [await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS }), await openEmbeddedBus({ url: fresh.url, topics: t.table, leaseMs: LEASE_MS })];
    try {
      const update = (key: string): EventRecord => ({ topic: t.taskUpdates, key, payload: toBinary(TaskUpdateSchema, create(TaskUpdateSchema, { userId: key })), headers: {} });
      // Each publish: an event, an update, an event (bus 0) or an update, an event, an update (bus 1).
      const publishes = Array.from({ length: 40 }, (_, i) => {
        const k = (n: number) => `p${i}-${n}`;
        const records =
          i % 2 === 0 ? [taskEventRecord(t.taskEvents, k(0), 1), update(k(1)), taskEventRecord(t.taskEvents, k(2), 1)] : [update(k(0)), taskEventRecord(t.taskEvents, k(1), 1), update(k(2))];
        return { records, done: buses[i % 2]!.publish(records) };
      });
      await Promise.all(publishes.map((p) => p.done));
      await withEventsDb(fresh.url, async (db) => {
        for (const topic of [t.taskEvents, t.taskUpdates]) {
          const rows = await db.query<{ offset: string; key: string }>(db.em(), `SELECT "offset"::text AS "offset", key FROM events.log l WHERE l.topic = $1 ORDER BY l."offset"`, [topic]);
          const expected = publishes.flatMap((p) => p.records.filter((r) => r.topic === topic).map((r) => r.key));
          assert.deepEqual(
            rows.map((r) => Number(r.offset)),
            expected.map((_, i) => i),
          );
          assert.deepEqual(new Set(rows.map((r) => r.key)), new Set(expected));
          // A publish's records of one topic sit in its order.
          for (const p of publishes) {
            const mine = p.records.filter((r) => r.topic === topic).map((r) => r.key);
            assert.deepEqual(
              rows.filter((r) => mine.includes(r.key)).map((r) => r.key),
              mine,
            );
          }
          const [head] = await db.query<{ next: string }>(db.em(), `SELECT next_offset::text AS next FROM events.topics WHERE topic = $1`, [topic]);
          assert.equal(Number(head!.next), expected.length);
        }
      });
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });
});
