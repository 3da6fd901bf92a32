// The built-in scheduler passes the scheduler contract on PGlite and on PostgreSQL.
import { openDatabase, type Database } from "@taskmesh/db";
import { createLogger } from "@taskmesh/kit";
import { databaseTargets } from "@taskmesh/testing";
import { PostgresScheduler, schedulerJobsMigration } from "../src/scheduler/postgres-scheduler.js";
import { schedulerContract } from "./scheduler-contract.js";

// Failing handlers are part of the contract: their warnings are expected noise here.
const logger = createLogger("scheduler-test");
logger.level = "error";
const schema = "scheduler_test";

for (const target of databaseTargets()) {
  schedulerContract({
    name: `built-in on ${target.name}`,
    async fresh() {
      const database = await target.fresh();
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
}
