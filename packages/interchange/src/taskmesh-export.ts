// taskmesh's own export: every project the user owns with its sections, and their tasks, each in
// the proto3 JSON mapping of its message (the API's JSON), so the file reads like API answers and
// import reads it back without loss of what tasks carry.
import { fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { ProjectSchema, SectionSchema, type Project, type Section } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { priorityLevel } from "@taskmesh/filter";
import { CommentSchema, RecurrenceMode, TaskSchema, TaskStatus, type Comment, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { stringify } from "csv-stringify/sync";
import { ImportFormatError, ProjectList, type ImportPlan, type ImportedTask, type Unmapped } from "./plan.js";

export const EXPORT_FORMAT = "taskmesh-export";
export const EXPORT_VERSION = 1;

export interface ExportedProject {
  project: Project;
  sections: Section[];
}

export interface ExportContent {
  projects: ExportedProject[];
  tasks: Task[];
  /** The tasks' comments, oldest first per task. */
  comments: Comment[];
  exportedAt: Date;
}

export function exportJson(content: ExportContent): string {
  return JSON.stringify(
    {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: content.exportedAt.toISOString(),
      projects: content.projects.map(({ project, sections }) => ({
        ...(toJson(ProjectSchema, project) as JsonObject),
        sections: sections.map((s) => toJson(SectionSchema, s)),
      })),
      tasks: content.tasks.map((t) => toJson(TaskSchema, t)),
      comments: content.comments.map((c) => toJson(CommentSchema, c)),
    },
    null,
    2,
  );
}

/** One row per task, for spreadsheets (import reads the JSON export, which keeps everything). */
export function exportCsv(content: ExportContent): string {
  const projects = new Map(content.projects.map((p) => [p.project.id, p]));
  const rows = content.tasks.map((t) => {
    const project = projects.get(t.projectId);
    return {
      id: t.id,
      project: project?.project.name ?? "",
      section: project?.sections.find((s) => s.id === t.sectionId)?.name ?? "",
      title: t.title,
      notes: t.notes,
      status: t.status === TaskStatus.COMPLETED ? "completed" : "open",
      priority: priorityLevel(t.priority),
      tags: t.tags.join(" "),
      due_date: t.due.case === "dueDate" ? t.due.value : "",
      due_time: t.due.case === "dueTime" ? new Date(Number(t.due.value.seconds) * 1000).toISOString() : "",
      time_zone: t.timeZone,
      parent_id: t.parentId,
      repeat: t.recurrence?.rrule ?? "",
      completed_at: t.completeTime ? new Date(Number(t.completeTime.seconds) * 1000).toISOString() : "",
      created_at: t.createTime ? new Date(Number(t.createTime.seconds) * 1000).toISOString() : "",
    };
  });
  const columns = ["id", "project", "section", "title", "notes", "status", "priority", "tags", "due_date", "due_time", "time_zone", "parent_id", "repeat", "completed_at", "created_at"];
  // RFC 4180's CRLF between records; a cell that a spreadsheet would run as a formula (=, +, -, @,
  // a tab or CR first: a shared project's member may have typed it) starts with a quote instead.
  return stringify(rows, { header: true, columns, record_delimiter: "windows", escape_formulas: true });
}

export function looksLikeTaskmeshExport(data: unknown): boolean {
  return typeof data === "object" && data !== null && (data as { format?: unknown }).format === EXPORT_FORMAT;
}

export function readTaskmeshExport(data: unknown): ImportPlan {
  if (!looksLikeTaskmeshExport(data)) throw new ImportFormatError(`not a taskmesh export: "format" is not "${EXPORT_FORMAT}"`);
  const root = data as { version?: unknown; projects?: unknown; tasks?: unknown; comments?: unknown };
  if (root.version !== EXPORT_VERSION) throw new ImportFormatError(`version ${JSON.stringify(root.version)} is not ${EXPORT_VERSION}`);
  if (!Array.isArray(root.projects) || !Array.isArray(root.tasks)) throw new ImportFormatError("`projects` and `tasks` must be lists");
  // An export made before comments were exported has none.
  if (!Array.isArray(root.comments ?? [])) throw new ImportFormatError("`comments` must be a list");
  const commentsOf = new Map<string, string[]>();
  for (const [i, raw] of ((root.comments ?? []) as unknown[]).entries()) {
    const c = parseMessage(() => fromJson(CommentSchema, raw as JsonObject, { ignoreUnknownFields: true }), `comments[${i}]`);
    if (!c.taskId || !c.body.trim()) throw new ImportFormatError("a comment needs its taskId and body", `comments[${i}]`);
    commentsOf.set(c.taskId, [...(commentsOf.get(c.taskId) ?? []), c.body]);
  }
  const projectsById = new Map<string, { name: string; inbox: boolean; sections: Map<string, string> }>();
  const projects = new ProjectList();
  for (const [i, raw] of root.projects.entries()) {
    const where = `projects[${i}]`;
    const { sections, ...fields } = raw as { sections?: unknown };
    const project = parseMessage(() => fromJson(ProjectSchema, fields as JsonObject, { ignoreUnknownFields: true }), where);
    if (!Array.isArray(sections ?? [])) throw new ImportFormatError("`sections` must be a list", where);
    const names = new Map<string, string>();
    for (const [j, s] of ((sections ?? []) as unknown[]).entries()) {
      const section = parseMessage(() => fromJson(SectionSchema, s as JsonObject, { ignoreUnknownFields: true }), `${where}.sections[${j}]`);
      names.set(section.id, section.name);
    }
    projectsById.set(project.id, { name: project.name, inbox: project.inbox, sections: names });
    if (!project.inbox) {
      projects.add(project.name, undefined, project.colour);
      for (const name of names.values()) projects.add(project.name, name);
    }
  }
  const unmapped: Unmapped[] = [];
  const tasks: ImportedTask[] = root.tasks.map((raw, i) => {
    const t = parseMessage(() => fromJson(TaskSchema, raw as JsonObject, { ignoreUnknownFields: true }), `tasks[${i}]`);
    const where = `task ${t.id}`;
    if (!t.id || !t.title) throw new ImportFormatError("a task needs its id and title", `tasks[${i}]`);
    const project = projectsById.get(t.projectId);
    const section = project?.sections.get(t.sectionId);
    if (t.reminders.length) unmapped.push({ where, field: "reminders", value: String(t.reminders.length), reason: "reminders are not imported (set them again where wanted)" });
    if (t.assigneeId) unmapped.push({ where, field: "assigneeId", value: t.assigneeId, reason: "assignees belong to the exporting account's shared projects" });
    return {
      sourceId: `taskmesh:${t.id}`,
      exportedId: t.id,
      where,
      title: t.title,
      notes: t.notes,
      ...(project && !project.inbox ? { project: project.name } : {}),
      ...(section && project && !project.inbox ? { section } : {}),
      priority: priorityLevel(t.priority),
      tags: t.tags,
      ...(t.due.case === "dueDate" ? { due: { date: t.due.value } } : {}),
      ...(t.due.case === "dueTime" ? { due: { instant: new Date(Number(t.due.value.seconds) * 1000 + t.due.value.nanos / 1e6).toISOString() } } : {}),
      ...(t.timeZone ? { timeZone: t.timeZone } : {}),
      ...(t.recurrence
        ? { recurrence: { rrule: t.recurrence.rrule, afterCompletion: t.recurrence.mode === RecurrenceMode.AFTER_COMPLETION, exdates: t.recurrence.exdates, floating: t.recurrence.floating } }
        : {}),
      completed: t.status === TaskStatus.COMPLETED,
      ...(commentsOf.has(t.id) ? { comments: commentsOf.get(t.id) } : {}),
      ...(t.parentId ? { parentSourceId: `taskmesh:${t.parentId}` } : {}),
    };
  });
  return { format: "taskmesh", projects: projects.list(), tasks, unmapped };
}

function parseMessage<T>(read: () => T, where: string): T {
  try {
    return read();
  } catch (err) {
    throw new ImportFormatError((err as Error).message, where);
  }
}
