import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@taskmesh/db";
import { writeOutbox } from "@taskmesh/events";
import { currentTraceparent, invalidArgument, requireUser, USER_ID_HEADER, type FieldViolation } from "@taskmesh/kit";
import {
  NotificationChannel,
  type ReminderService,
  ReminderState,
  ReminderStatusSchema,
  type ReminderStatus,
  type UpdateNotificationPreferencesRequest,
} from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { randomBytes } from "node:crypto";
import { CANCEL_REASONS, reminderOf, type ReminderRow } from "./arming.js";
import { inboxHandlers, markFiresRead } from "./inbox.js";
import { SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { loadPreferences, preferencesToProto, savePreferences, type Preferences } from "./preferences.js";
import type { VapidKeys } from "./push.js";
import type { ReminderEngine } from "./reminder-engine.js";
import { reminderEventRecord } from "./reminder-events.js";
import { WebhookTargetPolicy, WebhookTargetRefused } from "./webhook-target.js";

const MAX_SNOOZE_MS = 30 * 24 * 3600 * 1000;
const PREFERENCE_PATHS = ["channels", "webhook_url", "email_address", "quiet_hours", "time_zone"] as const;

/** owner_id: the task's owner, whose history its reminder events go to. */
type Row = ReminderRow & { title: string; owner_id: string };

function statusOf(row: Row): ReminderStatus {
  return create(ReminderStatusSchema, {
    taskId: row.task_id,
    taskTitle: row.title,
    reminder: reminderOf(row),
    state: row.state,
    nextFireTime: row.fire_at ? timestampFromDate(new Date(row.fire_at)) : undefined,
    lastFireTime: row.last_fired_at ? timestampFromDate(new Date(row.last_fired_at)) : undefined,
    cancelReason: row.cancel_reason,
  });
}

function encodeToken(row: Row): string {
  return Buffer.from(JSON.stringify([new Date(row.fire_at!).toISOString(), row.task_id, row.reminder_id])).toString("base64url");
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeToken(token: string): [string, string, string] {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString()) as unknown;
    // Checked to the letter: the values go into SQL as timestamptz, uuid and text parameters, and a
    // crafted token must be INVALID_ARGUMENT, not a database error.
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((v) => typeof v === "string") &&
      ISO_INSTANT.test(value[0]) &&
      !Number.isNaN(Date.parse(value[0])) &&
      UUID.test(value[1]) &&
      value[2].length <= 64 &&
      !value[2].includes("\u0000")
    ) {
      return value as [string, string, string];
    }
  } catch {
    // reported below
  }
  throw invalidArgument([{ field: "page_token", ruleId: "page_token.valid", message: "not a page token from a previous ListReminders response" }]);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const maskedPaths = (req: UpdateNotificationPreferencesRequest) => (req.updateMask?.paths.length ? req.updateMask.paths : [...PREFERENCE_PATHS]);

/**
 * Why the webhook URL of an update may not be saved, as a field violation, or undefined. Only a URL
 * this update sets is checked: one saved earlier is checked again at each delivery.
 */
export async function webhookUrlViolation(req: UpdateNotificationPreferencesRequest, targets: WebhookTargetPolicy): Promise<FieldViolation | undefined> {
  const url = req.preferences?.webhookUrl;
  if (!url || !maskedPaths(req).includes("webhook_url")) return undefined;
  try {
    await targets.check(url);
    return undefined;
  } catch (err) {
    if (!(err instanceof WebhookTargetRefused)) throw err;
    return { field: "preferences.webhook_url", ruleId: `webhook_url.${err.rule}`, message: err.message };
  }
}

/** The preferences after applying the masked fields of an update; throws on violations (with webhookViolation among them). */
export function mergePreferences(current: Preferences, req: UpdateNotificationPreferencesRequest, webhookViolation?: FieldViolation): Preferences {
  const paths = maskedPaths(req);
  const unknown = paths.filter((p) => !(PREFERENCE_PATHS as readonly string[]).includes(p));
  if (unknown.length) {
    throw invalidArgument([{ field: "update_mask", ruleId: "update_mask.known", message: `unknown paths ${unknown.join(", ")}; known: ${PREFERENCE_PATHS.join(", ")}` }]);
  }
  const p = req.preferences!;
  const next = { ...current };
  if (paths.includes("channels")) next.channels = [...p.channels];
  if (paths.includes("webhook_url")) next.webhookUrl = p.webhookUrl;
  if (paths.includes("email_address")) next.emailAddress = p.emailAddress;
  if (paths.includes("quiet_hours")) [next.quietStart, next.quietEnd] = [p.quietHours?.start ?? "", p.quietHours?.end ?? ""];
  if (paths.includes("time_zone")) next.timeZone = p.timeZone || "UTC";

  const violations: FieldViolation[] = [];
  if (next.channels.includes(NotificationChannel.WEBHOOK) && !next.webhookUrl) {
    violations.push({ field: "preferences.webhook_url", ruleId: "webhook_url.required", message: "the webhook channel needs a webhook URL" });
  }
  if (webhookViolation) violations.push(webhookViolation);
  if (next.channels.includes(NotificationChannel.EMAIL) && !next.emailAddress) {
    violations.push({ field: "preferences.email_address", ruleId: "email_address.required", message: "the e-mail channel needs an e-mail address" });
  }
  if (Boolean(next.quietStart) !== Boolean(next.quietEnd)) {
    violations.push({ field: "preferences.quiet_hours", ruleId: "quiet_hours.both", message: "quiet hours need both a start and an end" });
  }
  if (!isTimeZone(next.timeZone)) {
    violations.push({ field: "preferences.time_zone", ruleId: "time_zone.iana", message: `"${next.timeZone}" is not an IANA time zone (e.g. "Europe/Berlin")` });
  }
  if (violations.length) throw invalidArgument(violations);
  return next;
}

export interface ReminderServiceDeps {
  engine: ReminderEngine;
  /** For SetReminders; without it SetReminders is UNIMPLEMENTED. */
  tasks?: Client<typeof TaskService>;
  /** Where webhook URLs and push endpoints may point; default: public https URLs only. */
  webhookTargets?: WebhookTargetPolicy;
  /** The server's VAPID keys; without them push is off (GetPushConfig answers no key). */
  vapid?: VapidKeys;
}

export function createReminderServiceImpl({ engine, tasks, webhookTargets = new WebhookTargetPolicy(), vapid }: ReminderServiceDeps): ServiceImpl<typeof ReminderService> {
  const { db } = engine;

  const selectRows = `SELECT r.*, t.title, t.user_id AS owner_id FROM ${SCHEMA}.reminders r JOIN ${SCHEMA}.tasks t USING (task_id)`;

  /** Runs `change` on the caller's reminder, locked; NOT_FOUND when it is not theirs or gone. */
  async function changeReminder(ctx: HandlerContext, taskId: string, reminderId: string, change: (row: Row, em: EntityManager, userId: string) => Promise<void>): Promise<ReminderStatus> {
    const userId = requireUser(ctx);
    const row = await db.em().transactional(async (em) => {
      const query = `${selectRows} WHERE r.task_id = $1 AND r.reminder_id = $2 AND r.user_id = $3 AND r.cancel_reason <> $4 AND NOT t.deleted FOR UPDATE OF r`;
      const params = [taskId, reminderId, userId, CANCEL_REASONS.removed];
      const [found] = await db.query<Row>(em, query, params);
      if (!found) throw new ConnectError(`task ${taskId} has no reminder "${reminderId}"`, Code.NotFound);
      await change(found, em, userId);
      return (await db.query<Row>(em, query, params))[0]!;
    });
    await engine.syncTask(taskId);
    return statusOf(row);
  }

  async function setState(em: EntityManager, row: Row, state: ReminderState, fireAt: Date | null, reason: string): Promise<void> {
    await db.query(em, `UPDATE ${SCHEMA}.reminders SET state = $3, fire_at = $4::timestamptz, cancel_reason = $5 WHERE task_id = $1 AND reminder_id = $2`, [
      row.task_id,
      row.reminder_id,
      state,
      fireAt?.toISOString() ?? null,
      reason,
    ]);
  }

  async function taskReminders(userId: string, taskId: string): Promise<ReminderStatus[]> {
    const rows = await db.query<Row>(db.em(), `${selectRows} WHERE r.task_id = $1 AND r.user_id = $2 AND r.cancel_reason <> $3 AND NOT t.deleted ORDER BY r.position`, [
      taskId,
      userId,
      CANCEL_REASONS.removed,
    ]);
    return rows.map(statusOf);
  }

  const traceparent = (ctx: HandlerContext) => currentTraceparent(ctx.requestHeader);

  return {
    ...inboxHandlers(db, webhookTargets, vapid),

    async listReminders(req, ctx) {
      const userId = requireUser(ctx);
      if (req.taskId) return { reminders: await taskReminders(userId, req.taskId) };
      const size = req.pageSize || 50;
      const [at, taskId, reminderId] = req.pageToken ? decodeToken(req.pageToken) : ["-infinity", "00000000-0000-0000-0000-000000000000", ""];
      const rows = await db.query<Row>(
        db.em(),
        `${selectRows} WHERE r.user_id = $1 AND r.fire_at IS NOT NULL AND (r.fire_at, r.task_id, r.reminder_id) > ($2::timestamptz, $3::uuid, $4)
         ORDER BY r.fire_at, r.task_id, r.reminder_id LIMIT ${size + 1}`,
        [userId, at, taskId, reminderId],
      );
      const page = rows.slice(0, size);
      return { reminders: page.map(statusOf), nextPageToken: rows.length > size ? encodeToken(page[page.length - 1]!) : "" };
    },

    async setReminders(req, ctx) {
      const userId = requireUser(ctx);
      if (!tasks) throw new ConnectError("SetReminders needs the task service, which this process was not given", Code.Unimplemented);
      const call = { headers: { [USER_ID_HEADER]: userId, traceparent: traceparent(ctx) } };
      // Without a version the current one is used: UpdateTask merges per field, so only a
      // concurrent change of the reminders themselves conflicts.
      const expectedVersion = req.expectedVersion || (await tasks.getTask({ id: req.taskId }, call)).task!.version;
      const { task } = await tasks.updateTask({ task: { id: req.taskId, reminders: req.reminders }, updateMask: { paths: ["reminders"] }, expectedVersion }, call);
      await engine.applySnapshot({ task: task!, userId, version: task!.version, deleted: false, traceparent: traceparent(ctx) });
      return { task, reminders: await taskReminders(userId, task!.id) };
    },

    async snoozeReminder(req, ctx) {
      const now = Date.now();
      const until = req.until.case === "duration" ? new Date(now + Number(req.until.value.seconds) * 1000) : timestampDate(req.until.value!);
      if (until.getTime() - now > MAX_SNOOZE_MS) {
        throw invalidArgument([{ field: "until_time", ruleId: "until_time.max", message: "a reminder can be snoozed for 30 days at most" }]);
      }
      const reminder = await changeReminder(ctx, req.taskId, req.reminderId, async (row, em, userId) => {
        if (row.state !== ReminderState.FIRED && row.state !== ReminderState.SNOOZED) {
          throw new ConnectError(`reminder "${row.reminder_id}" has not fired (state ${ReminderState[row.state]}): only a fired reminder can be snoozed`, Code.FailedPrecondition);
        }
        await setState(em, row, ReminderState.SNOOZED, until, "");
        await markFiresRead(db, em, row.task_id, row.reminder_id);
        const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
        await writeOutbox(db, em, OUTBOX, [reminderEventRecord(ref, { case: "snoozed", value: { until: timestampFromDate(until) } }, new Date())]);
      });
      return { reminder };
    },

    async dismissReminder(req, ctx) {
      const reminder = await changeReminder(ctx, req.taskId, req.reminderId, async (row, em, userId) => {
        if (row.state !== ReminderState.FIRED && row.state !== ReminderState.SNOOZED) {
          throw new ConnectError(`reminder "${row.reminder_id}" has not fired (state ${ReminderState[row.state]}): cancel it instead`, Code.FailedPrecondition);
        }
        await setState(em, row, ReminderState.DISMISSED, null, "");
        await markFiresRead(db, em, row.task_id, row.reminder_id);
        // Devices drop the notification; a pending snooze will not fire.
        const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
        await writeOutbox(db, em, OUTBOX, [reminderEventRecord(ref, { case: "cancelled", value: { reason: CANCEL_REASONS.dismissed } }, new Date())]);
      });
      return { reminder };
    },

    async cancelReminder(req, ctx) {
      const reminder = await changeReminder(ctx, req.taskId, req.reminderId, async (row, em, userId) => {
        if (row.state !== ReminderState.SCHEDULED) {
          throw new ConnectError(`reminder "${row.reminder_id}" is not scheduled (state ${ReminderState[row.state]})`, Code.FailedPrecondition);
        }
        await setState(em, row, ReminderState.CANCELLED, null, CANCEL_REASONS.user);
        const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
        await writeOutbox(db, em, OUTBOX, [reminderEventRecord(ref, { case: "cancelled", value: { reason: CANCEL_REASONS.user } }, new Date())]);
      });
      return { reminder };
    },

    async getNotificationPreferences(_req, ctx) {
      const userId = requireUser(ctx);
      return { preferences: preferencesToProto(await loadPreferences(db, db.em(), userId)) };
    },

    async updateNotificationPreferences(req, ctx) {
      const userId = requireUser(ctx);
      // Before the transaction: the check may wait on DNS, which must not hold the lock.
      const webhookViolation = await webhookUrlViolation(req, webhookTargets);
      return db.em().transactional(async (em) => {
        await db.query(em, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`reminders.preferences:${userId}`]);
        const current = await loadPreferences(db, em, userId);
        const next = mergePreferences(current, req, webhookViolation);
        let secret = "";
        if ((next.webhookUrl && !next.webhookSecret) || req.rotateWebhookSecret) {
          secret = `whsec_${randomBytes(32).toString("base64url")}`;
          next.webhookSecret = secret;
        }
        await savePreferences(db, em, userId, next);
        return { preferences: preferencesToProto(next), webhookSigningSecret: secret };
      });
    },
  };
}
