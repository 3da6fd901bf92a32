import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Database } from "@taskmesh/db";
import { writeOutbox } from "@taskmesh/events";
import { currentTraceparent, GroupCommit } from "@taskmesh/kit";
import { NotificationChannel, ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { randomUUID } from "node:crypto";
import { deliveryJobId } from "./jobs.js";
import { reminderMetrics } from "./metrics.js";
import { SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { preferencesFrom, quietHoursOf, storedPreferences } from "./preferences.js";
import { afterQuietHours } from "./quiet-hours.js";
import { reminderEventRecord } from "./reminder-events.js";
import type { SchedulerJob } from "./scheduler/scheduler.js";

/** A reminder's timer that went off. */
export interface DueReminder {
  taskId: string;
  reminderId: string;
  scheduledFor: Date;
}

/** user_id: who is reminded; owner_id: the task's owner. */
type FiredRow = { task_id: string; reminder_id: string; user_id: string; owner_id: string; title: string };

const keyOf = (taskId: string, reminderId: string) => `${taskId}/${reminderId}`;

/**
 * Fires reminders whose timers went off. The timers due together (a burst) are folded into one
 * transaction, set-based: each reminder still pending at exactly that time is marked fired, its
 * fire recorded (unique per reminder and scheduled time, so a second delivery of a timer fires
 * nothing), ReminderEvent{fired} written to the outbox (in-app delivery), and a delivery row made
 * per webhook/e-mail channel, due after the user's quiet hours, and one per push subscription. A timer that no longer matches its
 * reminder (moved, cancelled, removed) fires nothing. Each caller gets its delivery timers to arm.
 */
export class ReminderFiring {
  readonly #group: GroupCommit<DueReminder, SchedulerJob[]>;

  constructor(private readonly db: Database) {
    this.#group = new GroupCommit((items) => this.#fireAll(items), 500);
  }

  async fire(due: DueReminder): Promise<SchedulerJob[]> {
    const [jobs] = await this.#group.submit([due]);
    return jobs ?? [];
  }

  async #fireAll(items: DueReminder[]): Promise<SchedulerJob[][]> {
    const firedAt = new Date();
    const deliveriesOf = new Map<string, SchedulerJob[]>();
    const fired = await this.db.em().transactional(async (em) => {
      const db = this.db;
      const rows = await db.query<FiredRow>(
        em,
        `UPDATE ${SCHEMA}.reminders r SET state = $5, fire_at = NULL, last_fired_at = $4::timestamptz
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS d(task_id, reminder_id, scheduled_for)
           JOIN ${SCHEMA}.tasks t ON t.task_id = d.task_id
         WHERE r.task_id = d.task_id AND r.reminder_id = d.reminder_id AND r.fire_at = d.scheduled_for AND r.state = ANY($6::smallint[])
         RETURNING r.task_id::text AS task_id, r.reminder_id, r.user_id, t.user_id AS owner_id, t.title`,
        [
          items.map((i) => i.taskId),
          items.map((i) => i.reminderId),
          items.map((i) => i.scheduledFor.toISOString()),
          firedAt.toISOString(),
          ReminderState.FIRED,
          [ReminderState.SCHEDULED, ReminderState.SNOOZED],
        ],
      );
      if (rows.length === 0) return [];
      // The recipients' preferences (an UPDATE's FROM cannot join on the row it updates).
      const preferencesOf = await storedPreferences(em, [...new Set(rows.map((f) => f.user_id))]);
      const scheduledFor = new Map(items.map((i) => [keyOf(i.taskId, i.reminderId), i.scheduledFor]));
      const fires = rows.map((row) => ({ row, eventId: randomUUID(), scheduledFor: scheduledFor.get(keyOf(row.task_id, row.reminder_id))! }));
      // A fire at this very time exists (the due moved away and back): once is enough.
      const inserted = await db.query<{ id: string; event_id: string }>(
        em,
        `INSERT INTO ${SCHEMA}.fires (event_id, task_id, reminder_id, user_id, task_title, scheduled_for, fired_at)
         SELECT *, $7::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING id::text AS id, event_id::text AS event_id`,
        [
          fires.map((f) => f.eventId),
          fires.map((f) => f.row.task_id),
          fires.map((f) => f.row.reminder_id),
          fires.map((f) => f.row.user_id),
          fires.map((f) => f.row.title),
          fires.map((f) => f.scheduledFor.toISOString()),
          firedAt.toISOString(),
        ],
      );
      const fireIds = new Map(inserted.map((i) => [i.event_id, i.id]));
      const done = fires.filter((f) => fireIds.has(f.eventId));
      await writeOutbox(
        db,
        em,
        OUTBOX,
        done.map(({ row, eventId, scheduledFor }) =>
          reminderEventRecord(
            { userId: row.owner_id, recipientId: row.user_id, taskId: row.task_id, reminderId: row.reminder_id, traceparent: currentTraceparent() },
            { case: "fired", value: { scheduledFor: timestampFromDate(scheduledFor), firedAt: timestampFromDate(firedAt), taskTitle: row.title } },
            firedAt,
            eventId,
          ),
        ),
      );

      const deliveries: { fireId: string; key: string; userId: string; channel: string; target: string; notBefore: Date }[] = [];
      for (const { row, eventId } of done) {
        const prefs = preferencesFrom(preferencesOf.get(row.user_id));
        const notBefore = afterQuietHours(firedAt, quietHoursOf(prefs));
        const base = { fireId: fireIds.get(eventId)!, key: keyOf(row.task_id, row.reminder_id), userId: row.user_id, notBefore };
        if (prefs.channels.includes(NotificationChannel.WEBHOOK) && prefs.webhookUrl) deliveries.push({ ...base, channel: "webhook", target: prefs.webhookUrl });
        if (prefs.channels.includes(NotificationChannel.EMAIL) && prefs.emailAddress) deliveries.push({ ...base, channel: "email", target: prefs.emailAddress });
      }
      // Every browser the user subscribed gets a push at once, like the in-app event: a device
      // notification is theirs to silence, quiet hours hold back webhooks and e-mail only.
      const subscriptions = await db.query<{ id: string; user_id: string }>(em, `SELECT id::text AS id, user_id FROM ${SCHEMA}.push_subscriptions WHERE user_id = ANY($1::text[])`, [
        [...new Set(done.map((f) => f.row.user_id))],
      ]);
      for (const { row, eventId } of done) {
        for (const s of subscriptions.filter((s) => s.user_id === row.user_id)) {
          deliveries.push({ fireId: fireIds.get(eventId)!, key: keyOf(row.task_id, row.reminder_id), userId: row.user_id, notBefore: firedAt, channel: "push", target: s.id });
        }
      }
      if (deliveries.length > 0) {
        const ids = await db.query<{ id: string }>(
          em,
          `INSERT INTO ${SCHEMA}.deliveries (fire_id, user_id, channel, target, not_before)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) RETURNING id::text AS id`,
          [deliveries.map((d) => d.fireId), deliveries.map((d) => d.userId), deliveries.map((d) => d.channel), deliveries.map((d) => d.target), deliveries.map((d) => d.notBefore.toISOString())],
        );
        for (const [i, d] of deliveries.entries()) deliveriesOf.set(d.key, [...(deliveriesOf.get(d.key) ?? []), { id: deliveryJobId(ids[i]!.id), dueAt: d.notBefore }]);
      }
      return done;
    });
    for (const f of fired) {
      reminderMetrics.fired().inc();
      reminderMetrics.lateness().observe((firedAt.getTime() - f.scheduledFor.getTime()) / 1000);
    }
    return items.map((i) => deliveriesOf.get(keyOf(i.taskId, i.reminderId)) ?? []);
  }
}
