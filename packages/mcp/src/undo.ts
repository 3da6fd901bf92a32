// An activity entry's undo is a ready-made TaskService request: sending it is the same for every
// client (the MCP undo tool, `taskmesh undo`).
import type { Client } from "@connectrpc/connect";
import type { ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";

/** Sends the entry's undo: the task afterwards (none when the undo deleted it); false when the entry cannot be undone. */
export async function sendUndo(tasks: Client<typeof TaskService>, entry: ActivityEntry): Promise<{ task?: Task } | false> {
  const undo = entry.undo?.request;
  switch (undo?.case) {
    case "updateTask":
      return { task: (await tasks.updateTask(undo.value)).task };
    case "reopenTask":
      return { task: (await tasks.reopenTask(undo.value)).task };
    case "completeTask":
      return { task: (await tasks.completeTask(undo.value)).task };
    case "createTask":
      return { task: (await tasks.createTask(undo.value)).task };
    case "restoreTask":
      return { task: (await tasks.restoreTask(undo.value)).task };
    case "deleteTask":
      await tasks.deleteTask(undo.value);
      return {};
    default:
      return false;
  }
}
