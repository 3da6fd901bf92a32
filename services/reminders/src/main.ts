// The reminders service as its own process (cluster mode): PORT (default 8083), DATABASE_URL; with
// KAFKA_BROKERS and SCHEMA_REGISTRY_URL it arms reminders from task-events and publishes
// ReminderEvents; TASKS_URL for SetReminders; SMTP_URL and REMINDERS_EMAIL_FROM for e-mail;
// SCHEDULER_LEASE_MS: how long a crashed replica's claimed timers wait before another takes them.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { PostgresScheduler, smtpFromEnv, startRemindersModule } from "./index.js";
import { SCHEMA } from "./migrations/index.js";

const logger = createLogger("reminders");
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal("DATABASE_URL is not set (postgres://… or pglite:<dir>)");
  process.exit(2);
}
const events = await kafkaBusFromEnv(logger);
const tasksUrl = process.env.TASKS_URL;
if (!tasksUrl) logger.warn("TASKS_URL is not set: SetReminders answers UNIMPLEMENTED (e.g. TASKS_URL=http://tasks:8081)");
const smtp = smtpFromEnv();
if (!smtp) logger.warn("SMTP_URL is not set: e-mail deliveries fail (retried, then recorded as failed)");
const reminders = await startRemindersModule({
  databaseUrl,
  events,
  tasks: tasksUrl ? createClient(TaskService, createGrpcTransport({ baseUrl: tasksUrl })) : undefined,
  smtp,
  logger,
  scheduler: (db) => new PostgresScheduler(db, { schema: SCHEMA, logger, leaseMs: Number(process.env.SCHEDULER_LEASE_MS ?? 10_000) }),
});
const server = await startServer(
  { logger, services: reminders.services, routes: reminders.routes, drainDelayMs: Number(process.env.DRAIN_DELAY_MS ?? 0) },
  Number(process.env.PORT ?? 8083),
);
logger.info({ port: server.port, consumesEvents: Boolean(events) }, "reminders service listening");
drainOnSignals([server], logger, async () => {
  await reminders.stop();
  await events?.close();
});
