// The relay sleeps only when it has nothing to publish and nothing was announced meanwhile: a
// NOTIFY for a record committed just after the relay read an empty outbox must not wait for the
// idle poll.
import { test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@taskmesh/db";
import { createLogger } from "@taskmesh/kit";
import { freshDatabase } from "@taskmesh/testing";
import { OutboxRelay, outboxMigration, writeOutbox, type EventRecord, type Outbox } from "../src/index.js";

const logger = createLogger("outbox-relay-test");
const outbox: Outbox = { schema: "relay_test", channel: "relay_test_outbox", lockKey: 917_001 };
const record: EventRecord = { topic: "task-events", key: "k", payload: new Uint8Array([1]), headers: {} };

/** `body` with a database of its own holding the outbox, dropped after it. */
async function withOutbox(body: (db: Database) => Promise<void>): Promise<void> {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema: outbox.schema, entities: [], migrations: [outboxMigration(outbox.schema)] });
  try {
    await body(db);
  } finally {
    await db.close();
    await fresh.drop();
  }
}

/** A relay that publishes by appending each record's key to `published`. */
const keyRecorder = (db: Database, published: string[], options: { batchSize?: number } = {}) =>
  new OutboxRelay(db, outbox, { send: async (records) => void published.push(...records.map((r) => r.key)) }, logger, options);

test("a record committed while the relay reads an empty outbox is published at once, not after the idle poll; stop is prompt", async () => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema: outbox.schema, entities: [], migrations: [outboxMigration(outbox.schema)] });
  const published: EventRecord[] = [];
  let raced = false;
  // The relay's view of the database: its first read of the outbox finds it empty, and a writer
  // commits (and notifies) before the relay gets to wait.
  const racing: Database = Object.create(db, {
    query: {
      value: async <Row>(em: Parameters<Database["query"]>[0], sql: string, params?: readonly unknown[]) => {
        const rows = await db.query<Row>(em, sql, params);
        if (!raced && /^SELECT[\s\S]*FROM relay_test\.outbox/.test(sql)) {
          raced = true;
          assert.equal(rows.length, 0);
          await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [record]));
          await new Promise((resolve) => setTimeout(resolve, 200)); // the NOTIFY arrives
        }
        return rows;
      },
    },
  });
  const relay = new OutboxRelay(racing, outbox, { send: async (records) => void published.push(...records) }, logger, { idlePollMs: 60_000 });
  await relay.start();
  try {
    const deadline = Date.now() + 5_000;
    while (published.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(raced, "the race was staged");
    assert.equal(published.length, 1, "published without waiting for the 60 s idle poll");
  } finally {
    const stopping = Date.now();
    await relay.stop();
    assert.ok(Date.now() - stopping < 5_000, "stop does not wait out the idle poll");
    await db.close();
    await fresh.drop();
  }
});

test("records go out in the order they were written, past 9 → 10 and 99 → 100", () =>
  withOutbox(async (db) => {
    const keys = Array.from({ length: 120 }, (_, i) => `k${i}`);
    for (const key of keys) await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [{ ...record, key }]));
    const published: string[] = [];
    const relay = keyRecorder(db, published, { batchSize: 50 });
    while ((await relay.publishBatch()) > 0);
    assert.deepEqual(published, keys);
  }));

test("a relay that finds another holding the outbox's lock publishes nothing and deletes nothing; it takes over once the lock is free", () =>
  withOutbox(async (db) => {
    await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [record, { ...record, key: "k2" }]));
    const published: string[] = [];
    const relay = keyRecorder(db, published);
    // Another relay's batch in progress: it holds the lock until its transaction ends.
    await db.em().transactional(async (other) => {
      await db.query(other, `SELECT pg_advisory_xact_lock($1)`, [outbox.lockKey]);
      assert.equal(await relay.publishBatch(), 0);
    });
    assert.deepEqual(published, []);
    assert.equal(await relay.backlog(), 2);
    assert.equal(await relay.publishBatch(), 2);
    assert.deepEqual(published, ["k", "k2"]);
    assert.equal(await relay.backlog(), 0);
  }));

test("two relays on one outbox, each publishing one record a batch as fast as it can: every record goes out exactly once", () =>
  withOutbox(async (db) => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
    await db.em().transactional(async (tx) =>
      writeOutbox(
        db,
        tx as never,
        outbox,
        keys.map((key) => ({ ...record, key })),
      ),
    );
    const published: string[] = [];
    // A batch's lock is released by its commit: a relay must read the outbox only after it holds the
    // lock, or it reads rows the relay before it published and deleted just then.
    const relays = [0, 1].map(() => keyRecorder(db, published, { batchSize: 1 }));
    await Promise.all(
      relays.map(async (relay) => {
        while ((await relay.backlog()) > 0) await relay.publishBatch();
      }),
    );
    const twice = published.filter((key, i) => published.indexOf(key) !== i);
    assert.deepEqual(twice, [], "published twice");
    assert.deepEqual([...published].sort(), [...keys].sort());
  }));

/** `db` with every read of the outbox counted, and `during` run after the first read that found rows. */
function countingReads(db: Database, during?: () => Promise<void>): { db: Database; reads: () => number } {
  let reads = 0;
  let staged = false;
  const counted: Database = Object.create(db, {
    query: {
      value: async <Row>(em: Parameters<Database["query"]>[0], sql: string, params?: readonly unknown[]) => {
        const rows = await db.query<Row>(em, sql, params);
        if (/^SELECT[\s\S]*FROM relay_test\.outbox o/.test(sql)) {
          reads++;
          if (during && !staged && rows.length > 0) {
            staged = true;
            await during();
          }
        }
        return rows;
      },
    },
  });
  return { db: counted, reads: () => reads };
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("after a batch short of the limit the relay waits for the next notification instead of reading the outbox again to find nothing", () =>
  withOutbox(async (db) => {
    const published: string[] = [];
    const counting = countingReads(db);
    const relay = new OutboxRelay(counting.db, outbox, { send: async (records) => void published.push(...records.map((r) => r.key)) }, logger, { idlePollMs: 60_000 });
    await relay.start();
    try {
      await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [record, { ...record, key: "k2" }]));
      await until("both published", () => published.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const readsAfterBatch = counting.reads();
      // The start's read of the empty outbox, then the batch's read; no empty read after it.
      assert.ok(readsAfterBatch <= 2, `${readsAfterBatch} reads of the outbox for one batch`);
      await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [{ ...record, key: "k3" }]));
      await until("the next record published", () => published.length === 3);
    } finally {
      await relay.stop();
    }
    assert.deepEqual(published, ["k", "k2", "k3"]);
  }));

test("a record committed while the relay publishes a batch short of the limit is published at once, not after the idle poll", () =>
  withOutbox(async (db) => {
    const published: string[] = [];
    const counting = countingReads(db, async () => {
      await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [{ ...record, key: "during" }]));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the NOTIFY arrives
    });
    const relay = new OutboxRelay(counting.db, outbox, { send: async (records) => void published.push(...records.map((r) => r.key)) }, logger, { idlePollMs: 60_000 });
    await relay.start();
    try {
      await db.em().transactional(async (tx) => writeOutbox(db, tx as never, outbox, [record]));
      await until("the record written during the batch published", () => published.length === 2);
    } finally {
      await relay.stop();
    }
    assert.deepEqual(published, ["k", "during"]);
  }));
