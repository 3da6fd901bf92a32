import type { Database } from "@taskmesh/db";
import { SpanKind, withSpan, type Logger, type Mailer } from "@taskmesh/kit";
import { deliveryJobId } from "./jobs.js";
import { reminderMetrics } from "./metrics.js";
import { SCHEMA } from "./migrations/index.js";
import { loadPreferences } from "./preferences.js";
import { forgetPushSubscription, loadPushSubscription, PushSubscriptionGone, sendPush, type PushPayload, type VapidKeys } from "./push.js";
import type { SchedulerJob } from "./scheduler/scheduler.js";
import { isPermanentWebhookError, postWebhook } from "./webhook.js";
import { WebhookTargetPolicy, WebhookTargetRefused } from "./webhook-target.js";

export interface DeliveryOptions {
  mailer?: Mailer;
  /** Attempts before a delivery is given up (recorded as failed). */
  maxAttempts?: number;
  /** Wait before the first retry, doubled per attempt up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  webhookTimeoutMs?: number;
  /** Where webhooks and push endpoints may go; default: public https URLs only. */
  webhookTargets?: WebhookTargetPolicy;
  /** The server's VAPID keys; without them push deliveries fail. */
  vapid?: VapidKeys;
}

interface PendingDelivery {
  id: string;
  channel: "webhook" | "email" | "push";
  target: string;
  attempts: number;
  user_id: string;
  event_id: string;
  fire_id: string;
  task_id: string;
  reminder_id: string;
  task_title: string;
  scheduled_for: Date;
  fired_at: Date;
}

/**
 * Attempts one pending delivery. The outcome is recorded in the deliveries table: delivered, or
 * a retry timer at exponential backoff (returned, to arm), or failed after maxAttempts, or at once
 * when retrying cannot help (a webhook URL the policy refuses, a redirect). Delivery is
 * at least once (a crash after the send and before the record sends again): webhook receivers
 * dedupe by the event id header.
 */
export async function attemptDelivery(db: Database, deliveryId: string, options: DeliveryOptions, logger: Logger): Promise<SchedulerJob[]> {
  const [d] = await db.query<PendingDelivery>(
    db.em(),
    `SELECT d.id::text AS id, d.channel, d.target, d.attempts, d.user_id, f.event_id, f.id::text AS fire_id, f.task_id, f.reminder_id, f.task_title, f.scheduled_for, f.fired_at
     FROM ${SCHEMA}.deliveries d JOIN ${SCHEMA}.fires f ON f.id = d.fire_id WHERE d.id = $1 AND d.status = 'pending'`,
    [deliveryId],
  );
  if (!d) return [];
  const attempts = d.attempts + 1;
  try {
    const attributes = { "taskmesh.delivery_id": d.id, "taskmesh.channel": d.channel, "taskmesh.attempt": attempts };
    await withSpan(`reminder ${d.channel} delivery`, { kind: SpanKind.CLIENT, attributes }, () => send(db, d, options));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const permanent = isPermanentWebhookError(err) || err instanceof PushSubscriptionGone;
    if (err instanceof PushSubscriptionGone) await forgetPushSubscription(db, d.target);
    const giveUp = permanent || attempts >= (options.maxAttempts ?? 8);
    const retryAt = new Date(Date.now() + Math.min(options.maxRetryMs ?? 3_600_000, (options.retryMs ?? 5_000) * 2 ** (attempts - 1)));
    await db.query(db.em(), `UPDATE ${SCHEMA}.deliveries SET attempts = $2, last_error = $3, status = $4, not_before = $5::timestamptz WHERE id = $1`, [
      d.id,
      attempts,
      error.slice(0, 1000),
      giveUp ? "failed" : "pending",
      retryAt.toISOString(),
    ]);
    const refused = err instanceof WebhookTargetRefused;
    reminderMetrics.deliveries().inc({ channel: d.channel, outcome: refused ? "refused" : giveUp ? "failed" : "retry" });
    const message = refused
      ? `${d.channel} target refused by TASKMESH_WEBHOOK_ALLOWED_HOSTS; giving up`
      : permanent
        ? "reminder delivery failed permanently; giving up"
        : giveUp
          ? "reminder delivery failed; giving up"
          : "reminder delivery failed; will retry";
    logger.warn({ delivery: d.id, channel: d.channel, user: d.user_id, attempts, error, giveUp }, message);
    return giveUp ? [] : [{ id: deliveryJobId(d.id), dueAt: retryAt }];
  }
  await db.query(db.em(), `UPDATE ${SCHEMA}.deliveries SET attempts = $2, status = 'delivered', delivered_at = now(), last_error = '' WHERE id = $1`, [d.id, attempts]);
  reminderMetrics.deliveries().inc({ channel: d.channel, outcome: "delivered" });
  return [];
}

async function send(db: Database, d: PendingDelivery, options: DeliveryOptions): Promise<void> {
  const scheduledFor = new Date(d.scheduled_for);
  if (d.channel === "webhook") {
    // The secret as it is now: a rotation applies to retries too.
    const { webhookSecret } = await loadPreferences(db.em(), d.user_id);
    const payload = {
      type: "reminder.fired",
      eventId: d.event_id,
      userId: d.user_id,
      taskId: d.task_id,
      reminderId: d.reminder_id,
      taskTitle: d.task_title,
      scheduledFor: scheduledFor.toISOString(),
      firedAt: new Date(d.fired_at).toISOString(),
    };
    // The policy is applied again here (it may have changed since the URL was saved, and the
    // name's addresses certainly may have), down to the address the connection uses.
    await postWebhook(d.target, webhookSecret, d.event_id, payload, options.webhookTimeoutMs ?? 5_000, options.webhookTargets ?? new WebhookTargetPolicy());
    return;
  }
  if (d.channel === "push") {
    if (!options.vapid) throw new Error("no VAPID keys configured (TASKMESH_VAPID_PUBLIC_KEY, TASKMESH_VAPID_PRIVATE_KEY)");
    // The target is the subscription's id: the browser may have unsubscribed since the fire.
    const subscription = await loadPushSubscription(db, d.target);
    if (!subscription) return;
    const payload: PushPayload = {
      type: "reminder",
      notificationId: d.fire_id,
      taskId: d.task_id,
      reminderId: d.reminder_id,
      title: d.task_title,
      scheduledFor: scheduledFor.toISOString(),
      firedAt: new Date(d.fired_at).toISOString(),
    };
    await sendPush(subscription, payload, options.vapid, options.webhookTargets ?? new WebhookTargetPolicy(), options.webhookTimeoutMs ?? 5_000);
    return;
  }
  if (!options.mailer) throw new Error("no SMTP server configured (SMTP_URL)");
  await options.mailer.send(d.target, `Reminder: ${d.task_title}`, `Reminder for "${d.task_title}", set for ${scheduledFor.toISOString()}.`);
}
