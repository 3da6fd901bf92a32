// Todoist's JSON, as its Sync API returns it (a full sync: projects, sections, items) or its REST API
// lists it (`tasks`). Its priorities count the other way from its apps: 4 is p1, the highest.
import { ImportFormatError, ProjectList, type ImportPlan, type ImportedDue, type ImportedTask, type PriorityName, type Unmapped } from "./plan.js";
import { cleanTags } from "./tags.js";

const PRIORITY: Record<number, PriorityName> = { 4: "high", 3: "medium", 2: "low", 1: "none" };

interface TodoistProject {
  id: string | number;
  name: string;
  parent_id?: string | number | null;
  inbox_project?: boolean;
  is_inbox_project?: boolean;
  is_archived?: boolean;
}
interface TodoistSection {
  id: string | number;
  name: string;
}
interface TodoistDue {
  date?: string;
  datetime?: string;
  timezone?: string | null;
  string?: string;
  is_recurring?: boolean;
}
interface TodoistItem {
  id?: string | number;
  content?: unknown;
  description?: string;
  project_id?: string | number;
  section_id?: string | number | null;
  parent_id?: string | number | null;
  labels?: unknown;
  priority?: number;
  due?: TodoistDue | null;
  checked?: boolean;
  is_completed?: boolean;
  is_deleted?: boolean;
  responsible_uid?: string | null;
  assignee_id?: string | null;
  duration?: unknown;
  deadline?: unknown;
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
    if (!isObject(p) || p.id === undefined || typeof p.name !== "string") throw new ImportFormatError("a project needs an id and a name", `projects[${i}]`);
    projectsById.set(String(p.id), p as unknown as TodoistProject);
  }
  const sectionsById = new Map<string, TodoistSection>();
  for (const [i, s] of arrayOf(root.sections, "sections").entries()) {
    if (!isObject(s) || s.id === undefined || typeof s.name !== "string") throw new ImportFormatError("a section needs an id and a name", `sections[${i}]`);
    sectionsById.set(String(s.id), s as unknown as TodoistSection);
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
    const item = raw as TodoistItem;
    if (item.id === undefined) throw new ImportFormatError("a task needs its id", where);
    if (item.is_deleted) {
      unmapped.push({ where: `task ${item.id}`, field: "is_deleted", value: "true", reason: "deleted tasks are not imported" });
      continue;
    }
    if (typeof item.content !== "string" || !item.content.trim()) throw new ImportFormatError("a task needs its text in `content`", where);
    const priority = PRIORITY[item.priority ?? 1];
    if (!priority) throw new ImportFormatError(`priority ${JSON.stringify(item.priority)} is not 1 to 4`, where);
    const project = item.project_id !== undefined ? projectsById.get(String(item.project_id)) : undefined;
    if (item.project_id !== undefined && !project) throw new ImportFormatError(`project_id ${item.project_id} is not among the projects`, where);
    const section = item.section_id ? sectionsById.get(String(item.section_id)) : undefined;
    if (item.section_id && !section) throw new ImportFormatError(`section_id ${item.section_id} is not among the sections`, where);
    if (project && !isInbox(project)) projects.add(project.name, section?.name);
    const labels = item.labels === undefined ? [] : item.labels;
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string")) throw new ImportFormatError("`labels` must be a list of names", where);
    const task: ImportedTask = {
      sourceId: `todoist:${item.id}`,
      where: `task ${item.id}`,
      title: item.content.trim(),
      notes: (item.description ?? "").trim(),
      ...(project && !isInbox(project) ? { project: project.name } : {}),
      ...(section && project && !isInbox(project) ? { section: section.name } : {}),
      priority,
      tags: cleanTags(labels as string[], `task ${item.id}`, unmapped),
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
