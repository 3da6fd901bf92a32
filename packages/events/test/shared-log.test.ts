// The log reads the readers of one process share: one read for readers asking for the same rows
// while it runs, never one begun before a signal the asker saw. The database is a fake that
// records statements.
import { test } from "vitest";
import assert from "node:assert/strict";
import { SharedLog, type LogRow } from "../src/embedded/shared-log.js";
import { Wakeup } from "../src/embedded/wakeup.js";

interface Statement {
  sql: string;
  params: readonly unknown[];
  answer(rows: object[]): void;
  fail(err: Error): void;
}

function fakeDatabase() {
  const statements: Statement[] = [];
  const query = <Row>(sql: string, params: readonly unknown[]) =>
    new Promise<Row[]>((resolve, reject) => {
      statements.push({ sql, params, answer: (rows) => resolve(rows as Row[]), fail: reject });
    });
  return { statements, query };
}

const row = (offset: number): LogRow => ({ offset: String(offset), key: "k", value: new Uint8Array([offset]), headers: {} });
const reads = (statements: Statement[]) => statements.filter((s) => s.sql.includes("FROM events.log"));

test("readers asking for the same rows while a read runs share it; a read begun before a signal they saw is not theirs", async () => {
  const db = fakeDatabase();
  const wakeup = new Wakeup();
  const log = new SharedLog(db.query, () => wakeup);
  const seen = wakeup.generation;
  const first = log.read("t", 5n, 500, seen);
  const second = log.read("t", 5n, 500, seen);
  const elsewhere = log.read("t", 7n, 500, seen);
  assert.equal(reads(db.statements).length, 2, "one read from 5, one from 7");
  wakeup.signal();
  const afterSignal = log.read("t", 5n, 500, wakeup.generation);
  assert.equal(reads(db.statements).length, 3, "a reader that saw a signal since the read from 5 began reads again");
  const late = log.read("t", 5n, 500, seen);
  assert.equal(reads(db.statements).length, 3, "a reader whose last signal is older joins the newest read");

  db.statements[0]!.answer([row(5), row(6)]);
  db.statements[1]!.answer([row(7)]);
  db.statements[2]!.answer([row(5), row(6), row(7)]);
  assert.deepEqual(await first, [row(5), row(6)]);
  assert.equal(await second, await first);
  assert.deepEqual(await elsewhere, [row(7)]);
  assert.deepEqual(await afterSignal, [row(5), row(6), row(7)]);
  assert.equal(await late, await afterSignal);

  const again = log.read("t", 5n, 500, wakeup.generation);
  assert.equal(reads(db.statements).length, 4, "a read that ended serves no one after");
  db.statements[3]!.answer([]);
  assert.deepEqual(await again, []);
});

test("a failed read fails the readers that shared it, and the next read is a new one", async () => {
  const db = fakeDatabase();
  const wakeup = new Wakeup();
  const log = new SharedLog(db.query, () => wakeup);
  const a = log.read("t", 0n, 10, 0);
  const b = log.read("t", 0n, 10, 0);
  db.statements[0]!.fail(new Error("connection terminated"));
  await assert.rejects(a, /connection terminated/);
  await assert.rejects(b, /connection terminated/);
  const c = log.read("t", 0n, 10, 0);
  assert.equal(reads(db.statements).length, 2);
  db.statements[1]!.answer([row(0)]);
  assert.deepEqual(await c, [row(0)]);
});
