import { outboxMigration, processedEventsMigration } from "@taskmesh/events";
import { daprJobFiresMigration } from "../scheduler/dapr-jobs-scheduler.js";
import { schedulerJobsMigration } from "../scheduler/postgres-scheduler.js";
import { Migration20261126000300_reminders } from "./Migration20261126000300_reminders.js";
import { Migration20261203000100_overdue_sweep } from "./Migration20261203000100_overdue_sweep.js";
import { Migration20261203000200_push_inbox } from "./Migration20261203000200_push_inbox.js";
import { Migration20261204180000_recipients } from "./Migration20261204180000_recipients.js";

export const SCHEMA = "reminders";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [
  outboxMigration(SCHEMA),
  processedEventsMigration(SCHEMA),
  schedulerJobsMigration(SCHEMA),
  { name: "Migration20261126000300_reminders", class: Migration20261126000300_reminders },
  // Both timer backends' tables exist, so a deployment can switch REMINDERS_SCHEDULER either way.
  daprJobFiresMigration(SCHEMA),
  { name: "Migration20261203000100_overdue_sweep", class: Migration20261203000100_overdue_sweep },
  { name: "Migration20261203000200_push_inbox", class: Migration20261203000200_push_inbox },
  { name: "Migration20261204180000_recipients", class: Migration20261204180000_recipients },
];
