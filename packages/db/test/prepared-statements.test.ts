// Statements a session runs again and again are prepared on the server once (prepared-statements.ts),
// and a change of a table under them neither breaks them nor those whose columns follow the table.
import { test } from "vitest";
import assert from "node:assert/strict";
import { freshDatabase } from "@taskmesh/testing";
import pg from "pg";
import { openDatabase } from "../src/index.js";
import { DEFAULT_PREPARE_THRESHOLD as THRESHOLD, PLANNED_EACH_CALL } from "../src/prepared-statements.js";

async function withTable(run: (db: Awaited<ReturnType<typeof openDatabase>>, admin: pg.Client) => Promise<void>, urlParams = ""): Promise<void> {
  const fresh = await freshDatabase();
  const url = urlParams ? `${fresh.url}${fresh.url.includes("?") ? "&" : "?"}${urlParams}` : fresh.url;
  const db = await openDatabase({ url, schema: "prepared_test", entities: [], migrations: [], poolSize: 1 });
  const admin = new pg.Client({ connectionString: fresh.url });
  await admin.connect();
  try {
    await admin.query(`CREATE TABLE prepared_test.notes (id int PRIMARY KEY, body text NOT NULL)`);
    await admin.query(`INSERT INTO prepared_test.notes VALUES (1, 'one'), (2, 'two')`);
    await run(db, admin);
  } finally {
    await admin.end();
    await db.close();
    await fresh.drop();
  }
}

/** The statements the pool's one session has prepared. */
async function preparedIn(db: Awaited<ReturnType<typeof openDatabase>>): Promise<string[]> {
  const rows = await db.query<{ statement: string }>(db.em(), "SELECT statement FROM pg_prepared_statements ORDER BY prepare_time");
  return rows.map((r) => r.statement);
}

test(`a statement run ${THRESHOLD} times is prepared in the session and answers as before, also after a column is added to its table`, async () => {
  await withTable(async (db, admin) => {
    const sql = "SELECT id, body FROM prepared_test.notes WHERE id = $1";
    for (let i = 0; i < THRESHOLD + 2; i++) assert.deepEqual(await db.query(db.em(), sql, [1 + (i % 2)]), [{ id: 1 + (i % 2), body: i % 2 ? "two" : "one" }]);
    assert.deepEqual(await preparedIn(db), [sql]);
    await admin.query(`ALTER TABLE prepared_test.notes ADD COLUMN done boolean NOT NULL DEFAULT false`);
    assert.deepEqual(await db.query(db.em(), sql, [2]), [{ id: 2, body: "two" }]);
  });
});

test("a statement whose columns follow its table stays unprepared: after a column is added it returns it instead of failing", async () => {
  await withTable(async (db, admin) => {
    const sql = "SELECT n.* FROM prepared_test.notes n WHERE id = $1";
    for (let i = 0; i < THRESHOLD + 2; i++) await db.query(db.em(), sql, [1]);
    assert.deepEqual(await preparedIn(db), []);
    await admin.query(`ALTER TABLE prepared_test.notes ADD COLUMN done boolean NOT NULL DEFAULT false`);
    assert.deepEqual(await db.query(db.em(), sql, [1]), [{ id: 1, body: "one", done: false }]);
  });
});

test("a statement planned each call is never prepared, however often it runs", async () => {
  await withTable(async (db) => {
    const sql = `${PLANNED_EACH_CALL}SELECT id FROM prepared_test.notes WHERE body = $1`;
    for (let i = 0; i < THRESHOLD + 2; i++) assert.deepEqual(await db.query(db.em(), sql, ["two"]), [{ id: 2 }]);
    assert.deepEqual(await preparedIn(db), []);
  });
});

test("prepare_threshold=0 in the database URL prepares nothing (a pooler in transaction mode); a value that is not a count is refused", async () => {
  await withTable(async (db) => {
    for (let i = 0; i < THRESHOLD + 2; i++) await db.query(db.em(), "SELECT id FROM prepared_test.notes WHERE id = $1", [1]);
    assert.deepEqual(await preparedIn(db), []);
  }, "prepare_threshold=0");
  await assert.rejects(
    openDatabase({ url: "postgres://u@127.0.0.1:1/db?prepare_threshold=few", schema: "x", entities: [], migrations: [] }),
    /prepare_threshold must be a whole number of runs, 0 to prepare nothing \(got "few"\)/,
  );
});
