// The notification inbox (every fired reminder of a user, read or unread, the same on each device)
// and the browsers' push subscriptions that receive them.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Database } from "@taskmesh/db";
import { invalidArgument, requireUser } from "@taskmesh/kit";
import { NotificationSchema, ReminderState, type ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { Fire, PushSubscription } from "./entities.js";
import { SCHEMA } from "./migrations/index.js";
import type { VapidKeys } from "./push.js";
import { WebhookTargetRefused, type WebhookTargetPolicy } from "./webhook-target.js";

type InboxMethods = "getPushConfig" | "addPushSubscription" | "removePushSubscription" | "listNotifications" | "markNotificationsRead";

interface FireRow {
  id: string;
  task_id: string;
  reminder_id: string;
  task_title: string;
  scheduled_for: Date;
  fired_at: Date;
  read_at: Date | null;
  state: number | null;
}

function unreadCount(db: Database, userId: string): Promise<number> {
  return db.em().count(Fire, { userId, readAt: null });
}

export function inboxHandlers(db: Database, targets: WebhookTargetPolicy, vapid: VapidKeys | undefined): Pick<ServiceImpl<typeof ReminderService>, InboxMethods> {
  return {
    async getPushConfig() {
      return { vapidPublicKey: vapid?.publicKey ?? "" };
    },

    async addPushSubscription(req, ctx: HandlerContext) {
      const userId = requireUser(ctx);
      try {
        await targets.check(req.endpoint);
      } catch (err) {
        if (!(err instanceof WebhookTargetRefused)) throw err;
        throw invalidArgument([{ field: "endpoint", ruleId: `endpoint.${err.rule}`, message: err.message }]);
      }
      // One browser, one subscription: signing in as someone else there moves it to them.
      await db
        .em()
        .upsert(PushSubscription, { userId, endpoint: req.endpoint, p256dh: req.p256dh, auth: req.auth }, { onConflictFields: ["endpoint"], onConflictMergeFields: ["userId", "p256dh", "auth"] });
      return {};
    },

    async removePushSubscription(req, ctx) {
      const userId = requireUser(ctx);
      await db.em().nativeDelete(PushSubscription, { endpoint: req.endpoint, userId });
      return {};
    },

    async listNotifications(req, ctx) {
      const userId = requireUser(ctx);
      const rows = await db.query<FireRow>(
        db.em(),
        `SELECT f.id::text AS id, f.task_id::text AS task_id, f.reminder_id, f.task_title, f.scheduled_for, f.fired_at, f.read_at, r.state
         FROM ${SCHEMA}.fires f LEFT JOIN ${SCHEMA}.reminders r ON r.task_id = f.task_id AND r.reminder_id = f.reminder_id
         WHERE f.user_id = $1 ORDER BY f.fired_at DESC, f.id DESC LIMIT ${req.pageSize || 30}`,
        [userId],
      );
      return {
        notifications: rows.map((r) =>
          create(NotificationSchema, {
            id: r.id,
            taskId: r.task_id,
            reminderId: r.reminder_id,
            taskTitle: r.task_title,
            scheduledTime: timestampFromDate(new Date(r.scheduled_for)),
            fireTime: timestampFromDate(new Date(r.fired_at)),
            read: r.read_at !== null,
            // A reminder removed from its task since: what it was when it fired.
            state: r.state ?? ReminderState.FIRED,
          }),
        ),
        unreadCount: await unreadCount(db, userId),
      };
    },

    async markNotificationsRead(req, ctx) {
      const userId = requireUser(ctx);
      const bad = req.ids.findIndex((id) => !/^[1-9][0-9]{0,17}$/.test(id));
      if (bad >= 0) throw invalidArgument([{ field: `ids[${bad}]`, ruleId: "ids.notification", message: `"${req.ids[bad]}" is not a notification id from ListNotifications` }]);
      await db.query(db.em(), `UPDATE ${SCHEMA}.fires SET read_at = now() WHERE user_id = $1 AND read_at IS NULL AND ($2 OR id = ANY($3::bigint[]))`, [userId, req.all, req.ids]);
      return { unreadCount: await unreadCount(db, userId) };
    },
  };
}
