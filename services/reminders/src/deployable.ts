import { openKafkaBus, type EventBus } from "@taskmesh/events";
import type { ConfigOf, Deployable } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { clientIfReachable } from "@taskmesh/transport";
import type { remindersConfig } from "./config.js";
import { DaprJobsScheduler, PostgresScheduler, startRemindersModule, vapidKeys } from "./index.js";
import { SCHEMA } from "./migrations/index.js";

/** The reminders service as its own process (cluster mode): timers armed from task-events, ReminderEvents published. */
export const remindersDeployable: Deployable<ConfigOf<typeof remindersConfig>, EventBus> = {
  name: "reminders",
  bus: { open: openKafkaBus, withoutBus: "no reminder is armed from task-events and none is published when it fires" },
  start: (config, { logger, bus }) => {
    const tasks = clientIfReachable(TaskService, config.transport, "tasks");
    if (!tasks) logger.warn("TASKS_URL is not set: SetReminders answers UNIMPLEMENTED (e.g. TASKS_URL=http://tasks:8081)");
    if (!config.smtp) logger.warn("SMTP_URL is not set: e-mail deliveries fail (retried, then recorded as failed)");
    const { scheduler } = config;
    logger.info({ scheduler: scheduler.kind, webhooks: config.webhooks }, "timers and webhook targets");
    return startRemindersModule({
      databaseUrl: config.database.url,
      events: bus,
      tasks,
      smtp: config.smtp,
      webhooks: config.webhooks,
      vapid: vapidKeys(config.vapid),
      logger,
      scheduler: (db) =>
        scheduler.kind === "dapr-jobs"
          ? new DaprJobsScheduler(db, { daprHttpUrl: scheduler.daprHttpUrl, schema: SCHEMA, logger })
          : new PostgresScheduler(db, { schema: SCHEMA, logger, leaseMs: scheduler.leaseMs }),
      ...config.reminders,
      pruneIntervalMs: config.retention.pruneIntervalMs,
    });
  },
};
