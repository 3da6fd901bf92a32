// Filter queries the user kept, stored by the task service: every device lists the same ones
// (refetched when the window regains focus and every minute). Ones an earlier version kept in this
// browser's localStorage are moved to the server once.
import { ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { tasksClient } from "../api/clients.js";
import { useNotifications } from "../notifications/notifications.js";

const LEGACY_KEY = "taskmesh.savedFilters";

function legacy(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(LEGACY_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

export function useSavedFilters() {
  const queryClient = useQueryClient();
  const { toast } = useNotifications();
  const list = useQuery(TaskService.method.listSavedFilters, {}, { refetchOnWindowFocus: true, refetchInterval: 60_000 });
  const filters = list.data?.filters ?? [];
  const refresh = () => queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService.method.listSavedFilters, cardinality: undefined }) });

  // biome-ignore lint/correctness/useExhaustiveDependencies: once, after the first answer; refresh is a new function on every render
  useEffect(() => {
    const local = legacy();
    if (!list.isSuccess || local.length === 0) return;
    void Promise.allSettled(local.map((query) => tasksClient.saveFilter({ query }))).then(() => {
      localStorage.removeItem(LEGACY_KEY);
      return refresh();
    });
  }, [list.isSuccess]);

  const send = (call: Promise<unknown>) => void call.catch((err: unknown) => toast({ text: ConnectError.from(err).rawMessage, tone: "error" })).finally(() => void refresh());
  return {
    saved: filters.map((f) => f.query),
    save: (query: string) => send(tasksClient.saveFilter({ query })),
    remove: (query: string) => {
      const filter = filters.find((f) => f.query === query);
      if (filter) send(tasksClient.deleteSavedFilter({ id: filter.id }));
    },
  };
}
