import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Database, EntityManager } from "@taskmesh/db";
import { writeOutbox, type EventRecord } from "@taskmesh/events";
import { ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { ReminderSchema, TaskStatus, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { Temporal } from "temporal-polyfill";
import { SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { reminderEventRecord } from "./reminder-events.js";

export const CANCEL_REASONS = {
  completed: "task_completed",
  deleted: "task_deleted",
  timePassed: "time_passed",
  user: "cancelled_by_user",
  dismissed: "dismissed",
  /** The task no longer has the reminder: the row stays so that its timer is cancelled, but is not listed. */
  removed: "removed",
} as const;

export interface ReminderRow {
  task_id: string;
  reminder_id: string;
  /** Who is reminded (see recipientOf), not necessarily the task's owner. */
  user_id: string;
  position: number;
  at: Date | null;
  before_due_seconds: number | null;
  base_fire_at: Date | null;
  fire_at: Date | null;
  state: ReminderState;
  cancel_reason: string;
  last_fired_at: Date | null;
}

/** A task as a task event carries it, and what happened to it. */
export interface TaskSnapshot {
  task: Task;
  /** The task's owner. */
  userId: string;
  /** Who created the task, when this is its creation. */
  creatorId?: string;
  version: bigint;
  deleted: boolean;
  traceparent: string;
}

/**
 * Who a task's reminders go to: its assignee, else whoever created it (in a shared project, the
 * member who made it, not the project's owner), else (a task armed before creators were kept) its owner.
 */
export function recipientOf(task: Task, creatorId: string | null, owner: string): string {
  return task.assigneeId || creatorId || owner;
}

/** Reminders fire at these; the others wait for nothing. */
export function isPending(state: ReminderState): boolean {
  return state === ReminderState.SCHEDULED || state === ReminderState.SNOOZED;
}

/** The instant a task is due: its due time, or the start of its due date in its zone. */
export function dueInstant(task: Task): Date | undefined {
  if (task.due.case === "dueTime") return timestampDate(task.due.value);
  if (task.due.case === "dueDate") {
    const zoned = Temporal.PlainDate.from(task.due.value).toZonedDateTime({ timeZone: task.timeZone || "UTC" });
    return new Date(zoned.epochMilliseconds);
  }
  return undefined;
}

/** When a reminder's definition says it fires; undefined for a relative one on a task without due. */
export function baseFireTime(reminder: Reminder, due: Date | undefined): Date | undefined {
  if (reminder.trigger.case === "absoluteTime") return timestampDate(reminder.trigger.value);
  if (reminder.trigger.case === "beforeDue" && due) {
    const d = reminder.trigger.value;
    return new Date(due.getTime() - Number(d.seconds) * 1000 - Math.floor(d.nanos / 1e6));
  }
  return undefined;
}

/** The task's definition of a stored reminder. */
export function reminderOf(row: ReminderRow): Reminder {
  return create(ReminderSchema, {
    id: row.reminder_id,
    trigger: row.at !== null ? { case: "absoluteTime", value: timestampFromDate(new Date(row.at)) } : { case: "beforeDue", value: durationFromMs((row.before_due_seconds ?? 0) * 1000) },
  });
}

function sameTime(a: Date | null | undefined, b: Date | null | undefined): boolean {
  return (a ? new Date(a).getTime() : null) === (b ? new Date(b).getTime() : null);
}

/**
 * A reminder set for a time that passed while the request was on its way (a few seconds, or a
 * slow commit) still fires, at once: the user meant it. Older ones are `time_passed`.
 */
const NEW_REMINDER_GRACE_MS = 60_000;

/** A task's state to apply, and when the change happened (`ref`: what "still ahead" is measured from). */
export interface TaskChange {
  snap: TaskSnapshot;
  ref: Date;
}

/**
 * Brings tasks' reminders in line with their states, in order, in the caller's transaction: arms
 * new ones and those whose time moved (relative reminders follow the due), cancels those of a
 * completed or deleted task and those the task dropped, re-arms on reopen the ones still ahead of
 * `ref`. Writes the scheduled/cancelled events. Ignores a snapshot not newer than the one applied
 * last. The statements every task needs (its row, its reminders' rows) are made once for a run of
 * distinct tasks: a task seen again starts the next run. Returns the tasks that have reminders
 * (rows or definitions): those whose timers may have to change.
 */
export async function applyTaskStates(db: Database, em: EntityManager, changes: readonly TaskChange[]): Promise<Set<string>> {
  const withReminders = new Set<string>();
  let run: TaskChange[] = [];
  const inRun = new Set<string>();
  for (const change of changes) {
    // uuid text as PostgreSQL returns it, whatever case the event used
    const taskId = change.snap.task.id.toLowerCase();
    if (inRun.has(taskId)) {
      await applyRun(db, em, run, withReminders);
      run = [];
      inRun.clear();
    }
    run.push(change);
    inRun.add(taskId);
  }
  if (run.length > 0) await applyRun(db, em, run, withReminders);
  return withReminders;
}

async function applyRun(db: Database, em: EntityManager, run: readonly TaskChange[], withReminders: Set<string>): Promise<void> {
  const snaps = run.map((c) => c.snap);
  const applied = await db.query<{ task_id: string; creator_id: string | null; inserted: boolean }>(
    em,
    `INSERT INTO ${SCHEMA}.tasks (task_id, user_id, title, version, deleted, creator_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::text[])
     ON CONFLICT (task_id) DO UPDATE SET title = EXCLUDED.title, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
       creator_id = coalesce(tasks.creator_id, EXCLUDED.creator_id)
     WHERE tasks.version < EXCLUDED.version AND tasks.user_id = EXCLUDED.user_id
     RETURNING task_id, creator_id, xmax = 0 AS inserted`,
    [
      snaps.map((s) => s.task.id),
      snaps.map((s) => s.userId),
      snaps.map((s) => s.task.title),
      snaps.map((s) => s.version.toString()),
      snaps.map((s) => s.deleted),
      snaps.map((s) => s.creatorId ?? null),
    ],
  );
  if (applied.length === 0) return;
  const creators = new Map(applied.map((r) => [r.task_id, r.creator_id]));
  // A task new to this table has no reminder rows yet (they are written after its row, here).
  const known = applied.filter((r) => !r.inserted).map((r) => r.task_id);
  // In task order: concurrent writers lock a task's rows in the same order.
  const rows = known.length === 0 ? [] : await db.query<ReminderRow>(em, `SELECT * FROM ${SCHEMA}.reminders WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, reminder_id FOR UPDATE`, [known]);
  const rowsByTask = new Map<string, ReminderRow[]>();
  for (const row of rows) rowsByTask.set(row.task_id, [...(rowsByTask.get(row.task_id) ?? []), row]);
  const events: EventRecord[] = [];
  for (const { snap, ref } of run) {
    const taskId = snap.task.id.toLowerCase();
    if (!creators.has(taskId)) continue;
    // Neither defined nor stored: nothing to arm or cancel.
    if (!rowsByTask.has(taskId) && snap.task.reminders.length === 0) continue;
    withReminders.add(taskId);
    await armTask(db, em, snap, ref, creators.get(taskId) ?? null, rowsByTask.get(taskId) ?? [], events);
  }
  await writeOutbox(db, em, OUTBOX, events);
}

/** One applied task's reminders: their rows written, their events added to `events`. */
async function armTask(db: Database, em: EntityManager, snap: TaskSnapshot, ref: Date, creatorId: string | null, rows: readonly ReminderRow[], events: EventRecord[]): Promise<void> {
  const recipient = recipientOf(snap.task, creatorId, snap.userId);
  const existing = new Map(rows.map((r) => [r.reminder_id, r]));
  const open = !snap.deleted && snap.task.status !== TaskStatus.COMPLETED;
  const closedReason = snap.deleted ? CANCEL_REASONS.deleted : CANCEL_REASONS.completed;
  const due = dueInstant(snap.task);
  const now = new Date();
  const ref0 = { userId: snap.userId, recipientId: recipient, taskId: snap.task.id, traceparent: snap.traceparent };
  const scheduled = (id: string, at: Date) => events.push(reminderEventRecord({ ...ref0, reminderId: id }, { case: "scheduled", value: { fireAt: timestampFromDate(at) } }, now));
  const cancelled = (id: string, reason: string) => events.push(reminderEventRecord({ ...ref0, reminderId: id }, { case: "cancelled", value: { reason } }, now));

  const definitions = snap.deleted ? [] : snap.task.reminders;
  for (const [position, reminder] of definitions.entries()) {
    const base = baseFireTime(reminder, due) ?? null;
    const row = existing.get(reminder.id);
    existing.delete(reminder.id);
    const redefined = !row || row.cancel_reason === CANCEL_REASONS.removed || !sameTime(row.base_fire_at, base);
    let state = row?.state ?? ReminderState.CANCELLED;
    let fireAt = row?.fire_at ?? null;
    let reason = row?.cancel_reason ?? "";
    const arm = (graceMs: number) => {
      if (base && base.getTime() > ref.getTime() - graceMs) {
        [state, fireAt, reason] = [ReminderState.SCHEDULED, base, ""];
        scheduled(reminder.id, base);
      } else {
        if (row && isPending(row.state)) cancelled(reminder.id, CANCEL_REASONS.timePassed);
        [state, fireAt, reason] = [ReminderState.CANCELLED, null, CANCEL_REASONS.timePassed];
      }
    };
    if (open && redefined) arm(NEW_REMINDER_GRACE_MS);
    else if (open && state === ReminderState.CANCELLED && reason === CANCEL_REASONS.completed) arm(0);
    else if (!open && (redefined || isPending(state))) {
      if (row && isPending(row.state)) cancelled(reminder.id, closedReason);
      [state, fireAt, reason] = [ReminderState.CANCELLED, null, closedReason];
    }
    await db.query(
      em,
      `INSERT INTO ${SCHEMA}.reminders (task_id, reminder_id, user_id, position, at, before_due_seconds, base_fire_at, fire_at, state, cancel_reason)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7::timestamptz, $8::timestamptz, $9, $10)
       ON CONFLICT (task_id, reminder_id) DO UPDATE SET user_id = EXCLUDED.user_id, position = EXCLUDED.position, at = EXCLUDED.at,
         before_due_seconds = EXCLUDED.before_due_seconds, base_fire_at = EXCLUDED.base_fire_at,
         fire_at = EXCLUDED.fire_at, state = EXCLUDED.state, cancel_reason = EXCLUDED.cancel_reason`,
      [
        snap.task.id,
        reminder.id,
        recipient,
        position,
        reminder.trigger.case === "absoluteTime" ? timestampDate(reminder.trigger.value).toISOString() : null,
        reminder.trigger.case === "beforeDue" ? Number(reminder.trigger.value.seconds) : null,
        base?.toISOString() ?? null,
        fireAt ? new Date(fireAt).toISOString() : null,
        state,
        reason,
      ],
    );
  }
  // What the task no longer has (all of it when deleted).
  for (const row of existing.values()) {
    if (row.cancel_reason === CANCEL_REASONS.removed) continue;
    if (isPending(row.state)) cancelled(row.reminder_id, snap.deleted ? CANCEL_REASONS.deleted : CANCEL_REASONS.removed);
  }
  if (existing.size > 0) {
    await db.query(em, `UPDATE ${SCHEMA}.reminders SET state = $3, fire_at = NULL, cancel_reason = $4 WHERE task_id = $1 AND reminder_id = ANY($2::text[])`, [
      snap.task.id,
      [...existing.keys()],
      ReminderState.CANCELLED,
      CANCEL_REASONS.removed,
    ]);
  }
}
