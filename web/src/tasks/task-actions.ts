// Complete, reopen and delete, each with an Undo in its toast; moving in the manual order; an update made by a view (a drag).
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey } from "@connectrpc/connect-query";
import { TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { OpenSubtasksSchema, TaskService, type MoveTaskRequest, type UpdateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { tasksClient } from "../api/clients.js";
import { useNotifications } from "../notifications/notifications.js";
import { isQueuedOffline, OFFLINE_NOTE } from "../offline/offline-queue.js";

/** What an update made by a view says, and the request that puts the updated task back as it was. */
export interface Said {
  text: string;
  undo(updated: Task): UpdateTaskRequest | undefined;
}

export function useTaskActions() {
  const queryClient = useQueryClient();
  const { toast } = useNotifications();
  return useMemo(() => {
    const refresh = () => queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService, cardinality: undefined }) });
    const run = async (what: () => Promise<unknown>) => {
      try {
        await what();
      } catch (err) {
        // A change queued offline is kept, not failed.
        toast(isQueuedOffline(err) ? { text: OFFLINE_NOTE } : { text: ConnectError.from(err).rawMessage, tone: "error" });
      } finally {
        await refresh();
      }
    };
    const complete = (task: Task) =>
      run(async () => {
        let subtasks: string[] = [];
        try {
          await tasksClient.completeTask({ id: task.id });
        } catch (err) {
          // The server counts the open subtasks (the list may not hold them all): ask about those.
          const open = openSubtasks(err);
          if (open === undefined) throw err;
          if (!confirm(`Complete ${open === 1 ? "1 open subtask" : `${open} open subtasks`} too?`)) return;
          subtasks = (await tasksClient.completeTask({ id: task.id, includeSubtasks: true })).completedSubtaskIds;
        }
        // Undo puts back what this completion changed: the subtasks it completed too.
        const undo = async () => {
          await tasksClient.reopenTask({ id: task.id });
          for (const id of subtasks) await tasksClient.reopenTask({ id });
        };
        toast({
          text: task.recurrence ? `Completed “${task.title}” — the next one is on its way` : `Completed “${task.title}”`,
          actions: [{ label: "Undo", run: () => void run(undo) }],
        });
      });
    const reopen = (task: Task) => run(() => tasksClient.reopenTask({ id: task.id }));
    const toggle = (task: Task) => (task.status === TaskStatus.COMPLETED ? reopen(task) : complete(task));
    const remove = (task: Task) =>
      run(async () => {
        await tasksClient.deleteTask({ id: task.id });
        toast({
          text: `Deleted “${task.title}”`,
          // Back under its id, with its comments, where it was.
          actions: [{ label: "Undo", run: () => void run(() => tasksClient.restoreTask({ id: task.id })) }],
        });
      });
    const move = (task: Task, place: MoveTaskRequest["place"]) => run(() => tasksClient.moveTask({ id: task.id, place }));
    const update = (request: UpdateTaskRequest, said: Said) =>
      run(async () => {
        const { task } = await tasksClient.updateTask(request);
        const back = task && said.undo(task);
        toast({ text: said.text, ...(back ? { actions: [{ label: "Undo", run: () => void run(() => tasksClient.updateTask(back)) }] } : {}) });
      });
    return { complete, reopen, toggle, remove, move, update, refresh };
  }, [queryClient, toast]);
}

/** How many open subtasks kept CompleteTask from completing a task; undefined for any other error. */
function openSubtasks(err: unknown): number | undefined {
  const e = ConnectError.from(err);
  return e.code === Code.FailedPrecondition ? e.findDetails(OpenSubtasksSchema)[0]?.openCount : undefined;
}
