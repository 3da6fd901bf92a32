import { createConnectQueryKey } from "@connectrpc/connect-query";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { currentSession, onSessionChange, refreshSession } from "../api/auth-client.js";
import { useNotifications } from "../notifications/notifications.js";
import { LiveConnection, liveUrl, type LiveStatus } from "./live-connection.js";

/**
 * Keeps the task queries current with changes from other devices and turns fired reminders into
 * notifications. Returns the connection state for the header's indicator.
 */
export function useLiveSync(openTask: (taskId: string) => void): LiveStatus {
  const queryClient = useQueryClient();
  const { addReminder, toast } = useNotifications();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const notify = useRef({ addReminder, toast, openTask });
  notify.current = { addReminder, toast, openTask };

  useEffect(() => {
    // Bursts of changes (a bulk edit, a replay after reconnect) refetch once.
    let pending: ReturnType<typeof setTimeout> | undefined;
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
          queryClient.setQueryData(createConnectQueryKey({ schema: TaskService.method.getTask, input: { id: task.id }, cardinality: "finite" }), (old) =>
            old ? { ...old, task } : old,
          );
          refetchTasks();
        },
        deleted: refetchTasks,
        refetch: refetchTasks,
        reminder: (r) => {
          notify.current.addReminder({ id: `${r.reminderId}@${r.scheduledFor}`, taskId: r.taskId, title: r.title, firedAt: new Date(r.firedAt) });
          notify.current.toast({ text: `Reminder: ${r.title}`, tone: "reminder", action: { label: "Open", run: () => notify.current.openTask(r.taskId) } }, 12_000);
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
      }
    });
    return () => {
      unsubscribe();
      clearTimeout(pending);
      connection.stop();
    };
  }, [queryClient]);
  return status;
}
