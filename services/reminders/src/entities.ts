import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { OutboxEntry, ProcessedEvent } from "@taskmesh/events";

// The scheduler tables take the schema the owner opens the database with, as their migrations do.

/** What this service knows of a task, from task-events. */
export const ReminderTask = defineEntity({
  name: "ReminderTask",
  schema: "reminders",
  tableName: "tasks",
  properties: {
    taskId: p.uuid().primary(),
    userId: p.text(),
    title: p.text(),
    version: p.bigint("string"),
    deleted: p.boolean().defaultRaw("false"),
    creatorId: p.text().strictNullable(),
  },
});

/** A reminder a task has or had: base_fire_at as its definition gives it, fire_at when it fires next. */
export const ReminderEntry = defineEntity({
  name: "ReminderEntry",
  schema: "reminders",
  tableName: "reminders",
  indexes: [
    { name: "reminders_upcoming", properties: ["userId", "fireAt", "taskId", "reminderId"], where: "fire_at IS NOT NULL" },
    { name: "reminders_fire_at", properties: ["fireAt"], where: "fire_at IS NOT NULL" },
  ],
  properties: {
    taskId: p.uuid().primary(),
    reminderId: p.text().primary(),
    userId: p.text(),
    position: p.integer(),
    at: p.datetime().strictNullable(),
    beforeDueSeconds: p.integer().strictNullable(),
    baseFireAt: p.datetime().strictNullable(),
    fireAt: p.datetime().strictNullable(),
    state: p.smallint(),
    cancelReason: p.text().defaultRaw(`''`),
    lastFiredAt: p.datetime().strictNullable(),
  },
});

export const Fire = defineEntity({
  name: "Fire",
  schema: "reminders",
  tableName: "fires",
  indexes: [
    // An expression: MikroORM 7.2 reads this index's last DESC back as ascending and would recreate it.
    { name: "fires_inbox", expression: "CREATE INDEX fires_inbox ON reminders.fires USING btree (user_id, fired_at DESC, id DESC)" },
    { name: "fires_unread", properties: ["userId"], where: "read_at IS NULL" },
  ],
  uniques: [{ name: "fires_task_id_reminder_id_scheduled_for_key", properties: ["taskId", "reminderId", "scheduledFor"] }],
  properties: {
    id: p.bigint("string").primary().autoincrement(),
    eventId: p.uuid(),
    taskId: p.uuid(),
    reminderId: p.text(),
    userId: p.text(),
    taskTitle: p.text(),
    scheduledFor: p.datetime(),
    firedAt: p.datetime(),
    readAt: p.datetime().strictNullable(),
  },
});

/** A webhook or e-mail delivery of a fire. */
export const Delivery = defineEntity({
  name: "Delivery",
  schema: "reminders",
  tableName: "deliveries",
  indexes: [
    { name: "deliveries_pending", properties: ["id"], where: "status = 'pending'" },
    { name: "deliveries_pending_not_before", properties: ["notBefore"], where: "status = 'pending'" },
  ],
  properties: {
    id: p.bigint("string").primary().autoincrement(),
    fire: () => p.manyToOne(Fire).ref().foreignKeyName("deliveries_fire_id_fkey"),
    userId: p.text(),
    channel: p.text(),
    target: p.text(),
    notBefore: p.datetime(),
    status: p.text().defaultRaw(`'pending'`),
    attempts: p.integer().defaultRaw("0"),
    lastError: p.text().defaultRaw(`''`),
    deliveredAt: p.datetime().strictNullable(),
  },
});

export const Preferences = defineEntity({
  name: "Preferences",
  schema: "reminders",
  tableName: "preferences",
  properties: {
    userId: p.text().primary(),
    channels: p.array(),
    webhookUrl: p.text().defaultRaw(`''`),
    webhookSecret: p.text().defaultRaw(`''`),
    emailAddress: p.text().defaultRaw(`''`),
    quietStart: p.text().defaultRaw(`''`),
    quietEnd: p.text().defaultRaw(`''`),
    timeZone: p.text().defaultRaw(`'UTC'`),
  },
});
export type Preferences = InferEntity<typeof Preferences>;

export const PushSubscription = defineEntity({
  name: "PushSubscription",
  schema: "reminders",
  tableName: "push_subscriptions",
  indexes: [{ name: "push_subscriptions_user", properties: ["userId"] }],
  uniques: [{ name: "push_subscriptions_endpoint_key", properties: ["endpoint"] }],
  properties: {
    id: p.bigint("string").primary().autoincrement(),
    userId: p.text(),
    endpoint: p.text(),
    p256dh: p.text(),
    auth: p.text(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});
export type PushSubscription = InferEntity<typeof PushSubscription>;

/** A timer of the built-in scheduler (schedulerJobsMigration). */
export const SchedulerJob = defineEntity({
  name: "SchedulerJob",
  tableName: "scheduler_jobs",
  indexes: [{ name: "scheduler_jobs_ready", properties: ["readyAt"] }],
  properties: {
    id: p.text().primary(),
    dueAt: p.datetime(),
    readyAt: p.datetime(),
    attempts: p.integer().defaultRaw("0"),
  },
});

/** A delivered Dapr job (daprJobFiresMigration). */
export const DaprJobFire = defineEntity({
  name: "DaprJobFire",
  tableName: "dapr_job_fires",
  properties: {
    id: p.text().primary(),
    dueAt: p.datetime().primary(),
    attempts: p.integer().defaultRaw("0"),
    doneAt: p.datetime().strictNullable(),
  },
});

export const entities = [ReminderTask, ReminderEntry, Fire, Delivery, Preferences, PushSubscription, SchedulerJob, DaprJobFire, OutboxEntry, ProcessedEvent];
