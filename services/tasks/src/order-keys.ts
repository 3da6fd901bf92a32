import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";
import type { Sql } from "./task-store.js";

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

/** A statement of tasks.tasks: its text and its parameters. */
interface Statement {
  text: string;
  params: unknown[];
}

// tasks_order's columns after user_id: siblings share these two values, and order_key orders them.
const GROUP = "coalesce(parent_id, project_id)";
const SECTION = "(CASE WHEN parent_id IS NULL THEN section_id END)";

/**
 * "Is among these siblings" of tasks.tasks in tasks_order's own expressions, its parameters numbered
 * from `first`: one range of that index (`IS NOT DISTINCT FROM` matches none), a null value tested
 * with IS NULL. The expressions group tasks as sameSiblings does unless a project has a task's id
 * (random UUIDs; the index and the keys' migration group them so too). No test of parent_id
 * besides: given `parent_id IS NOT NULL`, the planner may read every subtask from tasks_by_parent
 * and sort them.
 */
function siblingsSql(s: Siblings, first: number): Statement {
  const params: unknown[] = [];
  const is = (expr: string, value: string | null) => (value === null ? `${expr} IS NULL` : `${expr} = $${first + params.push(value) - 1}::uuid`);
  const text = s.parentId ? `${is(GROUP, s.parentId)} AND ${is(SECTION, null)}` : `${is(GROUP, s.projectId)} AND ${is(SECTION, s.sectionId)}`;
  return { text, params };
}

/**
 * Siblings by order key, in tasks_order's order. Its columns come first: one tested with IS NULL is
 * no constant to the planner, so that `ORDER BY order_key` alone does not follow the index (the
 * planner walks tasks_by_manual through the user's tasks instead, or sorts).
 */
const inKeyOrder = (direction: "ASC" | "DESC") => `${GROUP} ${direction}, ${SECTION} ${direction}, order_key ${direction}`;

/** The last order key among `siblings` of the owner's tasks (none: no row). */
function lastKeyStatement(owner: string, siblings: Siblings): Statement {
  const where = siblingsSql(siblings, 2);
  return {
    text: `SELECT order_key AS last FROM tasks.tasks WHERE user_id = $1 AND ${where.text} ORDER BY ${inKeyOrder("DESC")} LIMIT 1`,
    params: [owner, ...where.params],
  };
}

/** The order key next to `key` on `side` among the siblings of `moving` other than itself (none: no row). */
function neighbourKeyStatement(owner: string, moving: Siblings & { id: string }, key: string, side: "before" | "after"): Statement {
  const where = siblingsSql(moving, 4);
  return {
    text: `SELECT order_key AS "orderKey" FROM tasks.tasks
      WHERE user_id = $1 AND id <> $2 AND order_key ${side === "before" ? "<" : ">"} $3 AND ${where.text}
      ORDER BY ${inKeyOrder(side === "before" ? "DESC" : "ASC")} LIMIT 1`,
    params: [owner, moving.id, key, ...where.params],
  };
}

/** Whether no sibling has `key`. */
export async function keyIsFree(read: Sql, owner: string, siblings: Siblings, key: string): Promise<boolean> {
  const where = siblingsSql(siblings, 3);
  const taken = await read(`SELECT 1 FROM tasks.tasks WHERE user_id = $1 AND order_key = $2 AND ${where.text} LIMIT 1`, [owner, key, ...where.params]);
  return taken.length === 0;
}

/** `n` keys after every sibling's, in order. */
export async function keysAtEnd(read: Sql, owner: string, siblings: Siblings, n: number): Promise<string[]> {
  const { text, params } = lastKeyStatement(owner, siblings);
  const [row] = await read<{ last: string }>(text, params);
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
  const { text, params } = neighbourKeyStatement(owner, moving, anchor.orderKey, side);
  const [neighbour] = await read<{ orderKey: string }>(text, params);
  return side === "before" ? generateKeyBetween(neighbour?.orderKey ?? null, anchor.orderKey) : generateKeyBetween(anchor.orderKey, neighbour?.orderKey ?? null);
}
