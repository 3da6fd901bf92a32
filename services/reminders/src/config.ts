// The reminders service's settings (cluster mode), and the pieces the embedded app shares.
import { busSettings, daprHttpPort, databaseSettings, defineConfig, oneOf, piece, pruneSettings, retentionDays, meshServiceSettings, transportSettings, wholeNumber, withDefault } from "@taskmesh/kit";
import { smtpSettings } from "./email.js";
import { vapidSettings } from "./push.js";
import { webhookSettings } from "./webhook-target.js";

/** Longer than either bus can redeliver an event (Kafka keeps a topic 7 days, the embedded log too). */
export const PROCESSED_EVENTS_RETENTION_DAYS = 14;

export const remindersSettings = piece(
  { TASKMESH_PROCESSED_EVENTS_RETENTION_DAYS: retentionDays(PROCESSED_EVENTS_RETENTION_DAYS, "how long the ids of consumed events are kept (against redelivery)") },
  (v) => ({ processedEventsRetentionMs: v.TASKMESH_PROCESSED_EVENTS_RETENTION_DAYS }),
);

export type SchedulerSettings = { kind: "postgres"; leaseMs: number } | { kind: "dapr-jobs"; daprHttpUrl: string };

/** Where timers live (cluster mode; the embedded app keeps them in its own database). */
export const schedulerSettings = piece(
  {
    REMINDERS_SCHEDULER: withDefault(
      oneOf(["postgres", "dapr-jobs"]),
      "postgres",
      "where reminder timers live: `postgres` (this service's database) or `dapr-jobs` (the sidecar's Jobs API, fired by Dapr's scheduler)",
    ),
    SCHEDULER_LEASE_MS: withDefault(wholeNumber(1, 3_600_000, "milliseconds"), 10_000, "how long a crashed replica's claimed timers wait before another replica takes them (`postgres`)"),
    DAPR_HTTP_PORT: daprHttpPort,
  },
  (v): SchedulerSettings =>
    v.REMINDERS_SCHEDULER === "dapr-jobs" ? { kind: "dapr-jobs", daprHttpUrl: `http://127.0.0.1:${v.DAPR_HTTP_PORT ?? 3500}` } : { kind: "postgres", leaseMs: v.SCHEDULER_LEASE_MS },
);

export const remindersConfig = defineConfig("reminders", {
  ...meshServiceSettings({ port: 8083 }),
  database: databaseSettings,
  bus: busSettings,
  // SetReminders calls the task service.
  transport: transportSettings(["tasks"]),
  retention: pruneSettings,
  reminders: remindersSettings,
  scheduler: schedulerSettings,
  smtp: smtpSettings,
  webhooks: webhookSettings,
  vapid: vapidSettings,
});
