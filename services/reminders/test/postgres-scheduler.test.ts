// The built-in scheduler passes the scheduler contract on PostgreSQL.
import { openDatabase, type Database } from "@taskmesh/db";
import { createLogger } from "@taskmesh/kit";
import { freshDatabase } from "@taskmesh/testing";
import { PostgresScheduler, schedulerJobsMigration } from "../src/scheduler/postgres-scheduler.js";
import { schedulerContract } from "./scheduler-contract.js";

// Failing handlers are part of the contract: their warnings are expected noise here.
const logger = createLogger("scheduler-test");
logger.level = "error";
const schema = "scheduler_test";

schedulerContract({
  name: "built-in",
  async fresh() {
    const database = await freshDatabase();
    const opened: Database[] = [];
    return {
      async open() {
        // Each replica its own connection pool, as separate processes would have.
        const db = await openDatabase({ url: database.url, schema, entities: [], migrations: [schedulerJobsMigration(schema)] });
        opened.push(db);
        return new PostgresScheduler(db, { schema, logger, leaseMs: 5_000, retryMs: 100 });
      },
      async drop() {
        for (const db of opened) await db.close();
        await database.drop();
      },
    };
  },
});
