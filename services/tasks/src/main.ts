// The task service as its own process (cluster mode): PORT, DATABASE_URL, TASKMESH_PAGE_TOKEN_SECRET
// (optional: the HMAC key of page tokens; without it one kept in the database); with KAFKA_BROKERS and
// SCHEMA_REGISTRY_URL its outbox is relayed to Kafka. Credentials come from the Dapr secrets API
// when a sidecar runs beside it (DAPR_HTTP_PORT), else from the environment.
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startTelemetry, startServer } from "@taskmesh/kit";
import { resolveSecrets } from "@taskmesh/transport";
import { pageTokenKeyFromEnv, startTasksModule } from "./index.js";

const logger = createLogger("tasks");
await startTelemetry("tasks", logger);
const env = await resolveSecrets();
const databaseUrl = env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal("DATABASE_URL is not set: point it at PostgreSQL (postgres://user@host:5432/db)");
  process.exit(2);
}
const bus = await kafkaBusFromEnv(logger, env);
const tasks = await startTasksModule({
  databaseUrl,
  logger,
  events: bus && { system: bus.system, send: (records) => bus.publish(records) },
  pageTokenKey: pageTokenKeyFromEnv(env),
});
const server = await startServer(
  { logger, services: tasks.services, routes: tasks.routes, drainDelayMs: Number(env.DRAIN_DELAY_MS ?? 0) },
  Number(env.PORT ?? 8081),
);
logger.info({ port: server.port }, "tasks service listening");
drainOnSignals([server], logger, async () => {
  await tasks.stop();
  await bus?.close();
});
