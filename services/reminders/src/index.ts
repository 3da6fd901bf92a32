import type { Client, ConnectRouter } from "@connectrpc/connect";
import { openDatabase, type Database } from "@taskmesh/db";
import { DAY_MS, OutboxRelay, processedEventsPruned, RetentionJob, type EventBus } from "@taskmesh/events";
import { createLogger, smtpMailer, type Logger } from "@taskmesh/kit";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { DeliveryOptions } from "./delivery.js";
import { PROCESSED_EVENTS_RETENTION_DAYS } from "./config.js";

export { smtpSettings } from "./email.js";
export { remindersConfig, remindersSettings, schedulerSettings } from "./config.js";
import { entities } from "./entities.js";
import { migrations, SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { ReminderEngine } from "./reminder-engine.js";
import { createReminderServiceImpl } from "./reminder-service.js";
import type { VapidKeys } from "./push.js";
import { PostgresScheduler } from "./scheduler/postgres-scheduler.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import { startTaskEventsConsumer } from "./task-events-consumer.js";
import { WebhookTargetPolicy, type WebhookTargetOptions } from "./webhook-target.js";

export type { DueHandler, DueJob, Scheduler, SchedulerJob } from "./scheduler/scheduler.js";
export { PostgresScheduler, schedulerJobsMigration, type PostgresSchedulerOptions } from "./scheduler/postgres-scheduler.js";
export { DaprJobsScheduler, type DaprJobsSchedulerOptions } from "./scheduler/dapr-jobs-scheduler.js";
export { afterQuietHours, type QuietHours } from "./quiet-hours.js";
export { signatureHeader, SIGNATURE_HEADER, EVENT_ID_HEADER } from "./webhook.js";
export {
  webhookSettings,
  WebhookTargetPolicy,
  WebhookTargetRefused,
  type ResolveHost,
  type WebhookTargetOptions,
} from "./webhook-target.js";
export { vapidKeys, vapidSettings, type VapidKeys, type VapidSettings, type PushPayload } from "./push.js";
export { REMINDERS_GROUP } from "./task-events-consumer.js";
export { OUTBOX as REMINDERS_OUTBOX } from "./outbox.js";

export interface RemindersModuleOptions {
  databaseUrl: string;
  /** task-events come from here and ReminderEvents go here. Without it nothing is armed from tasks. */
  events?: EventBus;
  /** For SetReminders. */
  tasks?: Client<typeof TaskService>;
  /** E-mail delivery: SMTP server URL (smtp://…) and the From address. */
  smtp?: { url: string; from: string };
  delivery?: Omit<DeliveryOptions, "mailer" | "webhookTargets">;
  /**
   * Where webhook URLs may point, checked when saved and at each delivery (webhookSettings reads
   * TASKMESH_WEBHOOK_ALLOWED_HOSTS and TASKMESH_WEBHOOK_ALLOW_HTTP); default: public https only.
   */
  webhooks?: WebhookTargetOptions;
  /** VAPID keys for Web Push (vapidKeys: the configured ones or the data folder's); without them push is off. */
  vapid?: VapidKeys;
  /** How often overdue timers are looked for and re-armed, and how late they must be (default 15 s / 30 s). */
  overdueSweep?: { intervalMs: number; graceMs: number };
  /** The timer backend; default: the built-in scheduler on this service's database. */
  scheduler?: (db: Database, logger: Logger) => Scheduler;
  logger?: Logger;
  poolSize?: number;
  /** How long consumed event ids are kept against redelivery (default 14 days). */
  processedEventsRetentionMs?: number;
  /** Time between prunings (default 1 h). */
  pruneIntervalMs?: number;
}

/** The reminders service with its database, scheduler, outbox relay and consumer. */
export async function startRemindersModule(options: RemindersModuleOptions) {
  const logger = options.logger ?? createLogger("reminders");
  const db = await openDatabase({ url: options.databaseUrl, schema: SCHEMA, entities, migrations, poolSize: options.poolSize });
  const stops: (() => Promise<void> | void)[] = [() => db.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const mailer = options.smtp ? smtpMailer(options.smtp.url, options.smtp.from) : undefined;
    if (mailer) stops.push(() => mailer.close());
    const scheduler: Scheduler = options.scheduler?.(db, logger) ?? new PostgresScheduler(db, { schema: SCHEMA, logger });
    const webhookTargets = new WebhookTargetPolicy(options.webhooks);
    const engine = new ReminderEngine(db, scheduler, { ...options.delivery, mailer, webhookTargets, vapid: options.vapid }, logger);
    if (options.events) {
      const bus = options.events;
      const relay = new OutboxRelay(db, OUTBOX, { system: bus.system, send: (records) => bus.publish(records) }, logger);
      await relay.start();
      stops.push(() => relay.stop());
    }
    await engine.reconcile();
    await scheduler.start(engine.onDue);
    stops.push(() => scheduler.stop());
    const sweep = options.overdueSweep ?? { intervalMs: 15_000, graceMs: 30_000 };
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweeper = setInterval(() => {
      sweeping = engine.rearmOverdue(sweep.graceMs).catch((err: unknown) => logger.warn({ err }, "re-arming overdue timers failed; next sweep retries"));
    }, sweep.intervalMs);
    sweeper.unref();
    // A sweep still running finishes before the scheduler and the database it uses are closed.
    stops.push(async () => {
      clearInterval(sweeper);
      await sweeping;
    });
    if (options.events) {
      const consumer = await startTaskEventsConsumer(options.events, engine);
      stops.push(() => consumer.stop());
    }
    const retentionMs = options.processedEventsRetentionMs ?? PROCESSED_EVENTS_RETENTION_DAYS * DAY_MS;
    const retention = new RetentionJob([processedEventsPruned(db, SCHEMA, retentionMs)], { intervalMs: options.pruneIntervalMs, logger });
    retention.start();
    stops.push(() => retention.stop());
    const impl = createReminderServiceImpl({ engine, tasks: options.tasks, webhookTargets, vapid: options.vapid });
    return {
      services: [ReminderService, ...(scheduler.callbacks?.services ?? [])],
      routes: (router: ConnectRouter) => {
        router.service(ReminderService, impl);
        scheduler.callbacks?.routes(router);
      },
      db,
      retention,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
