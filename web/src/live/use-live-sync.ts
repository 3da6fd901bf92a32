import { createConnectQueryKey } from "@connectrpc/connect-query";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { currentSession, onSessionChange, refreshSession } from "../api/auth-client.js";
import { SNOOZE_MINUTES, useInbox } from "../notifications/inbox.js";
import { useNotifications } from "../notifications/notifications.js";
import { LiveConnection, liveUrl, type LiveStatus } from "./live-connection.js";

/**
 * Keeps the task queries current with changes from other devices and turns fired reminders into
 * toasts (Open, Snooze, Dismiss) and a fresh inbox. Returns the connection state for the header's indicator.
 */
export function useLiveSync(openTask: (taskId: string) => void): LiveStatus {
  const queryClient = useQueryClient();
  const { toast } = useNotifications();
  const inbox = useInbox();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const notify = useRef({ inbox, toast, openTask });
  notify.current = { inbox, toast, openTask };

  useEffect(() => {
    // Bursts of changes (a bulk edit, a replay after reconnect) refetch once.
    let pending: ReturnType<typeof setTimeout> | undefined;
    let inboxPending: ReturnType<typeof setTimeout> | undefined;
    const refetchTasks = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService, cardinality: undefined }) }), 50);
    };
    const connection = new LiveConnection({
      url: liveUrl(location.origin),
      token: () => currentSession()?.accessToken,
      renew: async () => (await refreshSession()) !== undefined,
      handlers: {
        task: (task) => {
          queryClient.setQueryData(createConnectQueryKey({ schema: TaskService.method.getTask, input: { id: task.id }, cardinality: "finite" }), (old) => (old ? { ...old, task } : old));
          refetchTasks();
        },
        deleted: refetchTasks,
        refetch: refetchTasks,
        reminder: (r) => {
          const { inbox, toast, openTask } = notify.current;
          void inbox.refresh();
          toast(
            {
              text: `Reminder: ${r.title}`,
              tone: "reminder",
              actions: [
                { label: "Open", run: () => openTask(r.taskId) },
                { label: `Snooze ${SNOOZE_MINUTES} min`, run: () => void notify.current.inbox.snooze(r) },
                { label: "Dismiss", run: () => void notify.current.inbox.dismiss(r) },
              ],
            },
            12_000,
          );
        },
        inbox: () => {
          clearTimeout(inboxPending);
          inboxPending = setTimeout(() => void notify.current.inbox.refresh(), 50);
        },
        status: setStatus,
      },
    });
    connection.start();
    // A new token (sign-in, refresh) is needed for the next hello only; a new user needs a new socket.
    let user = currentSession()?.user?.id;
    const unsubscribe = onSessionChange((session) => {
      if (session?.user?.id !== user) {
        user = session?.user?.id;
        connection.restart();
      } else if (session?.accessToken) {
        // Opened offline, the page had no token to say hello with.
        connection.reconnectNow();
      }
    });
    // The browser knows first when the network goes or comes back.
    const lost = () => connection.networkLost();
    const back = () => connection.reconnectNow();
    window.addEventListener("offline", lost);
    window.addEventListener("online", back);
    return () => {
      unsubscribe();
      window.removeEventListener("offline", lost);
      window.removeEventListener("online", back);
      clearTimeout(pending);
      clearTimeout(inboxPending);
      connection.stop();
    };
  }, [queryClient]);
  return status;
}
