// A connection lost in the middle of a transaction (PostgreSQL killed or restarted, a link cut)
// must give its place in the pool back: otherwise every loss takes one place for good, and once
// the pool is used up every query of the service waits forever.
import { test } from "vitest";
import assert from "node:assert/strict";
import { freshDatabase } from "@taskmesh/testing";
import pg from "pg";
import { openDatabase, type Database } from "../src/index.js";

/** Ends the sessions of `db` that run `query` (as a server restart would), once there is one. */
async function terminate(admin: pg.Client, query: string): Promise<void> {
  for (;;) {
    const { rows } = await admin.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = $1`,
      [query],
    );
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A query that must come back: the pool's only place has to be free again. */
async function answers(db: Database): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)));
  const answered = db.query<{ one: number }>(db.em(), "SELECT 1 AS one").then((rows) => rows[0]?.one === 1);
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const when of ["during a statement", "before its commit"] as const) {
  test(`a transaction whose connection is lost ${when} gives its pool place back`, async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase({ url: fresh.url, schema: "lost_test", entities: [], migrations: [], poolSize: 1 });
    const admin = new pg.Client({ connectionString: fresh.url });
    await admin.connect();
    try {
      const marker = when === "during a statement" ? "SELECT pg_sleep(30)" : "SELECT 'last statement before commit'";
      const failed = db
        .em()
        .transactional(async (em) => {
          await db.query(em, marker);
          // The session is ended after the statement answered and before COMMIT is sent.
          if (when === "before its commit") await terminate(admin, marker);
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      if (when === "during a statement") await terminate(admin, marker);
      assert.ok(await failed, "the transaction fails with its connection");
      assert.ok(await answers(db), "the next query gets a connection within 10 s");
    } finally {
      await admin.end();
      await fresh.drop();
      // A pool still holding the lost connection never finishes closing.
      await Promise.race([db.close(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    }
  });
}
