// The notification inbox kept by the server: fired reminders with their read state, the same on
// every device. Live sync refreshes it when a reminder fires or a device reads, snoozes or dismisses
// one (and after a reconnect, which replays none of that), as does a push or the tab regaining
// focus; snooze and dismiss answer a reminder and mark it read.
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { ReminderService, type Notification } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { remindersClient } from "../api/clients.js";

export const SNOOZE_MINUTES = 10;

export type ReminderRef = Pick<Notification, "taskId" | "reminderId">;

export function useInbox() {
  const queryClient = useQueryClient();
  const inbox = useQuery(ReminderService.method.listNotifications, { pageSize: 30 }, { refetchOnWindowFocus: true });
  return useMemo(() => {
    const queryKey = createConnectQueryKey({ schema: ReminderService.method.listNotifications, cardinality: undefined });
    // A read still in flight may have started before the change it should show: it is cancelled and
    // read again (React Query would hand back that older read while the list has no data yet, as
    // when a tab opened from a notification dismisses the reminder before its first list arrived).
    const refresh = async () => {
      await queryClient.cancelQueries({ queryKey });
      await queryClient.invalidateQueries({ queryKey });
    };
    const then = async (call: Promise<unknown>) => {
      try {
        await call;
      } finally {
        await refresh();
      }
    };
    return {
      notifications: inbox.data?.notifications ?? [],
      unread: inbox.data?.unreadCount ?? 0,
      refresh,
      markAllRead: () => then(remindersClient.markNotificationsRead({ all: true })),
      snooze: (r: ReminderRef) => then(remindersClient.snoozeReminder({ taskId: r.taskId, reminderId: r.reminderId, until: { case: "duration", value: { seconds: BigInt(SNOOZE_MINUTES * 60) } } })),
      dismiss: (r: ReminderRef) => then(remindersClient.dismissReminder({ taskId: r.taskId, reminderId: r.reminderId })),
    };
  }, [inbox.data, queryClient]);
}

export type Inbox = ReturnType<typeof useInbox>;
