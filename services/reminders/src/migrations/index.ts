import { outboxMigration, processedEventsMigration } from "@taskmesh/events";
import { schedulerJobsMigration } from "../scheduler/postgres-scheduler.js";
import { Migration20261126000300_reminders } from "./Migration20261126000300_reminders.js";

export const SCHEMA = "reminders";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [
  outboxMigration(SCHEMA),
  processedEventsMigration(SCHEMA),
  schedulerJobsMigration(SCHEMA),
  { name: "Migration20261126000300_reminders", class: Migration20261126000300_reminders },
];
