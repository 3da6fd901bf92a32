// LISTEN sessions outlive a PostgreSQL that drops them (restart, failover, admin kill).
import { test } from "vitest";
import assert from "node:assert/strict";
import { freshDatabase } from "@taskmesh/testing";
import { openDatabase } from "../src/index.js";

test("a dropped LISTEN session is re-opened and says notifications may have been missed", async () => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema: "listen_test", entities: [], migrations: [] });
  const received: (string | null)[] = [];
  const arrived = (value: string | null) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (received.includes(value)) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
  try {
    const unlisten = await db.listen("wake", (payload) => received.push(payload));
    await db.query(db.em(), `SELECT pg_notify('wake', 'before')`);
    await arrived("before");

    await db.query(db.em(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`);
    await arrived(null);
    await db.query(db.em(), `SELECT pg_notify('wake', 'after')`);
    await arrived("after");
    assert.deepEqual(received, ["before", null, "after"]);
    await unlisten();
  } finally {
    await db.close();
    await fresh.drop();
  }
});
