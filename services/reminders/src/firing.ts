import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/sql";
import type { Database } from "@taskmesh/db";
import { writeOutbox } from "@taskmesh/events";
import { NotificationChannel, ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { randomUUID } from "node:crypto";
import { deliveryJobId } from "./jobs.js";
import { reminderMetrics } from "./metrics.js";
import { SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { loadPreferences, quietHoursOf } from "./preferences.js";
import { afterQuietHours } from "./quiet-hours.js";
import { reminderEventRecord } from "./reminder-events.js";
import type { SchedulerJob } from "./scheduler/scheduler.js";

/**
 * Fires a reminder's timer for `scheduledFor`, in one transaction: records the fire (unique per
 * reminder and scheduled time, so a second delivery of the timer fires nothing), marks the reminder
 * fired, writes ReminderEvent{fired} to the outbox (in-app delivery) and a delivery row per
 * webhook/e-mail channel, due after the user's quiet hours. Returns the delivery timers to arm.
 * A timer that no longer matches the reminder (moved, cancelled, removed) fires nothing.
 */
export async function fireReminder(db: Database, taskId: string, reminderId: string, scheduledFor: Date): Promise<SchedulerJob[]> {
  const firedAt = new Date();
  const result = await db.em().transactional(async (tx) => {
    const em = tx as unknown as EntityManager;
    const [row] = await db.query<{ user_id: string; title: string }>(
      em,
      `SELECT r.user_id, t.title FROM ${SCHEMA}.reminders r JOIN ${SCHEMA}.tasks t USING (task_id)
       WHERE r.task_id = $1 AND r.reminder_id = $2 AND r.fire_at = $3::timestamptz AND r.state = ANY($4::smallint[])
       FOR UPDATE OF r`,
      [taskId, reminderId, scheduledFor.toISOString(), [ReminderState.SCHEDULED, ReminderState.SNOOZED]],
    );
    if (!row) return undefined;
    const eventId = randomUUID();
    const [fire] = await db.query<{ id: string }>(
      em,
      `INSERT INTO ${SCHEMA}.fires (event_id, task_id, reminder_id, user_id, task_title, scheduled_for, fired_at)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz) ON CONFLICT DO NOTHING RETURNING id::text AS id`,
      [eventId, taskId, reminderId, row.user_id, row.title, scheduledFor.toISOString(), firedAt.toISOString()],
    );
    if (!fire) return undefined;
    await db.query(em, `UPDATE ${SCHEMA}.reminders SET state = $3, fire_at = NULL, last_fired_at = $4::timestamptz WHERE task_id = $1 AND reminder_id = $2`, [
      taskId,
      reminderId,
      ReminderState.FIRED,
      firedAt.toISOString(),
    ]);
    const event = reminderEventRecord(
      { userId: row.user_id, taskId, reminderId },
      { case: "fired", value: { scheduledFor: timestampFromDate(scheduledFor), firedAt: timestampFromDate(firedAt), taskTitle: row.title } },
      firedAt,
      eventId,
    );
    await writeOutbox(db, em, OUTBOX, [event]);

    const prefs = await loadPreferences(db, em, row.user_id);
    const notBefore = afterQuietHours(firedAt, quietHoursOf(prefs));
    const targets: [string, string][] = [];
    if (prefs.channels.includes(NotificationChannel.WEBHOOK) && prefs.webhookUrl) targets.push(["webhook", prefs.webhookUrl]);
    if (prefs.channels.includes(NotificationChannel.EMAIL) && prefs.emailAddress) targets.push(["email", prefs.emailAddress]);
    const deliveries = targets.length
      ? await db.query<{ id: string }>(
          em,
          `INSERT INTO ${SCHEMA}.deliveries (fire_id, user_id, channel, target, not_before)
           SELECT $1, $2, channel, target, $5::timestamptz FROM unnest($3::text[], $4::text[]) AS t(channel, target) RETURNING id::text AS id`,
          [fire.id, row.user_id, targets.map((t) => t[0]), targets.map((t) => t[1]), notBefore.toISOString()],
        )
      : [];
    return deliveries.map((d) => ({ id: deliveryJobId(d.id), dueAt: notBefore }));
  });
  if (result === undefined) return [];
  reminderMetrics.fired().inc();
  reminderMetrics.lateness().observe((firedAt.getTime() - scheduledFor.getTime()) / 1000);
  return result;
}
