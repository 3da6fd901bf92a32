// The notification inbox (every fired reminder of a user, read or unread, the same on each device)
// and the browsers' push subscriptions that receive them.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { currentTraceparent, invalidArgument, pageSizeOf, requireUser } from "@taskmesh/kit";
import { NotificationSchema, ReminderState, type ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import type { VapidKeys } from "./push.js";
import { reminderEventRecord } from "./reminder-events.js";
import type { ReminderStore } from "./reminder-store.js";
import { WebhookTargetRefused, type WebhookTargetPolicy } from "./webhook-target.js";

type InboxMethods = "getPushConfig" | "addPushSubscription" | "removePushSubscription" | "listNotifications" | "markNotificationsRead";

export function inboxHandlers(store: ReminderStore, targets: WebhookTargetPolicy, vapid: VapidKeys | undefined): Pick<ServiceImpl<typeof ReminderService>, InboxMethods> {
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
      await store.savePushSubscription({ userId, endpoint: req.endpoint, p256dh: req.p256dh, auth: req.auth });
      return {};
    },

    async removePushSubscription(req, ctx) {
      const userId = requireUser(ctx);
      await store.removePushSubscription(userId, req.endpoint);
      return {};
    },

    async listNotifications(req, ctx) {
      const userId = requireUser(ctx);
      const rows = await store.latestFires(userId, pageSizeOf(req.pageSize, { default: 30, max: 100 }));
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
        unreadCount: await store.unreadCount(userId),
      };
    },

    async markNotificationsRead(req, ctx) {
      const userId = requireUser(ctx);
      const bad = req.ids.findIndex((id) => !/^[1-9][0-9]{0,17}$/.test(id));
      if (bad >= 0) throw invalidArgument([{ field: `ids[${bad}]`, ruleId: "ids.notification", message: `"${req.ids[bad]}" is not a notification id from ListNotifications` }]);
      const traceparent = currentTraceparent(ctx.requestHeader);
      // An event per notification read: the user's other devices clear it (live sync).
      await store.markRead(userId, req.all, req.ids, (fires) =>
        fires.map((f) =>
          reminderEventRecord({ userId: f.owner_id, recipientId: userId, taskId: f.task_id, reminderId: f.reminder_id, traceparent }, { case: "read", value: { notificationId: f.id } }, new Date()),
        ),
      );
      return { unreadCount: await store.unreadCount(userId) };
    },
  };
}
