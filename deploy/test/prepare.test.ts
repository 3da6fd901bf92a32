import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, test } from "vitest";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import pg from "pg";
import { root } from "./tools.js";

const registryUrl = process.env.TASKMESH_TEST_SCHEMA_REGISTRY_URL;
let database: FreshDatabase;

beforeAll(async () => {
  if (!registryUrl) throw new Error("TASKMESH_TEST_SCHEMA_REGISTRY_URL is not set: run this test through `npm test`");
  database = await freshDatabase();
});
afterAll(() => database?.drop());

function prepare(env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import=tsx", "deploy/src/prepare.ts"], { cwd: root, env: { ...process.env, LOG_LEVEL: "error", ...env }, encoding: "utf8", timeout: 180_000 });
}

test("the release hook migrates every service's schema and registers the event schemas, and is a no-op the second time", async () => {
  for (let run = 1; run <= 2; run++) {
    const r = prepare({ DATABASE_URL: database.url, SCHEMA_REGISTRY_URL: registryUrl! });
    assert.equal(r.status, 0, `run ${run}: ${r.stdout}${r.stderr}`);
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string; n: string }>(
      `SELECT table_schema AS schema, count(*) AS n FROM information_schema.tables WHERE table_name = 'mikro_orm_migrations' GROUP BY table_schema ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.schema),
      ["audit", "auth", "reminders", "tasks"],
    );
    for (const schema of ["audit", "auth", "reminders", "tasks"]) {
      const applied = await client.query(`SELECT count(*)::int AS n FROM ${schema}.mikro_orm_migrations`);
      assert.ok(applied.rows[0].n > 0, `${schema}: migrations recorded once`);
    }
  } finally {
    await client.end();
  }
  const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
  for (const topic of ["task-events", "reminders", "task-updates"]) assert.ok(subjects.includes(`${topic}-value`), topic);
});

test("the hook fails, so the release stops, when the registry cannot be reached", () => {
  const r = prepare({ DATABASE_URL: database.url, SCHEMA_REGISTRY_URL: "http://127.0.0.1:9/apis/ccompat/v7" });
  assert.equal(r.status, 1, r.stdout + r.stderr);
});
