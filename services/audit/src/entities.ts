import { defineEntity, p } from "@mikro-orm/core";
import { ProcessedEvent } from "@taskmesh/events";

/** One recorded event; seq breaks ties between entries of the same instant (keyset pages). */
export const Activity = defineEntity({
  name: "Activity",
  schema: "audit",
  tableName: "activity",
  indexes: [
    { name: "activity_by_user", columns: [{ name: "user_id" }, { name: "occurred_at", sort: "DESC" }, { name: "seq", sort: "DESC" }] },
    { name: "activity_by_task", columns: [{ name: "user_id" }, { name: "task_id" }, { name: "occurred_at", sort: "DESC" }, { name: "seq", sort: "DESC" }] },
    { name: "activity_by_age", properties: ["occurredAt"] },
    { name: "activity_by_user_kind", columns: [{ name: "user_id" }, { name: "kind" }, { name: "occurred_at", sort: "DESC" }, { name: "seq", sort: "DESC" }] },
    { name: "activity_by_task_id", columns: [{ name: "task_id" }, { name: "occurred_at", sort: "DESC" }, { name: "seq", sort: "DESC" }] },
  ],
  properties: {
    seq: p.bigint("string").primary().autoincrement(),
    eventId: p.text(),
    userId: p.text(),
    taskId: p.text(),
    kind: p.smallint(),
    occurredAt: p.datetime(),
    actor: p.text().defaultRaw(`''`),
    device: p.text().defaultRaw(`''`),
    taskVersion: p.bigint("string").defaultRaw("0"),
    taskTitle: p.text().defaultRaw(`''`),
    timeZone: p.text().defaultRaw(`'UTC'`),
    changes: p.json<unknown[]>().defaultRaw(`'[]'`),
    reminder: p.json<unknown>().strictNullable(),
    snapshot: p.json<unknown>().strictNullable(),
    recordedAt: p.datetime().defaultRaw("now()"),
    comment: p.json<unknown>().strictNullable(),
  },
});

export const entities = [Activity, ProcessedEvent];
