import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";
import type { Sql } from "./project-store.js";

/**
 * Manual order. Siblings are the subtasks of one parent, or, without a parent, the top-level tasks
 * of one project and section; each has an order key unique among them (index tasks_order). Keys
 * are only made inside a write holding the owner's write lock (TaskStore.writeMany, createMany),
 * which every change of the owner's tasks takes: two moves or creates among the same siblings take
 * turns, and the second sees the key the first made.
 */
export interface Siblings {
  projectId: string | null;
  sectionId: string | null;
  parentId: string | null;
}

export function sameSiblings(a: Siblings, b: Siblings): boolean {
  if (a.parentId || b.parentId) return a.parentId === b.parentId;
  return a.projectId === b.projectId && a.sectionId === b.sectionId;
}

/** SQL for "is among these siblings" of tasks.tasks, its parameters numbered from `first`. */
function siblingsSql(s: Siblings, first: number): { sql: string; params: unknown[] } {
  if (s.parentId) return { sql: `parent_id = $${first}`, params: [s.parentId] };
  return {
    sql: `parent_id IS NULL AND project_id IS NOT DISTINCT FROM $${first}::uuid AND section_id IS NOT DISTINCT FROM $${first + 1}::uuid`,
    params: [s.projectId, s.sectionId],
  };
}

/** `n` keys after every sibling's, in order. */
export async function keysAtEnd(read: Sql, owner: string, siblings: Siblings, n: number): Promise<string[]> {
  const where = siblingsSql(siblings, 2);
  const [row] = await read<{ last: string | null }>(`SELECT max(order_key) AS last FROM tasks.tasks WHERE user_id = $1 AND ${where.sql}`, [owner, ...where.params]);
  return generateNKeysBetween(row?.last ?? null, null, n);
}

/**
 * The key that puts `moving` right before or after the sibling `anchorId`, between the anchor's key
 * and its neighbour's on that side; undefined when the anchor is not a sibling of `moving` in
 * the owner's tasks (or not there).
 */
export async function keyNextTo(read: Sql, owner: string, moving: Siblings & { id: string }, anchorId: string, side: "before" | "after"): Promise<string | undefined> {
  const [anchor] = await read<Siblings & { orderKey: string }>(
    `SELECT order_key AS "orderKey", project_id AS "projectId", section_id AS "sectionId", parent_id AS "parentId" FROM tasks.tasks WHERE user_id = $1 AND id = $2`,
    [owner, anchorId],
  );
  if (!anchor || anchorId === moving.id || !sameSiblings(anchor, moving)) return undefined;
  const where = siblingsSql(moving, 4);
  const [neighbour] = await read<{ orderKey: string }>(
    `SELECT order_key AS "orderKey" FROM tasks.tasks
      WHERE user_id = $1 AND id <> $2 AND order_key ${side === "before" ? "<" : ">"} $3 AND ${where.sql}
      ORDER BY order_key ${side === "before" ? "DESC" : "ASC"} LIMIT 1`,
    [owner, moving.id, anchor.orderKey, ...where.params],
  );
  return side === "before" ? generateKeyBetween(neighbour?.orderKey ?? null, anchor.orderKey) : generateKeyBetween(anchor.orderKey, neighbour?.orderKey ?? null);
}
