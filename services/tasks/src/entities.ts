import { defineEntity, p, Routine, type InferEntity } from "@mikro-orm/core";
import { OutboxEntry } from "@taskmesh/events";
import type { RecurrenceJson, ReminderJson } from "./task-row.js";
import { SEARCH_FUNCTION_BODIES } from "./migrations/Migration20261206160000_symbol_search.js";
import { TAG_TEXT_BODY } from "./migrations/Migration20261207090000_tag_wildcards.js";

// The tables of the tasks schema as its migrations leave them. Indexes on expressions, and the GIN
// ones with their storage option, are written as PostgreSQL prints them back (pg_indexes), which
// is what the entities test compares them with (@taskmesh/testing/schema-drift).

export const Task = defineEntity({
  name: "Task",
  schema: "tasks",
  tableName: "tasks",
  indexes: [
    { name: "tasks_by_due", expression: `CREATE INDEX tasks_by_due ON tasks.tasks USING btree (user_id, COALESCE(due_at, 'infinity'::timestamp with time zone), id)` },
    {
      name: "tasks_by_priority",
      expression: `CREATE INDEX tasks_by_priority ON tasks.tasks USING btree (user_id, ((5 - priority)), COALESCE(due_at, 'infinity'::timestamp with time zone), id)`,
    },
    { name: "tasks_by_created", properties: ["userId", "createdAt", "id"] },
    { name: "tasks_by_updated", properties: ["userId", "updatedAt", "id"] },
    { name: "tasks_by_title", properties: ["userId", "titleKey", "id"] },
    { name: "tasks_search_by_user", expression: `CREATE INDEX tasks_search_by_user ON tasks.tasks USING gin (user_id, search) WITH (gin_pending_list_limit='256')` },
    {
      name: "tasks_text_trgm_by_user",
      expression: `CREATE INDEX tasks_text_trgm_by_user ON tasks.tasks USING gin (user_id, search_text gin_trgm_ops) WITH (gin_pending_list_limit='256')`,
    },
    {
      name: "tasks_tag_text_trgm",
      expression: `CREATE INDEX tasks_tag_text_trgm ON tasks.tasks USING gin (tasks.tag_text(tags) gin_trgm_ops) WITH (gin_pending_list_limit='256')`,
    },
    { name: "tasks_tags_by_user", expression: `CREATE INDEX tasks_tags_by_user ON tasks.tasks USING gin (user_id, tags) WITH (gin_pending_list_limit='256')` },
    {
      name: "tasks_due_covering",
      expression: `CREATE INDEX tasks_due_covering ON tasks.tasks USING btree (user_id, COALESCE(due_at, 'infinity'::timestamp with time zone), id, priority) INCLUDE (due_at, status, tags, due_date) WHERE (due_at IS NOT NULL)`,
    },
    {
      name: "tasks_by_project",
      expression: `CREATE INDEX tasks_by_project ON tasks.tasks USING btree (project_id, COALESCE(due_at, 'infinity'::timestamp with time zone), id)`,
    },
    { name: "tasks_by_assignee", properties: ["assigneeId"], where: "assignee_id IS NOT NULL" },
    { name: "tasks_by_assigner", properties: ["assignedBy"], where: "assigned_by IS NOT NULL" },
    { name: "tasks_by_completed", properties: ["userId", "completedAt"], where: "completed_at IS NOT NULL" },
    {
      name: "tasks_open_by_due",
      expression: `CREATE INDEX tasks_open_by_due ON tasks.tasks USING btree (user_id, COALESCE(due_at, 'infinity'::timestamp with time zone), id) WHERE (status = 1)`,
    },
    { name: "tasks_by_parent", properties: ["parentId"], where: "parent_id IS NOT NULL" },
    { name: "tasks_by_manual", properties: ["userId", "orderKey", "id"] },
  ],
  uniques: [
    { name: "tasks_request_id", properties: ["userId", "requestId"], where: "request_id IS NOT NULL" },
    {
      name: "tasks_order",
      expression: `CREATE UNIQUE INDEX tasks_order ON tasks.tasks USING btree (user_id, COALESCE(parent_id, project_id),
                   (CASE WHEN (parent_id IS NULL) THEN section_id ELSE NULL::uuid END), order_key) NULLS NOT DISTINCT`,
    },
  ],
  properties: {
    id: p.uuid().primary(),
    userId: p.text(),
    title: p.text(),
    notes: p.text().defaultRaw(`''`),
    status: p.smallint().defaultRaw("1"),
    priority: p.smallint().defaultRaw("1"),
    tags: p.array().defaultRaw(`'{}'`),
    dueTime: p.datetime().strictNullable(),
    dueDate: p.date().strictNullable(),
    dueAt: p.datetime().strictNullable(),
    timeZone: p.text().defaultRaw(`'UTC'`),
    recurrence: p.json<RecurrenceJson>().strictNullable(),
    reminders: p.json<ReminderJson[]>().defaultRaw(`'[]'`),
    seriesId: p.uuid().strictNullable(),
    requestId: p.text().strictNullable(),
    version: p.integer().defaultRaw("1"),
    fieldVersions: p.json<Record<string, number>>().defaultRaw(`'{}'`),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    completedAt: p.datetime().strictNullable(),
    search: p
      .string()
      .columnType("tsvector")
      .generated(`(setweight(to_tsvector('tasks.folded', title), 'A') || setweight(to_tsvector('tasks.folded', notes), 'B') || array_to_tsvector(tasks.symbol_grams(title || ' ' || notes))) stored`)
      .lazy(),
    searchText: p.string().columnType("text").generated(`(tasks.search_folded(title || ' ' || notes)) stored`).lazy(),
    titleKey: p.string().columnType("text").generated(`(lower(tasks.folded(title))) stored`).lazy(),
    projectId: p.uuid().strictNullable(),
    sectionId: p.uuid().strictNullable(),
    assigneeId: p.text().strictNullable(),
    assignedBy: p.text().strictNullable(),
    parentId: p.uuid().strictNullable(),
    // As PostgreSQL prints the migration's default back, which is what the schema generator compares.
    orderKey: p.text().collation("C").defaultRaw(`('z'::text || substr(md5(((random())::text || (clock_timestamp())::text)), 1, 26))`),
    commentCount: p.integer().defaultRaw("0"),
  },
});

export const TaskChange = defineEntity({
  name: "TaskChange",
  schema: "tasks",
  tableName: "task_changes",
  indexes: [
    { name: "task_changes_user", properties: ["userId", "seq"] },
    { name: "task_changes_created", properties: ["createdAt"] },
  ],
  properties: {
    seq: p.bigint("string").primary().autoincrement(),
    userId: p.text(),
    taskId: p.uuid(),
    deleted: p.boolean(),
    snapshot: p.json<unknown>().strictNullable(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

/** One row: how far WatchTasks cursors have been pruned. */
export const ChangeHorizon = defineEntity({
  name: "ChangeHorizon",
  schema: "tasks",
  tableName: "change_horizon",
  checks: [{ name: "change_horizon_id_check", expression: "id" }],
  properties: {
    id: p.boolean().primary().defaultRaw("true"),
    prunedThrough: p.bigint("string"),
  },
});

export const ServerKey = defineEntity({
  name: "ServerKey",
  schema: "tasks",
  tableName: "server_keys",
  properties: {
    name: p.text().primary(),
    key: p.blob(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const Project = defineEntity({
  name: "Project",
  schema: "tasks",
  tableName: "projects",
  indexes: [{ name: "projects_owner", properties: ["ownerId"] }],
  uniques: [{ name: "projects_inbox", properties: ["ownerId"], where: "inbox" }],
  properties: {
    id: p.uuid().primary(),
    ownerId: p.text(),
    name: p.text(),
    colour: p.text().defaultRaw(`''`),
    archived: p.boolean().defaultRaw("false"),
    position: p.integer().defaultRaw("0"),
    inbox: p.boolean().defaultRaw("false"),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()"),
  },
});

/** A project's member; role 1 viewer, 2 editor, 3 admin (taskmesh.projects.v1.ProjectRole). */
export const ProjectMember = defineEntity({
  name: "ProjectMember",
  schema: "tasks",
  tableName: "project_members",
  indexes: [{ name: "project_members_user", properties: ["userId"] }],
  properties: {
    project: () => p.manyToOne(Project).primary().ref().deleteRule("cascade").foreignKeyName("project_members_project_id_fkey"),
    userId: p.text().primary(),
    role: p.smallint(),
    email: p.text().defaultRaw(`''`),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const Invitation = defineEntity({
  name: "Invitation",
  schema: "tasks",
  tableName: "invitations",
  indexes: [{ name: "invitations_email", properties: ["email"] }],
  uniques: [{ name: "invitations_project_id_email_key", properties: ["project", "email"] }],
  properties: {
    id: p.uuid().primary(),
    project: () => p.manyToOne(Project).ref().deleteRule("cascade").foreignKeyName("invitations_project_id_fkey"),
    email: p.text(),
    role: p.smallint(),
    invitedBy: p.text(),
    invitedByEmail: p.text().defaultRaw(`''`),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const Section = defineEntity({
  name: "Section",
  schema: "tasks",
  tableName: "sections",
  indexes: [{ name: "sections_project", properties: ["project", "position"] }],
  properties: {
    id: p.uuid().primary(),
    project: () => p.manyToOne(Project).ref().deleteRule("cascade").foreignKeyName("sections_project_id_fkey"),
    name: p.text(),
    position: p.integer().defaultRaw("0"),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const SavedFilter = defineEntity({
  name: "SavedFilter",
  schema: "tasks",
  tableName: "saved_filters",
  uniques: [{ name: "saved_filters_user_id_query_key", properties: ["userId", "query"] }],
  properties: {
    id: p.uuid().primary(),
    userId: p.text(),
    name: p.text(),
    query: p.text(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});
export type SavedFilter = InferEntity<typeof SavedFilter>;

export const Comment = defineEntity({
  name: "Comment",
  schema: "tasks",
  tableName: "comments",
  indexes: [{ name: "comments_by_task", properties: ["task", "seq"] }],
  properties: {
    seq: p.bigint("string").autoincrement(),
    id: p.uuid().primary(),
    task: () => p.manyToOne(Task).ref().deleteRule("cascade").foreignKeyName("comments_task_id_fkey"),
    authorId: p.text(),
    body: p.text(),
    createdAt: p.datetime(),
    updatedAt: p.datetime().strictNullable(),
  },
});

/** A deleted task as RestoreTask brings it back: its last state (proto3 JSON) and its comments' rows. */
export const DeletedTask = defineEntity({
  name: "DeletedTask",
  schema: "tasks",
  tableName: "deleted_tasks",
  indexes: [{ name: "deleted_tasks_deleted_at", properties: ["deletedAt"] }],
  properties: {
    id: p.uuid().primary(),
    userId: p.text(),
    task: p.json<unknown>(),
    comments: p.json<unknown[]>(),
    deletedAt: p.datetime(),
  },
});

/** An immutable function of one value in the tasks schema, as its migration made it. */
function textFunction(name: string, param: string, language: "sql" | "plpgsql", returns: { runtimeType: "string" | "object"; columnType: string }, body: string, type: "text" | "text[]" = "text") {
  return new Routine({ name, schema: "tasks", type: "function", language, deterministic: true, params: { [param]: { type } }, returns, body });
}

/** Text without its accents: title_key (the folded_search migration). */
const Folded = textFunction("folded", "value", "sql", { runtimeType: "string", columnType: "text" }, "SELECT public.unaccent('public.unaccent'::regdictionary, value)");
/** search_text, and a term folded as it is: evaluated once while a search is planned. */
const SearchFolded = textFunction("search_folded", "value", "plpgsql", { runtimeType: "string", columnType: "text" }, SEARCH_FUNCTION_BODIES.search_folded);
/** Every two and three characters with a symbol among them, within a run of non-blanks of the folded text. */
const SymbolGrams = textFunction("symbol_grams", "value", "plpgsql", { runtimeType: "object", columnType: "text[]" }, SEARCH_FUNCTION_BODIES.symbol_grams);
/** The tsquery of a term's symbol_grams; NULL when it has none. */
const SymbolQuery = textFunction("symbol_query", "term", "plpgsql", { runtimeType: "string", columnType: "tsquery" }, SEARCH_FUNCTION_BODIES.symbol_query);

/** A task's tags as one text for the trigram index of tag wildcards. */
const TagText = textFunction("tag_text", "tags", "sql", { runtimeType: "string", columnType: "text" }, TAG_TEXT_BODY, "text[]");

export const routines = [Folded, SearchFolded, SymbolGrams, SymbolQuery, TagText];

export const entities = [Task, TaskChange, ChangeHorizon, ServerKey, Project, ProjectMember, Invitation, Section, SavedFilter, Comment, DeletedTask, OutboxEntry];
