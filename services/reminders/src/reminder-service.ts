import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { currentTraceparent, invalidArgument, isTimeZone, pageSizeOf, requireUser, USER_ID_HEADER, type FieldViolation } from "@taskmesh/kit";
import {
  type CancelReminderRequest,
  type DismissReminderRequest,
  type ListRemindersRequest,
  NotificationChannel,
  type ReminderService,
  ReminderState,
  ReminderStatusSchema,
  type ReminderStatus,
  type SetRemindersRequest,
  type SnoozeReminderRequest,
  type UpdateNotificationPreferencesRequest,
} from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { randomBytes } from "node:crypto";
import { CANCEL_REASONS, reminderOf } from "./arming.js";
import { inboxHandlers } from "./inbox.js";
import { preferencesToProto, type Preferences } from "./preferences.js";
import type { VapidKeys } from "./push.js";
import type { ReminderEngine } from "./reminder-engine.js";
import { reminderEventRecord } from "./reminder-events.js";
import { ReminderStore, type PageStart, type ReminderStatusRow, type ReminderTx } from "./reminder-store.js";
import { WebhookTargetPolicy, WebhookTargetRefused } from "./webhook-target.js";

const MAX_SNOOZE_MS = 30 * 24 * 3600 * 1000;
const PREFERENCE_PATHS = ["channels", "webhook_url", "email_address", "quiet_hours", "time_zone"] as const;

function statusOf(row: ReminderStatusRow): ReminderStatus {
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

function encodeToken(row: ReminderStatusRow): string {
  return Buffer.from(JSON.stringify([new Date(row.fire_at!).toISOString(), row.task_id, row.reminder_id])).toString("base64url");
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeToken(token: string): PageStart {
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
      return value as PageStart;
    }
  } catch {
    // reported below
  }
  throw invalidArgument([{ field: "page_token", ruleId: "page_token.valid", message: "not a page token from a previous ListReminders response" }]);
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

/** What the handlers share. */
interface Deps {
  engine: ReminderEngine;
  store: ReminderStore;
  tasks: Client<typeof TaskService> | undefined;
  webhookTargets: WebhookTargetPolicy;
}

export function createReminderServiceImpl({ engine, tasks, webhookTargets = new WebhookTargetPolicy(), vapid }: ReminderServiceDeps): ServiceImpl<typeof ReminderService> {
  const deps: Deps = { engine, store: new ReminderStore(engine.db), tasks, webhookTargets };
  return {
    ...inboxHandlers(deps.store, webhookTargets, vapid),
    listReminders: (req, ctx) => listReminders(deps, req, ctx),
    setReminders: (req, ctx) => setReminders(deps, req, ctx),
    snoozeReminder: (req, ctx) => snoozeReminder(deps, req, ctx),
    dismissReminder: (req, ctx) => dismissReminder(deps, req, ctx),
    cancelReminder: (req, ctx) => cancelReminder(deps, req, ctx),
    getNotificationPreferences: (_req, ctx) => getNotificationPreferences(deps, ctx),
    updateNotificationPreferences: (req, ctx) => updateNotificationPreferences(deps, req, ctx),
  };
}

const traceparent = (ctx: HandlerContext) => currentTraceparent(ctx.requestHeader);

/** Runs `change` on the caller's reminder, locked; NOT_FOUND when it is not theirs or gone. */
async function changeReminder(
  { engine, store }: Deps,
  ctx: HandlerContext,
  taskId: string,
  reminderId: string,
  change: (row: ReminderStatusRow, tx: ReminderTx, userId: string) => Promise<void>,
): Promise<ReminderStatus> {
  const userId = requireUser(ctx);
  const row = await store.changeReminder(userId, taskId, reminderId, (found, tx) => change(found, tx, userId));
  if (!row) throw new ConnectError(`task ${taskId} has no reminder "${reminderId}"`, Code.NotFound);
  await engine.syncTasks([taskId]);
  return statusOf(row);
}

async function taskReminders(store: ReminderStore, userId: string, taskId: string): Promise<ReminderStatus[]> {
  return (await store.taskReminders(userId, taskId)).map(statusOf);
}

async function listReminders({ store }: Deps, req: ListRemindersRequest, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  if (req.taskId) return { reminders: await taskReminders(store, userId, req.taskId) };
  const size = pageSizeOf(req.pageSize, { default: 50, max: 500 });
  const start: PageStart = req.pageToken ? decodeToken(req.pageToken) : ["-infinity", "00000000-0000-0000-0000-000000000000", ""];
  const rows = await store.armedPage(userId, start, size + 1);
  const page = rows.slice(0, size);
  return { reminders: page.map(statusOf), nextPageToken: rows.length > size ? encodeToken(page[page.length - 1]!) : "" };
}

async function setReminders({ engine, store, tasks }: Deps, req: SetRemindersRequest, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  if (!tasks) throw new ConnectError("SetReminders needs the task service, which this process was not given", Code.Unimplemented);
  const call = { headers: { [USER_ID_HEADER]: userId, traceparent: traceparent(ctx) } };
  // Without a version the current one is used: UpdateTask merges per field, so only a
  // concurrent change of the reminders themselves conflicts.
  const expectedVersion = req.expectedVersion || (await tasks.getTask({ id: req.taskId }, call)).task!.version;
  const { task } = await tasks.updateTask({ task: { id: req.taskId, reminders: req.reminders }, updateMask: { paths: ["reminders"] }, expectedVersion }, call);
  await engine.applySnapshot({ task: task!, userId, version: task!.version, deleted: false, traceparent: traceparent(ctx) });
  return { task, reminders: await taskReminders(store, userId, task!.id) };
}

async function snoozeReminder(deps: Deps, req: SnoozeReminderRequest, ctx: HandlerContext) {
  const now = Date.now();
  const until = req.until.case === "duration" ? new Date(now + Number(req.until.value.seconds) * 1000) : timestampDate(req.until.value!);
  if (until.getTime() - now > MAX_SNOOZE_MS) {
    throw invalidArgument([{ field: "until_time", ruleId: "until_time.max", message: "a reminder can be snoozed for 30 days at most" }]);
  }
  const reminder = await changeReminder(deps, ctx, req.taskId, req.reminderId, async (row, tx, userId) => {
    if (row.state !== ReminderState.FIRED && row.state !== ReminderState.SNOOZED) {
      throw new ConnectError(`reminder "${row.reminder_id}" has not fired (state ${ReminderState[row.state]}): only a fired reminder can be snoozed`, Code.FailedPrecondition);
    }
    await tx.setState(ReminderState.SNOOZED, until, "");
    await tx.markFiresRead();
    const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
    await tx.publish(reminderEventRecord(ref, { case: "snoozed", value: { until: timestampFromDate(until) } }, new Date()));
  });
  return { reminder };
}

async function dismissReminder(deps: Deps, req: DismissReminderRequest, ctx: HandlerContext) {
  const reminder = await changeReminder(deps, ctx, req.taskId, req.reminderId, async (row, tx, userId) => {
    if (row.state !== ReminderState.FIRED && row.state !== ReminderState.SNOOZED) {
      throw new ConnectError(`reminder "${row.reminder_id}" has not fired (state ${ReminderState[row.state]}): cancel it instead`, Code.FailedPrecondition);
    }
    await tx.setState(ReminderState.DISMISSED, null, "");
    await tx.markFiresRead();
    // Devices drop the notification; a pending snooze will not fire.
    const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
    await tx.publish(reminderEventRecord(ref, { case: "cancelled", value: { reason: CANCEL_REASONS.dismissed } }, new Date()));
  });
  return { reminder };
}

async function cancelReminder(deps: Deps, req: CancelReminderRequest, ctx: HandlerContext) {
  const reminder = await changeReminder(deps, ctx, req.taskId, req.reminderId, async (row, tx, userId) => {
    if (row.state !== ReminderState.SCHEDULED) {
      throw new ConnectError(`reminder "${row.reminder_id}" is not scheduled (state ${ReminderState[row.state]})`, Code.FailedPrecondition);
    }
    await tx.setState(ReminderState.CANCELLED, null, CANCEL_REASONS.user);
    const ref = { userId: row.owner_id, recipientId: userId, taskId: row.task_id, reminderId: row.reminder_id, traceparent: traceparent(ctx) };
    await tx.publish(reminderEventRecord(ref, { case: "cancelled", value: { reason: CANCEL_REASONS.user } }, new Date()));
  });
  return { reminder };
}

async function getNotificationPreferences({ store }: Deps, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  return { preferences: preferencesToProto(await store.preferences(userId)) };
}

async function updateNotificationPreferences({ store, webhookTargets }: Deps, req: UpdateNotificationPreferencesRequest, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  // Before the transaction: the check may wait on DNS, which must not hold the lock.
  const webhookViolation = await webhookUrlViolation(req, webhookTargets);
  let secret = "";
  const saved = await store.updatePreferences(userId, (current) => {
    const next = mergePreferences(current, req, webhookViolation);
    if ((next.webhookUrl && !next.webhookSecret) || req.rotateWebhookSecret) {
      // Standard base64 after whsec_: the key Standard Webhooks' libraries decode (webhook.ts).
      secret = `whsec_${randomBytes(32).toString("base64")}`;
      next.webhookSecret = secret;
    }
    return next;
  });
  return { preferences: preferencesToProto(saved), webhookSigningSecret: secret };
}
