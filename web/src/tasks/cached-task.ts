// A task as the lists and editors already read it, from the query cache: no request.
import { createConnectQueryKey } from "@connectrpc/connect-query";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { QueryClient } from "@tanstack/react-query";

/** The newest copy of the task among the cached ListTasks pages and GetTask answers, if any holds it. */
export function cachedTask(queryClient: QueryClient, id: string): Task | undefined {
  let newest: Task | undefined;
  for (const [, data] of queryClient.getQueriesData<{ pages?: { tasks: Task[] }[]; task?: Task }>({ queryKey: createConnectQueryKey({ schema: TaskService, cardinality: undefined }) })) {
    const tasks = data?.pages?.flatMap((p) => p.tasks) ?? (data?.task ? [data.task] : []);
    const found = tasks.find((t) => t.id === id);
    if (found && (!newest || found.version > newest.version)) newest = found;
  }
  return newest;
}
