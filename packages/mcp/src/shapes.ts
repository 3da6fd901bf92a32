// What agents send and get back: plain JSON with friendly names (priority "high", dueDate
// "2026-12-01") rather than the proto3 JSON mapping, described by zod schemas that become the
// tools' inputSchema and outputSchema.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReminderState, type ReminderStatus } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { create } from "@bufbuild/protobuf";
import { type Priority, RecurrenceMode, ReminderSchema, TaskStatus, type Comment, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { PRIORITY_LEVELS, PRIORITY_RANK, priorityLevel, type PriorityLevel } from "@taskmesh/filter";
import * as z from "zod";

// The filter language's priority names, which every other surface (CLI, import and export) speaks too.
export const PRIORITIES = PRIORITY_LEVELS;
export type PriorityName = PriorityLevel;
export const priorityOf = (name: PriorityName): Priority => PRIORITY_RANK[name];

const iso = (t: Parameters<typeof timestampDate>[0] | undefined) => (t ? timestampDate(t).toISOString() : undefined);

export const reminderOutput = z.object({
  id: z.string(),
  beforeDueMinutes: z.number().optional().describe("minutes before the due; on an all-day task counted from its midnight"),
  at: z.string().optional().describe("an instant (ISO 8601, UTC)"),
});

export const taskOutput = z.object({
  id: z.string(),
  title: z.string(),
  notes: z.string().optional(),
  status: z.enum(["open", "completed"]),
  priority: z.enum(PRIORITIES),
  tags: z.array(z.string()),
  dueDate: z.string().optional().describe("all-day due date, YYYY-MM-DD"),
  dueTime: z.string().optional().describe("due instant, ISO 8601 UTC"),
  timeZone: z.string().optional(),
  recurrence: z.object({ rrule: z.string(), afterCompletion: z.boolean() }).optional(),
  reminders: z.array(reminderOutput),
  projectId: z.string().optional().describe("the project the task is in (find_tasks: project:<name>)"),
  projectName: z.string().optional(),
  sectionId: z.string().optional().describe("its section in that project, if any"),
  sectionName: z.string().optional(),
  assigneeId: z.string().optional().describe("the member it is assigned to (a user id), if any"),
  assigneeEmail: z.string().optional().describe("that member's e-mail (update_tasks' assignee takes it)"),
  assignerId: z.string().optional().describe("who gave the task to its assignee (a user id), if it has one"),
  assignerEmail: z.string().optional().describe("that member's e-mail (find_tasks: 'assigned by: me')"),
  version: z.number().int().describe("send it back as `version` to update or delete the task: a change made since is then reported, not overwritten"),
  createTime: z.string().optional(),
  updateTime: z.string().optional(),
  completeTime: z.string().optional(),
});
export type TaskOutput = z.infer<typeof taskOutput>;

function reminderOut(r: Reminder): z.infer<typeof reminderOutput> {
  if (r.trigger.case === "beforeDue") return { id: r.id, beforeDueMinutes: Number(r.trigger.value.seconds) / 60 };
  return { id: r.id, ...(r.trigger.case === "absoluteTime" ? { at: iso(r.trigger.value) } : {}) };
}

export function taskOut(t: Task): TaskOutput {
  return {
    id: t.id,
    title: t.title,
    ...(t.notes ? { notes: t.notes } : {}),
    status: t.status === TaskStatus.COMPLETED ? "completed" : "open",
    priority: priorityLevel(t.priority),
    tags: t.tags,
    ...(t.due.case === "dueDate" ? { dueDate: t.due.value } : t.due.case === "dueTime" ? { dueTime: iso(t.due.value) } : {}),
    ...(t.timeZone ? { timeZone: t.timeZone } : {}),
    ...(t.recurrence ? { recurrence: { rrule: t.recurrence.rrule, afterCompletion: t.recurrence.mode === RecurrenceMode.AFTER_COMPLETION } } : {}),
    reminders: t.reminders.map(reminderOut),
    ...(t.projectId ? { projectId: t.projectId } : {}),
    ...(t.sectionId ? { sectionId: t.sectionId } : {}),
    ...(t.assigneeId ? { assigneeId: t.assigneeId } : {}),
    ...(t.assignerId ? { assignerId: t.assignerId } : {}),
    version: Number(t.version),
    ...(t.createTime ? { createTime: iso(t.createTime) } : {}),
    ...(t.updateTime ? { updateTime: iso(t.updateTime) } : {}),
    ...(t.completeTime ? { completeTime: iso(t.completeTime) } : {}),
  };
}

export const reminderInput = z
  .strictObject({
    beforeDueMinutes: z.number().int().min(0).max(527_040).optional().describe("this many minutes before the due (the task needs a due)"),
    at: z.iso.datetime({ offset: true }).optional().describe("at this instant, ISO 8601 with offset, e.g. 2026-12-01T08:00:00+01:00"),
  })
  .refine((r) => (r.beforeDueMinutes === undefined) !== (r.at === undefined), "give exactly one of beforeDueMinutes and at");
export type ReminderInput = z.infer<typeof reminderInput>;

export function reminderIn(r: ReminderInput, index: number): Reminder {
  return create(ReminderSchema, {
    id: `r${index + 1}`,
    trigger: r.at !== undefined ? { case: "absoluteTime", value: timestampFromDate(new Date(r.at)) } : { case: "beforeDue", value: { seconds: BigInt(r.beforeDueMinutes! * 60) } },
  });
}

const STATES: Record<ReminderState, string> = {
  [ReminderState.UNSPECIFIED]: "unknown",
  [ReminderState.SCHEDULED]: "scheduled",
  [ReminderState.FIRED]: "fired",
  [ReminderState.SNOOZED]: "snoozed",
  [ReminderState.DISMISSED]: "dismissed",
  [ReminderState.CANCELLED]: "cancelled",
};

export const reminderStatusOutput = z.object({
  taskId: z.string(),
  taskTitle: z.string(),
  reminder: reminderOutput,
  state: z.enum(["unknown", "scheduled", "fired", "snoozed", "dismissed", "cancelled"]),
  nextFireTime: z.string().optional(),
  lastFireTime: z.string().optional(),
});

export function reminderStatusOut(s: ReminderStatus): z.infer<typeof reminderStatusOutput> {
  return {
    taskId: s.taskId,
    taskTitle: s.taskTitle,
    reminder: s.reminder ? reminderOut(s.reminder) : { id: "" },
    state: STATES[s.state] as z.infer<typeof reminderStatusOutput>["state"],
    ...(s.nextFireTime ? { nextFireTime: iso(s.nextFireTime) } : {}),
    ...(s.lastFireTime ? { lastFireTime: iso(s.lastFireTime) } : {}),
  };
}

export const commentOutput = z.object({
  id: z.string(),
  taskId: z.string(),
  authorId: z.string(),
  authorEmail: z.string().optional().describe("the author's e-mail, while they are a member of the task's project"),
  body: z.string(),
  createTime: z.string(),
});

export function commentOut(c: Comment, emails: Map<string, string>): z.infer<typeof commentOutput> {
  const email = emails.get(c.authorId);
  return {
    id: c.id,
    taskId: c.taskId,
    authorId: c.authorId,
    ...(email ? { authorEmail: email } : {}),
    body: c.body,
    createTime: c.createTime ? timestampDate(c.createTime).toISOString() : "",
  };
}
