// Which statements a session prepares (prepared-statements.ts), without a server.
import { test } from "vitest";
import assert from "node:assert/strict";
import { fixedColumns, MAX_PER_SESSION, PLANNED_EACH_CALL, preparedArgs } from "../src/prepared-statements.js";

test("result columns that follow a table's definition are told apart from fixed ones", () => {
  for (const sql of [
    `SELECT r.*, t.title FROM reminders.reminders r JOIN reminders.tasks t USING (task_id) WHERE r.id = $1`,
    `select "u0".* from "auth"."users" as "u0" where "u0"."id" = $1 limit $2`,
    `SELECT * FROM reminders.reminders WHERE task_id = ANY($1::uuid[]) FOR UPDATE`,
    `SELECT *\n  FROM tasks.tasks WHERE id = $1`,
    `UPDATE tasks.tasks SET title = $2 WHERE id = $1 RETURNING *`,
    `INSERT INTO x (a, b) SELECT *, $3::timestamptz FROM unnest($1::uuid[], $2::text[])`,
  ])
    assert.equal(fixedColumns(sql), false, sql);
  for (const sql of [
    `SELECT id, title FROM tasks.tasks WHERE id = $1`,
    `INSERT INTO tasks.outbox (topic, key) SELECT * FROM unnest($1::text[], $2::text[])`,
    `INSERT INTO t (a) SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (a int))`,
    `SELECT count(*)::int AS n FROM tasks.tasks WHERE user_id = $1`,
  ])
    assert.equal(fixedColumns(sql), true, sql);
});

const THRESHOLD = 3;

test(`a text is prepared from its third run on (threshold ${THRESHOLD}), under one name in every session; without parameters, planned each call or beyond the session's cap it runs unnamed`, () => {
  const sql = `SELECT id FROM tasks.tasks WHERE id = $1 -- ${Math.random()}`;
  const first = new Map<string, string>();
  for (let i = 1; i < THRESHOLD; i++) assert.deepEqual(preparedArgs(first, [sql, [i]], THRESHOLD), [sql, [i]]);
  const [prepared] = preparedArgs(first, [sql, [7]], THRESHOLD) as [{ name: string; text: string; values: unknown[] }];
  assert.equal(prepared.text, sql);
  assert.deepEqual(prepared.values, [7]);
  assert.match(prepared.name, /^tm_[\w-]{27}$/);
  const second = new Map<string, string>();
  assert.equal((preparedArgs(second, [sql, [8]], THRESHOLD)[0] as { name: string }).name, prepared.name, "the same name in another session");

  assert.deepEqual(preparedArgs(first, ["BEGIN"], THRESHOLD), ["BEGIN"]);
  assert.deepEqual(preparedArgs(first, [sql, []], THRESHOLD), [sql, []]);

  const listed = `${PLANNED_EACH_CALL}SELECT id FROM tasks.tasks WHERE user_id = $1 ORDER BY updated_at LIMIT 51`;
  for (let i = 0; i < THRESHOLD + 2; i++) assert.deepEqual(preparedArgs(first, [listed, ["u"]], THRESHOLD), [listed, ["u"]]);

  const full = new Map(Array.from({ length: MAX_PER_SESSION }, (_, i) => [`SELECT ${i}`, `n${i}`]));
  assert.deepEqual(preparedArgs(full, [sql, [9]], THRESHOLD), [sql, [9]]);
  assert.equal(full.size, MAX_PER_SESSION);
});
