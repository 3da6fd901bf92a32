// Carries out an import plan through the services as the signed-in user, so access checks, events,
// live sync and the activity history apply as to any change. Idempotent: projects and sections are
// found by name, tasks by their source id, which becomes CreateTask's request_id (the task service
// derives the task's id from it, so a second run returns the task the first one made).
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ImportedTask, ImportFormat, ImportPlan, Unmapped } from "@taskmesh/interchange";
import { priorityOf } from "@taskmesh/mcp/shapes";
import type { Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { RecurrenceMode, RecurrenceSchema, TaskStatus, type Recurrence, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { CreateTaskRequestSchema, type CreateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { isTimeZone, lastDayRule, parseQuickAdd, resolveQuickAdd } from "@taskmesh/quick-add";
import { createHash } from "node:crypto";
import { Temporal } from "temporal-polyfill";
import type { Caller } from "./caller.js";

export interface ImportReport {
  format: ImportFormat;
  projects: { created: string[]; existing: string[] };
  sections: { created: number; existing: number };
  tasks: {
    created: number;
    /** Made by an earlier run of the same file (found by source id), or the exported tasks themselves; left as they are now. */
    alreadyImported: number;
    /** Of those created, marked completed as in the file. */
    completed: number;
    /** Refused by the task service; everything else was imported. */
    failed: { where: string; title: string; reason: string }[];
  };
  /** Comments added to the imported tasks (none twice: each has a request id from its task's and its place). */
  comments: number;
  unmapped: Unmapped[];
}

const MAX_TITLE = 500;
const MAX_NOTES = 20_000;
const MAX_REQUEST_ID = 128;
// Calls in flight at once: enough to overlap round trips (the task service batches concurrent
// creates into one transaction), few enough to leave room for everyone else's requests.
const CONCURRENCY = 8;

export async function runImport(plan: ImportPlan, caller: Caller, now: Date = new Date()): Promise<ImportReport> {
  const report: ImportReport = {
    format: plan.format,
    projects: { created: [], existing: [] },
    sections: { created: 0, existing: 0 },
    tasks: { created: 0, alreadyImported: 0, completed: 0, failed: [] },
    comments: 0,
    unmapped: [...plan.unmapped],
  };
  const placement = await placeProjects(plan, caller, report);
  const ordered = parentsFirst(plan.tasks);
  // Notes and failures are kept per task and put in file order at the end, whatever order calls end in.
  const notes = new Map<ImportedTask, Unmapped[]>();
  const failures = new Map<ImportedTask, ImportReport["tasks"]["failed"][number]>();
  const toComplete: { task: ImportedTask; id: string; depth: number }[] = [];
  const slot = slots(CONCURRENCY);
  const done = new Map<string, Promise<{ task: Task; depth: number } | undefined>>();

  async function importOne(task: ImportedTask, parent: { task: Task; depth: number } | undefined) {
    const unmapped: Unmapped[] = [];
    notes.set(task, unmapped);
    try {
      const original = task.exportedId ? await stillThere(caller, task.exportedId) : undefined;
      if (original) {
        report.tasks.alreadyImported++;
        return { task: original, depth: (parent?.depth ?? -1) + 1 };
      }
      const request = await createRequest(task, caller, now, unmapped);
      if (parent) request.parentId = parent.task.id;
      else if (task.parentSourceId) unmapped.push({ where: task.where, field: "parent", value: task.parentSourceId, reason: "its parent task was not imported: imported as a top-level task" });
      // A subtask is in its parent's project (the service puts it there when project_id is empty).
      const project = parent || task.project === undefined ? undefined : placement.get(key(task.project));
      if (project) {
        request.projectId = project.id;
        if (task.section) request.sectionId = project.sections.get(key(task.section)) ?? "";
      } else if (parent && task.section) request.sectionId = sectionOf(placement, task) ?? "";
      const created = (await caller.tasks.createTask(request)).task!;
      const depth = (parent?.depth ?? -1) + 1;
      // Also for a task an earlier run made: that run may have stopped before its comments.
      for (const [i, body] of (task.comments ?? []).entries()) {
        try {
          const { comment } = await caller.tasks.addComment({ taskId: created.id, body, requestId: commentRequestId(request.requestId, i) });
          if (comment?.createTime && timestampDate(comment.createTime) >= now) report.comments++;
        } catch (err) {
          unmapped.push({ where: task.where, field: "comment", value: body.slice(0, 80), reason: `not added: ${ConnectError.from(err).rawMessage}` });
        }
      }
      // A task that exists from a run before keeps whatever the user did with it since.
      if (created.createTime && timestampDate(created.createTime) < now) report.tasks.alreadyImported++;
      else {
        report.tasks.created++;
        if (task.completed && created.status !== TaskStatus.COMPLETED) toComplete.push({ task, id: created.id, depth });
      }
      return { task: created, depth };
    } catch (err) {
      failures.set(task, { where: task.where, title: task.title, reason: ConnectError.from(err).rawMessage });
      return undefined;
    }
  }

  // A subtask starts once its parent is made; the rest run a few at a time.
  for (const task of ordered) {
    const parent = task.parentSourceId === undefined ? undefined : done.get(task.parentSourceId);
    done.set(
      task.sourceId,
      (async () => {
        const made = parent && (await parent);
        return slot(() => importOne(task, made));
      })(),
    );
  }
  await Promise.all(done.values());

  // Deepest first: a task with open subtasks cannot be completed.
  const depths = [...new Set(toComplete.map((c) => c.depth))].sort((a, b) => b - a);
  for (const depth of depths) {
    await Promise.all(
      toComplete
        .filter((c) => c.depth === depth)
        .map((c) =>
          slot(async () => {
            try {
              await caller.tasks.completeTask({ id: c.id });
              report.tasks.completed++;
            } catch (err) {
              notes.get(c.task)!.push({ where: c.task.where, field: "completed", value: "true", reason: `left open: ${ConnectError.from(err).rawMessage}` });
            }
          }),
        ),
    );
  }
  for (const task of plan.tasks) {
    report.unmapped.push(...(notes.get(task) ?? []));
    const failed = failures.get(task);
    if (failed) report.tasks.failed.push(failed);
  }
  return report;
}

/** Runs at most `n` of the functions given to it at once. */
function slots(n: number): <T>(run: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (run) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await run();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** The task, when the user can still see it (an export imported back into the account it came from). */
async function stillThere(caller: Caller, id: string): Promise<Task | undefined> {
  try {
    return (await caller.tasks.getTask({ id })).task;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound || ConnectError.from(err).code === Code.InvalidArgument) return undefined;
    throw err;
  }
}

/** Each parent before its subtasks, otherwise in file order. */
function parentsFirst(tasks: readonly ImportedTask[]): ImportedTask[] {
  const bySource = new Map(tasks.map((t) => [t.sourceId, t]));
  const out: ImportedTask[] = [];
  const placed = new Set<string>();
  const visit = (task: ImportedTask, path: Set<string>) => {
    if (placed.has(task.sourceId) || path.has(task.sourceId)) return;
    path.add(task.sourceId);
    const parent = task.parentSourceId === undefined ? undefined : bySource.get(task.parentSourceId);
    if (parent) visit(parent, path);
    placed.add(task.sourceId);
    out.push(task);
  };
  for (const task of tasks) visit(task, new Set());
  return out;
}

function sectionOf(placement: Map<string, Placed>, task: ImportedTask): string | undefined {
  return task.project === undefined || task.section === undefined ? undefined : placement.get(key(task.project))?.sections.get(key(task.section));
}

interface Placed {
  id: string;
  sections: Map<string, string>;
}

const key = (name: string) => name.trim().toLowerCase();

/** The user's own projects by name (created when missing), with their sections by name. */
async function placeProjects(plan: ImportPlan, caller: Caller, report: ImportReport): Promise<Map<string, Placed>> {
  const { projects } = await caller.projects.listProjects({ includeArchived: true });
  const own = new Map<string, Project>();
  for (const p of projects) if (p.ownerId === caller.identity.userId && !own.has(key(p.name))) own.set(key(p.name), p);
  const placed = new Map<string, Placed>();
  for (const wanted of plan.projects) {
    const name = wanted.name.trim().slice(0, 120);
    let project = own.get(key(name));
    if (project) report.projects.existing.push(project.name);
    else {
      project = (await caller.projects.createProject({ name, colour: /^#[0-9a-f]{6}$/i.test(wanted.colour ?? "") ? wanted.colour! : "" })).project!;
      own.set(key(name), project);
      report.projects.created.push(project.name);
    }
    const sections = new Map<string, string>();
    if (wanted.sections.length) {
      for (const s of (await caller.projects.listSections({ projectId: project.id })).sections) sections.set(key(s.name), s.id);
      for (const section of wanted.sections) {
        if (sections.has(key(section))) {
          report.sections.existing++;
          continue;
        }
        const { section: made } = await caller.projects.createSection({ projectId: project.id, name: section.trim().slice(0, 120) });
        sections.set(key(section), made!.id);
        report.sections.created++;
      }
    }
    placed.set(key(wanted.name), { id: project.id, sections });
  }
  return placed;
}

async function createRequest(task: ImportedTask, caller: Caller, now: Date, unmapped: Unmapped[]): Promise<CreateTaskRequest> {
  const note = (field: string, value: string, reason: string) => unmapped.push({ where: task.where, field, value, reason });
  let zone = caller.timeZone;
  if (task.timeZone && isTimeZone(task.timeZone)) zone = task.timeZone;
  else if (task.timeZone) note("timezone", task.timeZone, "not an IANA time zone: read in yours");
  let title = task.title.trim();
  let notes = task.notes;
  if (title.length > MAX_TITLE) {
    notes = [title, notes].filter(Boolean).join("\n\n");
    title = `${title.slice(0, MAX_TITLE - 1)}…`;
    note("title", title, `longer than ${MAX_TITLE} characters: shortened, the whole text put in the notes`);
  }
  if (notes.length > MAX_NOTES) {
    note("notes", `${notes.length} characters`, `notes hold at most ${MAX_NOTES} characters: the rest was cut`);
    notes = notes.slice(0, MAX_NOTES);
  }
  const request = create(CreateTaskRequestSchema, {
    title,
    notes,
    priority: priorityOf(task.priority),
    tags: task.tags,
    requestId: requestIdOf(task.sourceId),
    ...(task.timeZone && zone === task.timeZone ? { timeZone: zone } : {}),
  });
  if (task.due && "date" in task.due) request.due = { case: "dueDate", value: task.due.date };
  else if (task.due && "instant" in task.due) request.due = { case: "dueTime", value: timestampFromDate(new Date(task.due.instant)) };
  else if (task.due) {
    const at = Temporal.PlainDateTime.from(task.due.local).toZonedDateTime(zone);
    request.due = { case: "dueTime", value: timestampFromDate(new Date(at.epochMilliseconds)) };
  }
  let recurrence: Recurrence | undefined = task.recurrence
    ? create(RecurrenceSchema, {
        rrule: task.recurrence.rrule,
        mode: task.recurrence.afterCompletion ? RecurrenceMode.AFTER_COMPLETION : RecurrenceMode.SCHEDULE,
        floating: task.recurrence.floating ?? false,
        exdates: task.recurrence.exdates ?? [],
      })
    : undefined;
  if (task.dueText) {
    // The date as the user typed it in Todoist, read like quick add reads it.
    const draft = await resolveQuickAdd(parseQuickAdd(task.dueText, now, zone), caller.recurrence, zone, now);
    if (draft.due?.kind === "date") request.due = { case: "dueDate", value: draft.due.date };
    else if (draft.due) request.due = { case: "dueTime", value: timestampFromDate(draft.due.time) };
    if (draft.recurrence) recurrence = draft.recurrence;
    if (!draft.due && !draft.recurrence) note("DATE", task.dueText, "not understood as a date: imported without a due");
    else if (draft.title.trim()) note("DATE", task.dueText, `"${draft.title.trim()}" was not understood and left out`);
  }
  if (task.recurrenceText) {
    try {
      recurrence = (await caller.recurrence.parseRecurrence({ text: task.recurrenceText })).recurrence;
    } catch (err) {
      note("due.string", task.recurrenceText, `repeat not understood (${ConnectError.from(err).rawMessage}): imported as a one-off task`);
    }
  }
  if (recurrence && task.completed) {
    // Completing it here would create its next occurrence, which the file does not have.
    note("recurrence", recurrence.rrule, "a completed task is imported without its repeat");
    recurrence = undefined;
  }
  if (recurrence && !request.due.case) {
    note("recurrence", recurrence.rrule, "a repeat needs a due date: imported as a one-off task");
    recurrence = undefined;
  }
  if (recurrence && !task.sourceId.startsWith("taskmesh:")) {
    // Taskwarrior and Todoist put a monthly task from the 31st on the last day of shorter months (a
    // yearly one from Feb 29 on Feb 28). A taskmesh export's rule is RRULE text and means what it says.
    const due =
      request.due.case === "dueDate"
        ? { kind: "date" as const, date: request.due.value }
        : request.due.case === "dueTime"
          ? { kind: "time" as const, time: timestampDate(request.due.value) }
          : undefined;
    const lastDay = due && lastDayRule(recurrence, due, zone);
    const rule = lastDay && (await caller.recurrence.parseRecurrence({ text: lastDay })).recurrence;
    if (rule) recurrence.rrule = rule.rrule;
  }
  if (recurrence) request.recurrence = recurrence;
  return request;
}

function requestIdOf(sourceId: string): string {
  const id = `import:${sourceId}`;
  return id.length <= MAX_REQUEST_ID ? id : `import:${createHash("sha256").update(sourceId).digest("base64url")}`;
}

function commentRequestId(taskRequestId: string, index: number): string {
  const id = `${taskRequestId}:comment:${index}`;
  return id.length <= MAX_REQUEST_ID ? id : `import-comment:${createHash("sha256").update(id).digest("base64url")}`;
}
