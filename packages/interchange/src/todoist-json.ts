// Todoist's JSON, as its Sync API returns it (a full sync: projects, sections, items) or its REST API
// lists it (`tasks`). Its priorities count the other way from its apps: 4 is p1, the highest.
import { ImportFormatError, ProjectList, type ImportPlan, type ImportedDue, type ImportedTask, type PriorityName, type Unmapped } from "./plan.js";
import { cleanTags } from "./tags.js";
import { z } from "zod";

const PRIORITY: Record<number, PriorityName> = { 4: "high", 3: "medium", 2: "low", 1: "none" };

// What the reader relies on, checked before anything is read; other fields are ignored. Todoist
// writes ids as numbers in older exports and as text in newer ones.
const id = (field: string) => z.union([z.string(), z.number()], { error: `\`${field}\` must be an id (text or a number)` });
const text = (field: string) => z.string({ error: `\`${field}\` must be text` });
const flag = (field: string) => z.boolean({ error: `\`${field}\` must be true or false` }).optional();
const TodoistProjectSchema = z.looseObject({
  id: id("id"),
  name: text("name"),
  parent_id: id("parent_id").nullish(),
  inbox_project: flag("inbox_project"),
  is_inbox_project: flag("is_inbox_project"),
});
const TodoistSectionSchema = z.looseObject({ id: id("id"), name: text("name") });
const TodoistDueSchema = z.looseObject(
  {
    date: text("due.date").optional(),
    datetime: text("due.datetime").nullish(),
    timezone: text("due.timezone").nullish(),
    string: text("due.string").optional(),
    is_recurring: flag("due.is_recurring"),
  },
  { error: "`due` must be an object with a `date`" },
);
const TodoistItemSchema = z.looseObject({
  id: id("id").optional(),
  content: z.unknown().optional(),
  description: text("description").nullish(),
  project_id: id("project_id").optional(),
  section_id: id("section_id").nullish(),
  parent_id: id("parent_id").nullish(),
  labels: z.array(z.string(), { error: "`labels` must be a list of names" }).optional(),
  priority: z.unknown().optional(),
  due: TodoistDueSchema.nullish(),
  checked: flag("checked"),
  is_completed: flag("is_completed"),
  is_deleted: flag("is_deleted"),
  responsible_uid: id("responsible_uid").nullish(),
  assignee_id: id("assignee_id").nullish(),
  duration: z.unknown().optional(),
  deadline: z.unknown().optional(),
});
// A comment: the Sync API's `notes` (item_id), the REST API's `comments` (task_id).
const TodoistNoteSchema = z.looseObject({ item_id: id("item_id").optional(), task_id: id("task_id").optional(), content: text("content"), is_deleted: flag("is_deleted") });
type TodoistProject = z.infer<typeof TodoistProjectSchema>;
type TodoistDue = z.infer<typeof TodoistDueSchema>;

/** `raw` as `schema` reads it, or its first problem (or `problem`), saying where. */
function parsed<T>(schema: z.ZodType<T>, raw: unknown, where: string, problem?: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ImportFormatError(problem ?? result.error.issues[0]!.message, where);
}

export function looksLikeTodoistJson(data: unknown): boolean {
  return isObject(data) && (Array.isArray(data.items) || (Array.isArray(data.tasks) && Array.isArray(data.projects)));
}

export function readTodoistJson(data: unknown): ImportPlan {
  if (!looksLikeTodoistJson(data)) throw new ImportFormatError("not a Todoist JSON export: expected an object with `items` (Sync API) or `tasks` and `projects` (REST API)");
  const root = data as Record<string, unknown>;
  const unmapped: Unmapped[] = [];
  const projectsById = new Map<string, TodoistProject>();
  for (const [i, p] of arrayOf(root.projects, "projects").entries()) {
    const project = parsed(TodoistProjectSchema, p, `projects[${i}]`, "a project needs an id and a name");
    projectsById.set(String(project.id), project);
  }
  const sectionsById = new Map<string, z.infer<typeof TodoistSectionSchema>>();
  for (const [i, s] of arrayOf(root.sections, "sections").entries()) {
    const section = parsed(TodoistSectionSchema, s, `sections[${i}]`, "a section needs an id and a name");
    sectionsById.set(String(section.id), section);
  }
  const projects = new ProjectList();
  for (const p of projectsById.values()) {
    if (isInbox(p)) continue;
    projects.add(p.name);
    if (p.parent_id) unmapped.push({ where: `project ${p.id}`, field: "parent_id", value: p.name, reason: "projects are not nested here: imported beside its parent" });
  }

  const key = Array.isArray(root.items) ? "items" : "tasks";
  const tasks: ImportedTask[] = [];
  for (const [i, raw] of arrayOf(root[key], key).entries()) {
    const where = `${key}[${i}]`;
    if (!isObject(raw)) throw new ImportFormatError("not an object", where);
    const item = parsed(TodoistItemSchema, raw, where);
    if (item.id === undefined) throw new ImportFormatError("a task needs its id", where);
    if (item.is_deleted) {
      unmapped.push({ where: `task ${item.id}`, field: "is_deleted", value: "true", reason: "deleted tasks are not imported" });
      continue;
    }
    if (typeof item.content !== "string" || !item.content.trim()) throw new ImportFormatError("a task needs its text in `content`", where);
    const priority = item.priority === undefined ? "none" : typeof item.priority === "number" ? PRIORITY[item.priority] : undefined;
    if (!priority) throw new ImportFormatError(`priority ${JSON.stringify(item.priority)} is not 1 to 4`, where);
    const project = item.project_id !== undefined ? projectsById.get(String(item.project_id)) : undefined;
    if (item.project_id !== undefined && !project) throw new ImportFormatError(`project_id ${item.project_id} is not among the projects`, where);
    const section = item.section_id ? sectionsById.get(String(item.section_id)) : undefined;
    if (item.section_id && !section) throw new ImportFormatError(`section_id ${item.section_id} is not among the sections`, where);
    if (project && !isInbox(project)) projects.add(project.name, section?.name);
    const labels = item.labels ?? [];
    const task: ImportedTask = {
      sourceId: `todoist:${item.id}`,
      where: `task ${item.id}`,
      title: item.content.trim(),
      notes: (item.description ?? "").trim(),
      ...(project && !isInbox(project) ? { project: project.name } : {}),
      ...(section && project && !isInbox(project) ? { section: section.name } : {}),
      priority,
      tags: cleanTags(labels, `task ${item.id}`, unmapped),
      completed: Boolean(item.checked ?? item.is_completed),
      ...(item.parent_id ? { parentSourceId: `todoist:${item.parent_id}` } : {}),
    };
    if (item.due) Object.assign(task, readDue(item.due, where));
    const assignee = item.responsible_uid ?? item.assignee_id;
    if (assignee) unmapped.push({ where: task.where, field: "responsible_uid", value: String(assignee), reason: "Todoist's collaborators are not accounts here" });
    if (item.duration) unmapped.push({ where: task.where, field: "duration", value: JSON.stringify(item.duration), reason: "tasks have no duration" });
    if (item.deadline) unmapped.push({ where: task.where, field: "deadline", value: JSON.stringify(item.deadline), reason: "tasks have one due date; `due` became it" });
    tasks.push(task);
  }
  const bySource = new Map(tasks.map((t) => [t.sourceId, t]));
  const notesKey = Array.isArray(root.notes) ? "notes" : "comments";
  for (const [i, raw] of arrayOf(root[notesKey], notesKey).entries()) {
    const where = `${notesKey}[${i}]`;
    const note = parsed(TodoistNoteSchema, raw, where);
    if (note.is_deleted || !note.content.trim()) continue;
    const task = bySource.get(`todoist:${note.item_id ?? note.task_id}`);
    if (task) task.comments = [...(task.comments ?? []), note.content];
    else unmapped.push({ where, field: "comment", value: note.content.slice(0, 80), reason: "its task is not in the file, or was not imported" });
  }
  return { format: "todoist-json", projects: projects.list(), tasks, unmapped };
}

function readDue(due: TodoistDue, where: string): Pick<ImportedTask, "due" | "timeZone" | "recurrenceText"> {
  const text = due.datetime ?? due.date;
  if (typeof text !== "string") throw new ImportFormatError("`due` has no date", where);
  let parsed: ImportedDue;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) parsed = { date: text };
  // With a zone Todoist writes the instant in UTC; without one the time floats (the user's clock).
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/.test(text)) parsed = { instant: new Date(text).toISOString() };
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(text)) parsed = { local: text };
  else throw new ImportFormatError(`due date "${text}" is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z]`, where);
  return {
    due: parsed,
    ...(due.timezone ? { timeZone: due.timezone } : {}),
    ...(due.is_recurring && due.string ? { recurrenceText: due.string } : {}),
  };
}

function isInbox(p: TodoistProject): boolean {
  return Boolean(p.inbox_project ?? p.is_inbox_project);
}

function arrayOf(value: unknown, name: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ImportFormatError(`\`${name}\` must be a list`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
