// The editor's form state, and the UpdateTask request for what changed (only those fields are sent,
// so an edit made elsewhere to another field is kept).
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Priority, RecurrenceSchema, TaskSchema, type RecurrenceMode, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { UpdateTaskRequestSchema, type UpdateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { fromWallClock, toWallClock } from "./zoned.js";

export interface RuleValue {
  rrule: string;
  mode: RecurrenceMode;
}

export interface TaskForm {
  title: string;
  notes: string;
  priority: Priority;
  tags: string;
  dueKind: "none" | "date" | "time";
  date: string;
  time: string;
  timeZone: string;
  rule?: RuleValue;
  reminders: Reminder[];
}

export function formFromTask(task: Task, defaultTimeZone: string): TaskForm {
  const timeZone = task.timeZone || defaultTimeZone;
  const wall = task.due.case === "dueTime" ? toWallClock(timestampDate(task.due.value), timeZone) : undefined;
  return {
    title: task.title,
    notes: task.notes,
    priority: priorityOf(task),
    tags: task.tags.join(" "),
    dueKind: task.due.case === "dueTime" ? "time" : task.due.case === "dueDate" ? "date" : "none",
    date: task.due.case === "dueDate" ? task.due.value : (wall?.date ?? ""),
    time: wall?.time ?? "09:00",
    timeZone,
    ...(task.recurrence ? { rule: { rrule: task.recurrence.rrule, mode: task.recurrence.mode } } : {}),
    reminders: task.reminders,
  };
}

// A task saved without a priority has none; the form has no "unspecified".
const priorityOf = (task: Task) => (task.priority === Priority.UNSPECIFIED ? Priority.NONE : task.priority);

export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((t) => t.replace(/^#/, "").toLowerCase())
        .filter(Boolean),
    ),
  ];
}

export function dueOf(form: TaskForm): Task["due"] {
  if (form.dueKind === "date" && form.date) return { case: "dueDate", value: form.date };
  if (form.dueKind === "time" && form.date && form.time) return { case: "dueTime", value: timestampFromDate(fromWallClock(form.date, form.time, form.timeZone)) };
  return { case: undefined };
}

const sameDue = (a: Task["due"], b: Task["due"]) =>
  a.case === b.case && (a.case === "dueTime" && b.case === "dueTime" ? timestampDate(a.value).getTime() === timestampDate(b.value).getTime() : a.value === b.value);

const reminderKey = (r: Reminder) =>
  `${r.trigger.case}:${r.trigger.case === "beforeDue" ? r.trigger.value.seconds : r.trigger.case === "absoluteTime" ? timestampDate(r.trigger.value).getTime() : ""}`;

export function updateRequest(task: Task, form: TaskForm): UpdateTaskRequest | undefined {
  const next = create(TaskSchema, { id: task.id });
  const paths: string[] = [];
  if (form.title !== task.title) {
    next.title = form.title;
    paths.push("title");
  }
  if (form.notes !== task.notes) {
    next.notes = form.notes;
    paths.push("notes");
  }
  if (form.priority !== priorityOf(task)) {
    next.priority = form.priority;
    paths.push("priority");
  }
  const tags = parseTags(form.tags);
  if (tags.join(" ") !== task.tags.join(" ")) {
    next.tags = tags;
    paths.push("tags");
  }
  const due = dueOf(form);
  const dueChanged = !sameDue(due, task.due);
  if (dueChanged) {
    next.due = due;
    paths.push("due_time", "due_date");
  }
  if (form.timeZone !== (task.timeZone || form.timeZone) || (dueChanged && !task.timeZone)) {
    next.timeZone = form.timeZone;
    paths.push("time_zone");
  }
  const ruleChanged = form.rule?.rrule !== task.recurrence?.rrule || form.rule?.mode !== task.recurrence?.mode;
  if (ruleChanged || (dueChanged && form.rule)) {
    // A new rule (or a moved first due) starts the series again from the due.
    if (form.rule) next.recurrence = create(RecurrenceSchema, { rrule: form.rule.rrule, mode: form.rule.mode });
    paths.push("recurrence");
  }
  if (form.reminders.map(reminderKey).join() !== task.reminders.map(reminderKey).join()) {
    next.reminders = form.reminders;
    paths.push("reminders");
  }
  if (paths.length === 0) return undefined;
  return create(UpdateTaskRequestSchema, { task: next, updateMask: create(FieldMaskSchema, { paths }), expectedVersion: task.version });
}

/** My edits on top of theirs: each field I left as it was in `base` takes its value from `theirs`. */
export function rebaseForm(mine: TaskForm, base: TaskForm, theirs: TaskForm): TaskForm {
  const merged = { ...theirs };
  for (const key of Object.keys(mine) as (keyof TaskForm)[]) {
    if (JSON.stringify(mine[key], jsonSafe) !== JSON.stringify(base[key], jsonSafe)) Object.assign(merged, { [key]: mine[key] });
  }
  return merged;
}

// Reminders carry bigint seconds.
const jsonSafe = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);
