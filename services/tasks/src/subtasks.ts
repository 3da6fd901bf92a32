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
  return lockDescendants(read, userId, [id], "parent_id");
}

/**
 * The tasks `ids` and every subtask of them at any depth, locked for this write in one statement
 * (a CompleteTask needs both, and a batch of them needs them all: one round trip instead of two
 * per task), in id order. See treeOf.
 */
export function lockTrees(read: Sql, userId: string, ids: readonly string[]): Promise<TaskRow[]> {
  return lockDescendants(read, userId, ids, "id");
}

/** The task `id` and its subtasks at any depth among `rows` (locked by lockTrees), in id order; undefined when it is not there. */
export function treeOf(rows: Iterable<TaskRow>, id: string): { task: TaskRow; subtree: TaskRow[] } | undefined {
  const all = [...rows];
  const task = all.find((row) => row.id === id);
  if (!task) return undefined;
  const children = new Map<string, TaskRow[]>();
  for (const row of all) if (row.parentId) children.set(row.parentId, [...(children.get(row.parentId) ?? []), row]);
  const under = new Set<string>();
  const walk = (parent: string) => {
    for (const child of children.get(parent) ?? []) {
      // The set also ends the walk on rows that form a loop.
      if (!under.has(child.id) && child.id !== id) {
        under.add(child.id);
        walk(child.id);
      }
    }
  };
  walk(id);
  return { task, subtree: all.filter((row) => under.has(row.id)) };
}

/** The tasks `from` names (one of $2 in that column), their subtasks at any depth, locked, in id order. */
function lockDescendants(read: Sql, userId: string, ids: readonly string[], from: "id" | "parent_id"): Promise<TaskRow[]> {
  return read<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks.tasks
      WHERE user_id = $1 AND id IN (
        WITH RECURSIVE down(id) AS (
          SELECT id FROM tasks.tasks WHERE user_id = $1 AND ${from} = ANY($2::uuid[])
          UNION SELECT t.id FROM tasks.tasks t JOIN down ON t.parent_id = down.id WHERE t.user_id = $1
        ) SELECT id FROM down)
      ORDER BY id FOR UPDATE`,
    [userId, ids],
  );
}

/** The task's direct subtasks in their order, locked for this write. */
export function lockChildren(read: Sql, userId: string, id: string): Promise<TaskRow[]> {
  return read<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND parent_id = $2 ORDER BY order_key FOR UPDATE`, [userId, id]);
}
