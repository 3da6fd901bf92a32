// Release hook (the chart's prepare Job, before new pods take traffic): brings each service's
// database schema to this release's migrations and registers the event schemas in the registry,
// so a new version that cannot migrate or whose schemas the registry refuses (not BACKWARD
// compatible) stops the rollout while the old pods keep serving. Services still migrate on start
// (embedded mode, local stack); here it happens once, before any of them.
//
// Its settings: ./prepare-config.ts (README, Settings). Exits 0 when done, 1 on failure (the release
// stops there), 2 when its settings are refused.
import { openDatabase } from "@taskmesh/db";
import { confluentSchemaRegistry, registerSchemas } from "@taskmesh/events";
import { runJob } from "@taskmesh/kit";
import { AUDIT_SCHEMA, migrations as audit } from "@taskmesh/audit/migrations";
import { migrations as auth } from "@taskmesh/gateway/migrations";
import { SCHEMA as REMINDERS_SCHEMA, migrations as reminders } from "@taskmesh/reminders/migrations";
import { migrations as tasks } from "@taskmesh/tasks/migrations";
import { prepareConfig } from "./prepare-config.js";

/** Every service that owns a schema in the shared database, with the schema's name. */
const SCHEMAS = [
  { schema: "tasks", migrations: tasks },
  { schema: REMINDERS_SCHEMA, migrations: reminders },
  { schema: AUDIT_SCHEMA, migrations: audit },
  { schema: "auth", migrations: auth },
];

await runJob(
  {
    name: "prepare",
    async run(config, logger) {
      for (const { schema, migrations } of SCHEMAS) {
        const db = await openDatabase({ url: config.database.url, schema, entities: [], migrations, poolSize: 1 });
        await db.close();
        logger.info({ schema, migrations: migrations.length }, "schema migrated");
      }
      const ids = await registerSchemas({ registry: confluentSchemaRegistry(config.registry.SCHEMA_REGISTRY_URL) });
      logger.info({ subjects: Object.fromEntries(ids) }, "event schemas registered");
    },
  },
  prepareConfig,
);
