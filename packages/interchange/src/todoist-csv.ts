// Todoist's CSV export of one project ("Export as a template"): TYPE,CONTENT,DESCRIPTION,PRIORITY,
// INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,… with a row per section, task or comment. The
// file carries no project name (it is the file's), no ids and only the date as the user typed it.
import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { ImportFormatError, ProjectList, type ImportPlan, type ImportedTask, type PriorityName, type Unmapped } from "./plan.js";
import { cleanTags } from "./tags.js";

// The CSV's PRIORITY is the one users see: 1 (p1) is the highest, 4 is none.
const PRIORITY: Record<string, PriorityName> = { "1": "high", "2": "medium", "3": "low", "4": "none" };
const REQUIRED = ["TYPE", "CONTENT"];
const LABEL = /(^|\s)@([^\s@]+)/gu;
// Todoist nests subtasks at most four levels under a task.
const MAX_INDENT = 5;

export function looksLikeTodoistCsv(text: string): boolean {
  return /^\uFEFF?"?TYPE"?,"?CONTENT"?,/.test(text);
}

export function readTodoistCsv(text: string, projectName: string): ImportPlan {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toUpperCase()), bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new ImportFormatError(`not a readable CSV file (${(err as Error).message})`, line ? `line ${line}` : undefined);
  }
  const first = records[0]?.record ?? {};
  const missing = REQUIRED.filter((c) => !(c in first));
  if (records.length > 0 && missing.length) throw new ImportFormatError(`the header lacks ${missing.join(", ")}: not a Todoist CSV export`, "line 1");

  const unmapped: Unmapped[] = [];
  const tasks: ImportedTask[] = [];
  const projects = new ProjectList();
  projects.add(projectName);
  // The last task at each indent, so a deeper one knows its parent.
  const lastAtIndent: ImportedTask[] = [];
  const seen = new Map<string, number>();
  let section: string | undefined;

  for (const { record: row, info } of records) {
    const where = `line ${info.lines}`;
    const type = (row.TYPE ?? "").trim().toLowerCase();
    const content = (row.CONTENT ?? "").trim();
    if (type === "" && content === "") continue;
    switch (type) {
      case "meta":
        continue;
      case "section":
        if (!content) throw new ImportFormatError("a section row needs its name in CONTENT", where);
        section = content;
        projects.add(projectName, section);
        continue;
      case "note": {
        const task = lastAtIndent.findLast(Boolean);
        if (!task) {
          unmapped.push({ where, field: "note", value: content, reason: "a comment before any task" });
          continue;
        }
        task.comments = [...(task.comments ?? []), content];
        continue;
      }
      case "task":
        break;
      default:
        throw new ImportFormatError(`TYPE "${row.TYPE}" is none of task, section, note, meta`, where);
    }
    if (!content) throw new ImportFormatError("a task row needs its text in CONTENT", where);
    const indent = row.INDENT?.trim() ? Number(row.INDENT) : 1;
    if (!Number.isInteger(indent) || indent < 1 || indent > MAX_INDENT) throw new ImportFormatError(`INDENT "${row.INDENT}" is not a whole number from 1 to ${MAX_INDENT}`, where);
    const priorityText = row.PRIORITY?.trim() ?? "";
    const priority = priorityText ? PRIORITY[priorityText] : "none";
    if (!priority) throw new ImportFormatError(`PRIORITY "${priorityText}" is not 1 to 4`, where);

    const labels: string[] = [];
    const title = content
      .replace(LABEL, (_m, lead: string, label: string) => {
        labels.push(label);
        return lead;
      })
      .replace(/\s+/g, " ")
      .trim();
    // No ids in this format: a row is known by its place and text, and the n-th of identical rows by n.
    const key = hash([projectName, section ?? "", content, row.DATE ?? ""].join("\u0000"));
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const task: ImportedTask = {
      sourceId: `todoist-csv:${key}:${n}`,
      where,
      title: title || content,
      notes: (row.DESCRIPTION ?? "").trim(),
      project: projectName,
      ...(section ? { section } : {}),
      priority,
      tags: cleanTags(labels, where, unmapped),
      completed: false,
    };
    const date = row.DATE?.trim();
    if (date) task.dueText = date;
    const lang = row.DATE_LANG?.trim();
    if (date && lang && lang !== "en") unmapped.push({ where, field: "DATE", value: date, reason: `dates are read in English, this one is in "${lang}"` });
    const zone = row.TIMEZONE?.trim();
    if (zone) task.timeZone = zone;
    const parent = lastAtIndent[indent - 2];
    if (indent > 1) {
      if (!parent) throw new ImportFormatError(`INDENT ${indent} without a task at indent ${indent - 1} above it`, where);
      task.parentSourceId = parent.sourceId;
    }
    lastAtIndent.length = indent - 1;
    lastAtIndent.push(task);
    for (const column of ["RESPONSIBLE", "DURATION", "DEADLINE"] as const) {
      const value = row[column]?.trim();
      if (value) unmapped.push({ where, field: column, value, reason: REASONS[column] });
    }
    tasks.push(task);
  }
  return { format: "todoist-csv", projects: projects.list(), tasks, unmapped };
}

const REASONS = {
  RESPONSIBLE: "Todoist's collaborators are not accounts here: assign the task after sharing the project",
  DURATION: "tasks have no duration",
  DEADLINE: "tasks have one due date; the DATE column became it",
};

function hash(text: string): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, 22);
}
