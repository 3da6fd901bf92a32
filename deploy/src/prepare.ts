// Release hook (the chart's prepare Job, before new pods take traffic): brings each service's
// database schema to this release's migrations and registers the event schemas in the registry,
// so a new version that cannot migrate or whose schemas the registry refuses (not BACKWARD
// compatible) stops the rollout while the old pods keep serving. Services still migrate on start
// (embedded mode, local stack); here it happens once, before any of them.
//
// DATABASE_URL and SCHEMA_REGISTRY_URL as for the services. Exits 0 when done, 1 on failure.
import { openDatabase } from "@taskmesh/db";
import { confluentSchemaRegistry, registerSchemas } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { AUDIT_SCHEMA, migrations as audit } from "@taskmesh/audit/migrations";
import { migrations as auth } from "@taskmesh/gateway/migrations";
import { SCHEMA as REMINDERS_SCHEMA, migrations as reminders } from "@taskmesh/reminders/migrations";
import { migrations as tasks } from "@taskmesh/tasks/migrations";

/** Every service that owns a schema in the shared database, with the schema's name. */
const SCHEMAS = [
  { schema: "tasks", migrations: tasks },
  { schema: REMINDERS_SCHEMA, migrations: reminders },
  { schema: AUDIT_SCHEMA, migrations: audit },
  { schema: "auth", migrations: auth },
];

const logger = createLogger("prepare");

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const registryUrl = process.env.SCHEMA_REGISTRY_URL;
  if (!url || !registryUrl) throw new Error("set DATABASE_URL and SCHEMA_REGISTRY_URL");
  for (const { schema, migrations } of SCHEMAS) {
    const db = await openDatabase({ url, schema, entities: [], migrations, poolSize: 1 });
    await db.close();
    logger.info({ schema, migrations: migrations.length }, "schema migrated");
  }
  const ids = await registerSchemas({ registry: confluentSchemaRegistry(registryUrl) });
  logger.info({ subjects: Object.fromEntries(ids) }, "event schemas registered");
}

try {
  await main();
} catch (err) {
  logger.fatal({ err }, "prepare failed: the release stops here");
  process.exitCode = 1;
}
