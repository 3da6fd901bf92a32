import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RecurrenceSchema, ReminderSchema, TaskSchema, type Recurrence, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

export interface ReminderJson {
  id: string;
  /** ISO instant, for absolute reminders. */
  at?: string;
  /** Seconds before the due, for relative reminders. */
  beforeDueSeconds?: number;
}

export interface RecurrenceJson {
  rrule: string;
  mode: number;
  floating: boolean;
  /** DTSTART of the series: an ISO instant or a YYYY-MM-DD date. */
  start?: { time: string } | { date: string };
  exdates?: string[];
  occurrence?: number;
}

/** A tasks.tasks row as the store reads it (columns aliased to these names). */
export interface TaskRow {
  id: string;
  userId: string;
  title: string;
  notes: string;
  status: number;
  priority: number;
  tags: string[];
  /** Milliseconds since the epoch as read (a Date when written): see TASK_COLUMNS. */
  dueTime: Date | number | null;
  /** YYYY-MM-DD (selected as text so no driver turns it into a local-midnight Date). */
  dueDate: string | null;
  dueAt: Date | number | null;
  timeZone: string;
  recurrence: RecurrenceJson | null;
  reminders: ReminderJson[];
  seriesId: string | null;
  requestId: string | null;
  /** Null only for a task created by a replica older than projects: its owner's Inbox. */
  projectId: string | null;
  sectionId: string | null;
  assigneeId: string | null;
  /** Who gave the task to its assignee; null while it has none. */
  assignedBy: string | null;
  parentId: string | null;
  orderKey: string;
  commentCount: number;
  version: number;
  fieldVersions: Record<string, number>;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

// Due instants are read as epoch milliseconds: node-postgres parses a timestamptz of years 0001–0099
// with Date.UTC, which maps them to 1900–1999 (stored right, read wrong).
export const TASK_COLUMNS = `id, user_id AS "userId", title, notes, status, priority, tags,
  (extract(epoch FROM due_time) * 1000)::float8 AS "dueTime", due_date::text AS "dueDate",
  (extract(epoch FROM due_at) * 1000)::float8 AS "dueAt", time_zone AS "timeZone",
  recurrence, reminders, series_id AS "seriesId", request_id AS "requestId", version,
  field_versions AS "fieldVersions", created_at AS "createdAt", updated_at AS "updatedAt",
  completed_at AS "completedAt", project_id AS "projectId", section_id AS "sectionId", assignee_id AS "assigneeId",
  assigned_by AS "assignedBy", parent_id AS "parentId", order_key AS "orderKey", comment_count AS "commentCount"`;

export function taskFromRow(row: TaskRow): Task {
  const init: MessageInitShape<typeof TaskSchema> = {
    id: row.id,
    title: row.title,
    notes: row.notes,
    status: row.status,
    priority: row.priority,
    tags: row.tags,
    timeZone: row.timeZone,
    reminders: row.reminders.map(reminderFromJson),
    createTime: timestampFromDate(new Date(row.createdAt)),
    updateTime: timestampFromDate(new Date(row.updatedAt)),
    version: BigInt(row.version),
    seriesId: row.seriesId ?? "",
    projectId: row.projectId ?? "",
    sectionId: row.sectionId ?? "",
    assigneeId: row.assigneeId ?? "",
    assignerId: row.assignedBy ?? "",
    parentId: row.parentId ?? "",
    orderKey: row.orderKey,
    commentCount: row.commentCount,
  };
  if (row.dueTime !== null && row.dueTime !== undefined) init.due = { case: "dueTime", value: timestampFromDate(new Date(row.dueTime)) };
  else if (row.dueDate) init.due = { case: "dueDate", value: row.dueDate };
  if (row.recurrence) init.recurrence = recurrenceFromJson(row.recurrence);
  if (row.completedAt) init.completeTime = timestampFromDate(new Date(row.completedAt));
  return create(TaskSchema, init);
}

export function reminderFromJson(r: ReminderJson): Reminder {
  if (r.at !== undefined) return create(ReminderSchema, { id: r.id, trigger: { case: "absoluteTime", value: timestampFromDate(new Date(r.at)) } });
  return create(ReminderSchema, { id: r.id, trigger: { case: "beforeDue", value: durationFromMs((r.beforeDueSeconds ?? 0) * 1000) } });
}

export function reminderToJson(r: Reminder, id: string): ReminderJson {
  if (r.trigger.case === "absoluteTime") return { id, at: timestampDate(r.trigger.value).toISOString() };
  const d = r.trigger.value;
  return { id, beforeDueSeconds: d ? Number(d.seconds) : 0 };
}

export function recurrenceFromJson(r: RecurrenceJson): Recurrence {
  const start = !r.start ? undefined : "time" in r.start ? { case: "startTime" as const, value: timestampFromDate(new Date(r.start.time)) } : { case: "startDate" as const, value: r.start.date };
  return create(RecurrenceSchema, {
    rrule: r.rrule,
    mode: r.mode,
    floating: r.floating,
    start,
    exdates: r.exdates ?? [],
    occurrence: r.occurrence ?? 0,
  });
}
