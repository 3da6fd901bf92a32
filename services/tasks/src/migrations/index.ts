import { outboxMigration } from "@taskmesh/events";
import { Migration20261125000000_tasks } from "./Migration20261125000000_tasks.js";
import { Migration20261125020000_due_range } from "./Migration20261125020000_due_range.js";
import { Migration20261203000000_server_keys } from "./Migration20261203000000_server_keys.js";
import { Migration20261203100000_list_indexes } from "./Migration20261203100000_list_indexes.js";
import { Migration20261203110000_due_covering } from "./Migration20261203110000_due_covering.js";
import { Migration20261203180000_projects } from "./Migration20261203180000_projects.js";
import { Migration20261203190000_saved_filters } from "./Migration20261203190000_saved_filters.js";
import { Migration20261204160000_subtasks } from "./Migration20261204160000_subtasks.js";
import { Migration20261204170000_order_keys } from "./Migration20261204170000_order_keys.js";
import { Migration20261204180000_comments } from "./Migration20261204180000_comments.js";
import { Migration20261204190000_comment_edits } from "./Migration20261204190000_comment_edits.js";
import { Migration20261204200000_month_end_rules } from "./Migration20261204200000_month_end_rules.js";
import { Migration20261205220000_folded_search } from "./Migration20261205220000_folded_search.js";
import { Migration20261206100000_deleted_tasks } from "./Migration20261206100000_deleted_tasks.js";
import { Migration20261206130000_completed_index } from "./Migration20261206130000_completed_index.js";
import { Migration20261206140000_open_by_due } from "./Migration20261206140000_open_by_due.js";
import { Migration20261206160000_symbol_search } from "./Migration20261206160000_symbol_search.js";
import { Migration20261206210000_due_dates_covered } from "./Migration20261206210000_due_dates_covered.js";
import { Migration20261207030000_assigned_by } from "./Migration20261207030000_assigned_by.js";
import { Migration20261207090000_tag_wildcards } from "./Migration20261207090000_tag_wildcards.js";
import { Migration20261207180000_due_covering_in_list_order } from "./Migration20261207180000_due_covering_in_list_order.js";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [
  { name: "Migration20261125000000_tasks", class: Migration20261125000000_tasks },
  outboxMigration("tasks", "Migration20261125010000_outbox"),
  { name: "Migration20261125020000_due_range", class: Migration20261125020000_due_range },
  { name: "Migration20261203000000_server_keys", class: Migration20261203000000_server_keys },
  { name: "Migration20261203100000_list_indexes", class: Migration20261203100000_list_indexes },
  { name: "Migration20261203110000_due_covering", class: Migration20261203110000_due_covering },
  { name: "Migration20261203180000_projects", class: Migration20261203180000_projects },
  { name: "Migration20261203190000_saved_filters", class: Migration20261203190000_saved_filters },
  { name: "Migration20261204160000_subtasks", class: Migration20261204160000_subtasks },
  { name: "Migration20261204170000_order_keys", class: Migration20261204170000_order_keys },
  { name: "Migration20261204180000_comments", class: Migration20261204180000_comments },
  { name: "Migration20261204190000_comment_edits", class: Migration20261204190000_comment_edits },
  { name: "Migration20261204200000_month_end_rules", class: Migration20261204200000_month_end_rules },
  { name: "Migration20261205220000_folded_search", class: Migration20261205220000_folded_search },
  { name: "Migration20261206100000_deleted_tasks", class: Migration20261206100000_deleted_tasks },
  { name: "Migration20261206130000_completed_index", class: Migration20261206130000_completed_index },
  { name: "Migration20261206140000_open_by_due", class: Migration20261206140000_open_by_due },
  { name: "Migration20261206160000_symbol_search", class: Migration20261206160000_symbol_search },
  { name: "Migration20261206210000_due_dates_covered", class: Migration20261206210000_due_dates_covered },
  { name: "Migration20261207030000_assigned_by", class: Migration20261207030000_assigned_by },
  { name: "Migration20261207090000_tag_wildcards", class: Migration20261207090000_tag_wildcards },
  { name: "Migration20261207180000_due_covering_in_list_order", class: Migration20261207180000_due_covering_in_list_order },
];
