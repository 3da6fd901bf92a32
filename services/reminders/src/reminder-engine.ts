import type { Database } from "@taskmesh/db";
import { claimEventIds, TOPIC } from "@taskmesh/events";
import { withSpan, type Logger } from "@taskmesh/kit";
import type { TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { applyTaskStates, type TaskSnapshot } from "./arming.js";
import { attemptDelivery, type DeliveryOptions } from "./delivery.js";
import { ReminderFiring } from "./firing.js";
import { deliveryJobId, parseJobId, reminderJobId } from "./jobs.js";
import { SCHEMA } from "./migrations/index.js";
import type { DueJob, Scheduler, SchedulerJob } from "./scheduler/scheduler.js";

/** The task snapshot a task event carries, or undefined for an event without one. */
export function snapshotOf(event: TaskEvent): TaskSnapshot | undefined {
  const e = event.event;
  const task = e.case === "updated" ? e.value.after : e.value && "task" in e.value ? e.value.task : undefined;
  if (!task) return undefined;
  return {
    task,
    userId: event.userId,
    creatorId: e.case === "created" ? event.actorId || event.userId : undefined,
    version: event.version,
    deleted: e.case === "deleted",
    traceparent: event.traceparent,
  };
}

/**
 * Keeps the scheduler's timers in line with the reminders table and handles what falls due. The
 * table is the truth: after every change the task's timers are re-synced from it (idempotent), and
 * on start every pending reminder and delivery is scheduled again, so a crash between a commit and
 * its schedule() loses nothing.
 */
export class ReminderEngine {
  readonly #firing: ReminderFiring;

  constructor(
    readonly db: Database,
    private readonly scheduler: Scheduler,
    private readonly delivery: DeliveryOptions,
    private readonly logger: Logger,
  ) {
    this.#firing = new ReminderFiring(db);
  }

  /**
   * Task-events messages, each applied once per event id, in order, in one transaction (a commit
   * per event could not keep up with the writes); the timers of the tasks with reminders are synced
   * after it, and those of a duplicate's task: its first delivery may have committed and then
   * failed to schedule.
   */
  async applyTaskEvents(events: readonly TaskEvent[]): Promise<void> {
    const applicable = events.flatMap((event) => {
      const snap = snapshotOf(event);
      return snap ? [{ event, snap }] : [];
    });
    if (applicable.length === 0) return;
    const taskIds = [...new Set(applicable.map(({ snap }) => snap.task.id))];
    const attributes = applicable.length === 1 ? { "taskmesh.task_id": taskIds[0]!, "taskmesh.reminders": applicable[0]!.snap.task.reminders.length } : { "taskmesh.tasks": taskIds.length };
    await withSpan("reminders arm", { attributes }, async () => {
      const toSync = await this.db.em().transactional(async (em) => {
        const fresh = await claimEventIds(
          this.db,
          em,
          { schema: SCHEMA, consumer: TOPIC.taskEvents },
          applicable.map(({ event }) => event.eventId),
        );
        const changes: typeof applicable = [];
        const duplicates: string[] = [];
        // delete: an event id twice in the batch is applied once.
        for (const item of applicable) {
          if (fresh.delete(item.event.eventId)) changes.push(item);
          else duplicates.push(item.snap.task.id);
        }
        const withReminders = await applyTaskStates(
          this.db,
          em,
          changes.map(({ event, snap }) => ({ snap, ref: event.occurredAt ? timestampDate(event.occurredAt) : new Date() })),
        );
        return [...withReminders, ...duplicates];
      });
      await this.syncTasks(toSync);
    });
  }

  /** A task as TaskService returned it (SetReminders): armed now, before its event arrives. */
  async applySnapshot(snap: TaskSnapshot): Promise<void> {
    await this.db.em().transactional((tx) => applyTaskStates(this.db, tx, [{ snap, ref: new Date() }]));
    await this.syncTasks([snap.task.id]);
  }

  /** Puts the tasks' timers in line with the reminders table. */
  async syncTasks(taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const rows = await this.db.query<{ task_id: string; reminder_id: string; fire_at: Date | null }>(
      this.db.em(),
      `SELECT task_id, reminder_id, fire_at FROM ${SCHEMA}.reminders WHERE task_id = ANY($1::uuid[])`,
      [taskIds],
    );
    await this.scheduler.schedule(rows.filter((r) => r.fire_at).map((r) => ({ id: reminderJobId(r.task_id, r.reminder_id), dueAt: new Date(r.fire_at!) })));
    await this.scheduler.cancel(rows.filter((r) => !r.fire_at).map((r) => reminderJobId(r.task_id, r.reminder_id)));
  }

  /** The scheduler's handler: a reminder's timer fires it, a delivery's attempts it. */
  readonly onDue = async (job: DueJob): Promise<void> => {
    const ref = parseJobId(job.id);
    let next: SchedulerJob[] = [];
    if (ref?.kind === "reminder") {
      const { taskId, reminderId } = ref;
      const attributes = { "taskmesh.task_id": taskId, "taskmesh.reminder_id": reminderId, "taskmesh.scheduled_for": job.dueAt.toISOString() };
      next = await withSpan("reminder fire", { attributes }, () => this.#firing.fire({ taskId, reminderId, scheduledFor: job.dueAt }));
    } else if (ref?.kind === "delivery") next = await attemptDelivery(this.db, ref.deliveryId, this.delivery, this.logger);
    else this.logger.warn({ job: job.id }, "unknown scheduler job; dropped");
    await this.scheduler.schedule(next);
  };

  /**
   * Re-arms reminders and deliveries overdue by more than graceMs: a timer that was lost (the
   * timer backend switched while old replicas still armed in the other one, its store wiped)
   * fires late instead of never. Re-arming a live timer is harmless: same id, same time, and a
   * firing is applied once per (id, due time).
   */
  async rearmOverdue(graceMs: number): Promise<number> {
    const reminders = await this.db.query<{ task_id: string; reminder_id: string; fire_at: Date }>(
      this.db.em(),
      `SELECT task_id, reminder_id, fire_at FROM ${SCHEMA}.reminders WHERE fire_at < now() - make_interval(secs => $1) ORDER BY fire_at LIMIT 1000`,
      [graceMs / 1000],
    );
    const deliveries = await this.db.query<{ id: number; not_before: Date }>(
      this.db.em(),
      `SELECT id::float8 AS id, not_before FROM ${SCHEMA}.deliveries WHERE status = 'pending' AND not_before < now() - make_interval(secs => $1) ORDER BY not_before LIMIT 1000`,
      [graceMs / 1000],
    );
    const jobs = [
      ...reminders.map((r) => ({ id: reminderJobId(r.task_id, r.reminder_id), dueAt: new Date(r.fire_at) })),
      ...deliveries.map((r) => ({ id: deliveryJobId(String(r.id)), dueAt: new Date(r.not_before) })),
    ];
    if (jobs.length > 0) {
      this.logger.warn({ reminders: reminders.length, deliveries: deliveries.length, graceMs }, "overdue timers re-armed");
      await this.scheduler.schedule(jobs);
    }
    return jobs.length;
  }

  /** Schedules every pending reminder and delivery (start-up). */
  async reconcile(): Promise<void> {
    const batch = 1000;
    for (let after = ""; ; ) {
      const rows = await this.db.query<{ key: string; task_id: string; reminder_id: string; fire_at: Date }>(
        this.db.em(),
        `SELECT task_id::text || '/' || reminder_id AS key, task_id, reminder_id, fire_at FROM ${SCHEMA}.reminders
         WHERE fire_at IS NOT NULL AND task_id::text || '/' || reminder_id > $1 ORDER BY 1 LIMIT ${batch}`,
        [after],
      );
      await this.scheduler.schedule(rows.map((r) => ({ id: reminderJobId(r.task_id, r.reminder_id), dueAt: new Date(r.fire_at) })));
      if (rows.length < batch) break;
      after = rows[rows.length - 1]!.key;
    }
    for (let after = 0; ; ) {
      const rows = await this.db.query<{ id: number; not_before: Date }>(
        this.db.em(),
        `SELECT id::float8 AS id, not_before FROM ${SCHEMA}.deliveries WHERE status = 'pending' AND id > $1 ORDER BY id LIMIT ${batch}`,
        [after],
      );
      await this.scheduler.schedule(rows.map((r) => ({ id: deliveryJobId(String(r.id)), dueAt: new Date(r.not_before) })));
      if (rows.length < batch) break;
      after = rows[rows.length - 1]!.id;
    }
  }
}
