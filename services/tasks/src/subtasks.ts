import { invalidArgument } from "@taskmesh/kit";
import type { EntityManager } from "@taskmesh/db";
import type { ProjectStore } from "./project-store.js";
import { roleOnTask } from "./project-access.js";
import { TASK_COLUMNS, type TaskRow } from "./task-row.js";
import type { Sql } from "./task-store.js";

/**
 * The task to become the parent of `taskId` (null: a task being created), for a caller who may see
 * it: INVALID_ARGUMENT on `field` when it is missing, hidden from the caller (the same answer, so a
 * guessed id tells nothing), or the task itself or one of its subtasks (a cycle).
 */
export async function parentFor(projects: ProjectStore, caller: string, parentId: string, taskId: string | null, field: string, read: Sql, em?: EntityManager): Promise<TaskRow> {
  const [parent] = await read<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE id = $1`, [parentId]);
  if (!parent || !(await roleOnTask(projects, caller, parent, em))) {
    throw invalidArgument([{ field, ruleId: "parent_id.exists", message: `task ${parentId} not found` }]);
  }
  if (taskId) {
    // UNION (not UNION ALL) ends the walk even on rows that already form a loop.
    const [above] = await read<{ n: number }>(
      `WITH RECURSIVE up(id, parent_id) AS (
         SELECT id, parent_id FROM tasks.tasks WHERE id = $1
         UNION SELECT t.id, t.parent_id FROM tasks.tasks t JOIN up ON t.id = up.parent_id
       ) SELECT count(*)::int AS n FROM up WHERE id = $2`,
      [parentId, taskId],
    );
    if (above!.n > 0) {
      throw invalidArgument([{ field, ruleId: "parent_id.no_cycle", message: `task ${parentId} is this task or one of its subtasks: a task cannot be under itself` }]);
    }
  }
  return parent;
}

/** INVALID_ARGUMENT unless the parent is in `projectId`: a subtask sits in its parent's project. */
export function requireSameProject(parent: TaskRow, projectId: string, field: string): void {
  if (parent.projectId !== projectId) {
    throw invalidArgument([{ field, ruleId: "parent_id.same_project", message: `task ${parent.id} is in another project than ${projectId}: a subtask is in its parent's project` }]);
  }
}

/** Every subtask of the task at any depth, locked for this write, in a stable order. */
export function lockSubtree(read: Sql, userId: string, id: string): Promise<TaskRow[]> {
  return lockDescendants(read, userId, id, "parent_id");
}

/**
 * The task and every subtask of it at any depth, locked for this write in one statement (a
 * CompleteTask needs both: one round trip instead of two); undefined when the user has no such task.
 */
export async function lockTree(read: Sql, userId: string, id: string): Promise<{ task: TaskRow; subtree: TaskRow[] } | undefined> {
  const rows = await lockDescendants(read, userId, id, "id");
  const task = rows.find((row) => row.id === id);
  return task && { task, subtree: rows.filter((row) => row !== task) };
}

/** The tasks `from` names ($2 in that column), their subtasks at any depth, locked, in id order. */
function lockDescendants(read: Sql, userId: string, id: string, from: "id" | "parent_id"): Promise<TaskRow[]> {
  return read<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks.tasks
      WHERE user_id = $1 AND id IN (
        WITH RECURSIVE down(id) AS (
          SELECT id FROM tasks.tasks WHERE user_id = $1 AND ${from} = $2
          UNION SELECT t.id FROM tasks.tasks t JOIN down ON t.parent_id = down.id WHERE t.user_id = $1
        ) SELECT id FROM down)
      ORDER BY id FOR UPDATE`,
    [userId, id],
  );
}

/** The task's direct subtasks in their order, locked for this write. */
export function lockChildren(read: Sql, userId: string, id: string): Promise<TaskRow[]> {
  return read<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND parent_id = $2 ORDER BY order_key FOR UPDATE`, [userId, id]);
}
