// The audit service as its own process (cluster mode): PORT (default 8084), DATABASE_URL; with
// KAFKA_BROKERS and SCHEMA_REGISTRY_URL it records task-events and reminders. AUDIT_RETENTION_DAYS
// (default 90) sets how long entries are kept. Credentials come from the Dapr secrets API when a
// sidecar runs beside it, else from the environment.
import { createClient } from "@connectrpc/connect";
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startTelemetry, startServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { resolveSecrets, serviceTransport, transportConfigFromEnv } from "@taskmesh/transport";
import { startAuditModule } from "./index.js";

const logger = createLogger("audit");
await startTelemetry("audit", logger);
const env = await resolveSecrets();
const databaseUrl = env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal("DATABASE_URL is not set: point it at PostgreSQL (postgres://user@host:5432/db)");
  process.exit(2);
}
const events = await kafkaBusFromEnv(logger, env);
if (!events) logger.warn("KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set: serving the history without recording new events");
// The task service (its sidecar, or TASKS_URL) lets members of shared projects read their tasks' history.
const transport = transportConfigFromEnv(["tasks"], env);
const reachesTasks = transport.mode === "dapr" || Boolean(transport.urls.tasks);
const audit = await startAuditModule({ databaseUrl, events, logger, ...(reachesTasks ? { tasks: createClient(TaskService, serviceTransport(transport, "tasks")) } : {}) });
const server = await startServer(
  { logger, services: audit.services, routes: audit.routes, drainDelayMs: Number(env.DRAIN_DELAY_MS ?? 0) },
  Number(env.PORT ?? 8084),
);
logger.info({ port: server.port, consumesEvents: Boolean(events) }, "audit service listening");
drainOnSignals([server], logger, async () => {
  await audit.stop();
  await events?.close();
});
