import { processedEventsMigration } from "@taskmesh/events";
import { Migration20261125200000_activity } from "./Migration20261125200000_activity.js";
import { Migration20261125210000_activity_by_kind } from "./Migration20261125210000_activity_by_kind.js";
import { Migration20261203200000_activity_by_task_id } from "./Migration20261203200000_activity_by_task_id.js";
import { Migration20261204180000_activity_comment } from "./Migration20261204180000_activity_comment.js";

export const AUDIT_SCHEMA = "audit";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [
  { name: "Migration20261125200000_activity", class: Migration20261125200000_activity },
  processedEventsMigration(AUDIT_SCHEMA),
  { name: "Migration20261125210000_activity_by_kind", class: Migration20261125210000_activity_by_kind },
  { name: "Migration20261203200000_activity_by_task_id", class: Migration20261203200000_activity_by_task_id },
  { name: "Migration20261204180000_activity_comment", class: Migration20261204180000_activity_comment },
];
