// The reminders service as its own process (cluster mode): PORT (default 8083), DATABASE_URL; with
// KAFKA_BROKERS and SCHEMA_REGISTRY_URL it arms reminders from task-events and publishes
// ReminderEvents; SetReminders calls the task service through its Dapr sidecar (DAPR_GRPC_PORT) or
// directly (TASKMESH_TRANSPORT=direct, TASKS_URL); SMTP_URL and REMINDERS_EMAIL_FROM for e-mail;
// REMINDERS_SCHEDULER: where timers live, `postgres` (default: this service's database) or
// `dapr-jobs` (the Dapr Jobs API of the sidecar, DAPR_HTTP_PORT, delivered by Dapr's scheduler);
// SCHEDULER_LEASE_MS: how long a crashed replica's claimed timers wait before another takes them;
// TASKMESH_WEBHOOK_ALLOWED_HOSTS and TASKMESH_WEBHOOK_ALLOW_HTTP: where webhooks and push endpoints
// may go (see README); TASKMESH_VAPID_PUBLIC_KEY, _PRIVATE_KEY and _SUBJECT: Web Push (off without).
// Credentials come from the Dapr secrets API when a sidecar runs beside it, else the environment.
import { createClient } from "@connectrpc/connect";
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startTelemetry, startServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { resolveSecrets, serviceTransport, transportConfigFromEnv } from "@taskmesh/transport";
import type { Database } from "@taskmesh/db";
import { DaprJobsScheduler, PostgresScheduler, smtpFromEnv, startRemindersModule, vapidKeys, webhookTargetsFromEnv, type Scheduler } from "./index.js";
import { SCHEMA } from "./migrations/index.js";

const logger = createLogger("reminders");
await startTelemetry("reminders", logger);
const env = await resolveSecrets();
const databaseUrl = env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal("DATABASE_URL is not set (postgres://user@host:5432/db)");
  process.exit(2);
}
const events = await kafkaBusFromEnv(logger, env);
const transport = transportConfigFromEnv(["tasks"], env);
const reachesTasks = transport.mode === "dapr" || Boolean(transport.urls.tasks);
if (!reachesTasks) logger.warn("TASKS_URL is not set: SetReminders answers UNIMPLEMENTED (e.g. TASKS_URL=http://tasks:8081)");
function schedulerFromEnv(db: Database): Scheduler {
  const kind = env.REMINDERS_SCHEDULER ?? "postgres";
  if (kind === "dapr-jobs") return new DaprJobsScheduler(db, { daprHttpUrl: `http://127.0.0.1:${env.DAPR_HTTP_PORT ?? 3500}`, schema: SCHEMA, logger });
  if (kind === "postgres") return new PostgresScheduler(db, { schema: SCHEMA, logger, leaseMs: Number(env.SCHEDULER_LEASE_MS ?? 10_000) });
  logger.fatal(`REMINDERS_SCHEDULER must be postgres or dapr-jobs, got "${kind}"`);
  process.exit(2);
}
logger.info({ scheduler: env.REMINDERS_SCHEDULER ?? "postgres" }, "timer backend");
const smtp = smtpFromEnv(env);
if (!smtp) logger.warn("SMTP_URL is not set: e-mail deliveries fail (retried, then recorded as failed)");
const webhooks = webhookTargetsFromEnv(env);
logger.info({ allowedHosts: webhooks.allowedHosts, allowHttp: webhooks.allowHttp }, "webhook targets");
const reminders = await startRemindersModule({
  databaseUrl,
  events,
  tasks: reachesTasks ? createClient(TaskService, serviceTransport(transport, "tasks")) : undefined,
  smtp,
  webhooks,
  vapid: vapidKeys(env),
  logger,
  scheduler: (db) => schedulerFromEnv(db),
});
const server = await startServer(
  { logger, services: reminders.services, routes: reminders.routes, drainDelayMs: Number(env.DRAIN_DELAY_MS ?? 0) },
  Number(env.PORT ?? 8083),
);
logger.info({ port: server.port, consumesEvents: Boolean(events) }, "reminders service listening");
drainOnSignals([server], logger, async () => {
  await reminders.stop();
  await events?.close();
});
