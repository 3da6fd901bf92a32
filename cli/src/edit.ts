// `taskmesh edit`: the fields a quick-add line or the options name, and only those, go to UpdateTask
// as its update mask, with the version the edit started from, so a change made meanwhile on another
// device is reported by the service (ABORTED) rather than overwritten.
import { create } from "@bufbuild/protobuf";
import { priorityOf, type PriorityName } from "@taskmesh/mcp/shapes";
import type { Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { ReminderSchema, TaskSchema, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { namesSection, parseQuickAdd, pickProject, pickSection, resolveQuickAdd, taggedWith, toCreateRequest, type SectionChoice } from "@taskmesh/quick-add";
import type { Client } from "@connectrpc/connect";
import { UsageError } from "./usage-error.js";

export interface EditOptions {
  title?: string;
  notes?: string;
  due?: string;
  /** One of PRIORITIES (commander checks the choice). */
  priority?: PriorityName;
  tag?: string[];
  /** "me", "none", or a member's e-mail. */
  assign?: string;
}

/** What an edit reads of the project service. */
export interface EditLookups {
  /** The user id `--assign` names among the members of the task's project (at `projectId`). */
  assignee(who: string, projectId: string): Promise<string>;
  /** The sections of a project, for a line's `/name`. */
  sections(projectId: string): Promise<readonly SectionChoice[]>;
}

export interface Edit {
  task: Task;
  mask: string[];
  /** What will change, in words, for the confirmation line. */
  said: string[];
}

export async function readEdit(
  current: Task,
  words: string[],
  opts: EditOptions,
  recurrence: Client<typeof RecurrenceService>,
  projects: Project[],
  lookups: EditLookups,
  zone: string,
  now: Date,
): Promise<Edit> {
  const task = create(TaskSchema, { id: current.id });
  const mask = new Set<string>();
  const said: string[] = [];
  const set = (path: string, words: string) => {
    mask.add(path);
    said.push(words);
  };

  if (words.length > 0) {
    const named = pickProject(
      await resolveQuickAdd(parseQuickAdd(words.join(" "), now, zone), recurrence, zone, now),
      projects.filter((p) => !p.archived),
    );
    // `/name`: a section of the project the task ends up in.
    const target = named.project ?? projects.find((p) => p.id === current.projectId);
    const read = target && namesSection(named.title) ? pickSection(named, target, await lookups.sections(target.id)) : named;
    if (read.recurrenceError) throw new UsageError(`"${read.recurrenceError}": the repeat phrase was not understood; try e.g. "every monday" or "every 2 weeks on friday"`);
    const asCreate = toCreateRequest(read, zone);
    if (read.title) {
      task.title = read.title;
      set("title", `title "${read.title}"`);
    }
    if (read.due) {
      task.due = asCreate.due;
      set(asCreate.due.case === "dueTime" ? "due_time" : "due_date", `due ${read.dueText ?? ""}`.trim());
      if (read.timeZone) {
        task.timeZone = read.timeZone;
        set("time_zone", `zone ${read.timeZone}`);
      }
    }
    if (read.priority !== undefined) {
      task.priority = read.priority;
      set("priority", "priority");
    }
    const added = taggedWith(read);
    if (added.length > 0) {
      // A line's #tags and @labels add to the task's; --tag replaces them.
      task.tags = [...new Set([...current.tags, ...added])];
      set("tags", added.map((t) => `+#${t}`).join(" "));
    }
    if (read.recurrence) {
      task.recurrence = read.recurrence;
      set("recurrence", `repeats ${read.recurrenceSummary ?? ""}`.trim());
    }
    if (asCreate.reminders.length > 0) {
      task.reminders = [...current.reminders, ...asCreate.reminders.map((r) => create(ReminderSchema, { id: freeReminderId(current.reminders), trigger: r.trigger }))];
      set("reminders", `reminder ${read.reminderText ?? ""}`.trim());
    }
    // A section of the task's own project leaves the project as it is.
    if (read.project && (named.project || read.project.id !== current.projectId)) {
      task.projectId = read.project.id;
      set("project_id", `project ${read.project.name}`);
    }
    if (read.section) {
      task.sectionId = read.section.id;
      set("section_id", `section ${read.section.name}`);
    }
  }
  if (opts.title !== undefined) {
    if (!opts.title.trim()) throw new UsageError("--title needs some words");
    task.title = opts.title;
    set("title", `title "${opts.title}"`);
  }
  if (opts.notes !== undefined) {
    task.notes = opts.notes;
    set("notes", "notes");
  }
  if (opts.priority !== undefined) {
    task.priority = priorityOf(opts.priority);
    set("priority", `priority ${opts.priority}`);
  }
  if (opts.tag !== undefined) {
    task.tags = opts.tag.map((t) => t.replace(/^#/, ""));
    set("tags", `tags ${task.tags.map((t) => `#${t}`).join(" ") || "none"}`);
  }
  if (opts.due !== undefined) {
    if (opts.due === "none") set("due_date", "no due");
    else {
      const read = parseQuickAdd(`x ${opts.due}`, now, zone, { recurrence: false });
      if (!read.due || read.title !== "x") throw new UsageError(`--due ${opts.due}: not a date or time; e.g. --due tomorrow, --due "fri 5pm", --due 2027-01-31, or --due none`);
      task.due = toCreateRequest(read, zone).due;
      set(read.due.kind === "time" ? "due_time" : "due_date", `due ${opts.due}`);
    }
  }
  if (opts.assign !== undefined) {
    // Among the members where the task ends up: a #project in the line moves it first.
    task.assigneeId = opts.assign === "none" ? "" : await lookups.assignee(opts.assign, task.projectId || current.projectId);
    set("assignee_id", opts.assign === "none" ? "unassigned" : `assigned to ${opts.assign}`);
  }
  if (mask.size === 0) throw new UsageError('nothing to change: give a quick-add line ("tomorrow 5pm !high") or --title, --due, --priority, --tag, --notes, --assign');
  return { task, mask: [...mask], said };
}

/** An id none of the task's reminders has (the service keys reminders by id within a task). */
export function freeReminderId(reminders: readonly Reminder[]): string {
  for (let n = reminders.length + 1; ; n++) if (!reminders.some((r) => r.id === `r${n}`)) return `r${n}`;
}
