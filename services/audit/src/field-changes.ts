import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import type { TaskUpdated } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

/**
 * The task fields an activity entry records, as FieldChange.field names them. The due is one field
 * although UpdateTask names it by two mask paths (due_time, due_date): they are one oneof. "project",
 * "section", "assignee" and "parent" are their ids (a move, an assignment, made a subtask, moved up);
 * "order" is order_key (a MoveTask), which no UpdateTask writes, so it has no undo.
 */
export const TASK_FIELDS = ["title", "notes", "priority", "tags", "due", "time_zone", "recurrence", "reminders", "project", "section", "assignee", "parent", "order"] as const;
export type TaskField = (typeof TASK_FIELDS)[number];

/** One changed field as stored: the proto3 JSON of its value before and after (null = unset). */
export interface StoredChange {
  field: TaskField;
  before: JsonValue;
  after: JsonValue;
}

const JSON_KEYS: Record<Exclude<TaskField, "due">, string> = {
  title: "title",
  notes: "notes",
  priority: "priority",
  tags: "tags",
  time_zone: "timeZone",
  recurrence: "recurrence",
  reminders: "reminders",
  project: "projectId",
  section: "sectionId",
  assignee: "assigneeId",
  parent: "parentId",
  order: "orderKey",
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isDueDate(value: JsonValue): value is string {
  return typeof value === "string" && DATE.test(value);
}

function taskJson(task: Task | undefined): JsonObject {
  // Implicit defaults (priority, empty tags) are values too: "none → high" needs the "none".
  return task ? (toJson(TaskSchema, task, { alwaysEmitImplicit: true }) as JsonObject) : {};
}

function valueIn(json: JsonObject, field: TaskField): JsonValue {
  if (field === "due") return json.dueTime ?? json.dueDate ?? null;
  return json[JSON_KEYS[field]] ?? null;
}

// The mask path of each field whose name is not its path; either due path replaces the whole due oneof.
const MASK_PATHS: Partial<Record<TaskField, string>> = { due: "due_time", project: "project_id", section: "section_id", assignee: "assignee_id", parent: "parent_id", order: "order_key" };
const FIELD_OF_PATH: Record<string, TaskField> = { ...Object.fromEntries(Object.entries(MASK_PATHS).map(([field, path]) => [path, field as TaskField])), due_date: "due" };

function fieldOfMaskPath(path: string): TaskField | undefined {
  if (path in FIELD_OF_PATH) return FIELD_OF_PATH[path];
  return (TASK_FIELDS as readonly string[]).includes(path) ? (path as TaskField) : undefined;
}

/**
 * The fields an update changed, with before/after values, in TASK_FIELDS order. Trusts the event's
 * changed_fields; an event without them (another producer) is compared field by field.
 */
export function changesOf(update: TaskUpdated): StoredChange[] {
  const before = taskJson(update.before);
  const after = taskJson(update.after);
  const named = new Set(update.changedFields.map(fieldOfMaskPath).filter((f) => f !== undefined));
  return TASK_FIELDS.filter((f) => (named.size > 0 ? named.has(f) : true))
    .map((field) => ({ field, before: valueIn(before, field), after: valueIn(after, field) }))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after));
}

/** The UpdateTask mask path that writes a field. */
export function maskPathOf(field: Exclude<TaskField, "order">): string {
  return MASK_PATHS[field] ?? field;
}

/** A Task carrying `id` and each changed field's value on `side`, for an UpdateTask that sets them. */
export function taskWith(id: string, changes: StoredChange[], side: "before" | "after"): Task {
  const json: JsonObject = { id };
  for (const change of changes) {
    const value = change[side];
    if (value === null) continue;
    if (change.field === "due") json[isDueDate(value) ? "dueDate" : "dueTime"] = value;
    else json[JSON_KEYS[change.field]] = value;
  }
  return fromJson(TaskSchema, json);
}
