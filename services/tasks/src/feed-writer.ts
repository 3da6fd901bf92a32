import { toJson } from "@bufbuild/protobuf";
import type { Database, EntityManager } from "@taskmesh/db";
import { TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { taskUpdateRecord, type OutboxRecord } from "./task-events.js";

export const CHANGES_CHANNEL = "tasks_changed";

/**
 * A change of one task for the change feed, and who receives it: every member of `project` (the
 * task's owner alone when null), less the members of `except` (a moved task is deleted only from
 * the feeds of those who lose it), or exactly `user` (a member who lost a project).
 */
export interface FeedChange {
  /** The task's user_id before the change. */
  owner: string;
  taskId: string;
  /** The new state; undefined: deleted from the recipients' view. */
  task: Task | undefined;
  at: Date;
  to: { project: string | null; except?: string | null } | { user: string };
}

/**
 * Takes the feed locks (see task_changes) of the owners given and of every member of their
 * projects, in one order for all transactions (C collation, the order of JS's default sort on these
 * ASCII ids), so that two writers never wait for each other in a cycle. Returns who is locked.
 */
export async function lockAudience(db: Database, em: EntityManager, owners: readonly string[]): Promise<Set<string>> {
  const [row] = await db.query<{ users: string[] }>(
    em,
    `SELECT array_agg(u) AS users, count(pg_advisory_xact_lock(hashtext(u))) AS n
       FROM (SELECT u FROM (SELECT unnest($1::text[]) AS u
                            UNION SELECT m.user_id FROM tasks.project_members m JOIN tasks.projects p ON p.id = m.project_id
                                   WHERE p.owner_id = ANY($1::text[])) AS audience
              ORDER BY u COLLATE "C") AS sorted`,
    [owners],
  );
  return new Set(row!.users);
}

/**
 * Writes the feed rows of `changes` for each of their recipients, in order, and returns the
 * TaskUpdate records (live sync) for the outbox, in the same order. Members who joined after
 * `locked` was taken are locked now.
 */
export async function writeFeed(db: Database, em: EntityManager, changes: readonly FeedChange[], locked: Set<string>): Promise<OutboxRecord[][]> {
  if (changes.length === 0) return [];
  const projects = new Set<string>();
  for (const c of changes) {
    if ("project" in c.to) {
      if (c.to.project) projects.add(c.to.project);
      if (c.to.except) projects.add(c.to.except);
    }
  }
  const members = new Map<string, string[]>();
  if (projects.size > 0) {
    const rows = await db.query<{ projectId: string; users: string[] }>(
      em,
      `SELECT project_id AS "projectId", array_agg(user_id ORDER BY user_id) AS users FROM tasks.project_members
        WHERE project_id = ANY($1::uuid[]) GROUP BY project_id`,
      [[...projects]],
    );
    for (const r of rows) members.set(r.projectId, r.users);
  }
  const recipients = changes.map((c) => {
    if ("user" in c.to) return [c.to.user];
    if (!c.to.project) return [c.owner];
    const except = new Set(c.to.except ? (members.get(c.to.except) ?? []) : []);
    return (members.get(c.to.project) ?? [c.owner]).filter((u) => !except.has(u));
  });
  const missing = [...new Set(recipients.flat())].filter((u) => !locked.has(u)).sort();
  if (missing.length > 0) {
    await db.query(em, `SELECT count(pg_advisory_xact_lock(hashtext(u))) FROM unnest($1::text[]) AS u`, [missing]);
    for (const u of missing) locked.add(u);
  }
  const rows = changes.flatMap((c, i) => recipients[i]!.map((user) => ({ user_id: user, task_id: c.taskId, snapshot: c.task ? toJson(TaskSchema, c.task) : null })));
  if (rows.length === 0) return changes.map(() => []);
  // Serial values follow the SELECT's order: each feed lists the batch's changes in call order.
  // Listeners of the change feed are woken at commit (PostgreSQL sends each user once).
  const inserted = await db.query<{ seq: string }>(
    em,
    `INSERT INTO tasks.task_changes (user_id, task_id, deleted, snapshot)
     SELECT r.user_id, r.task_id, r.snapshot IS NULL, r.snapshot
       FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (user_id text, task_id uuid, snapshot jsonb)) WITH ORDINALITY AS r(user_id, task_id, snapshot, ord)
      ORDER BY r.ord
     RETURNING seq::text AS seq, pg_notify($2, user_id)::text AS notified`,
    [JSON.stringify(rows), CHANGES_CHANNEL],
  );
  // RETURNING promises no order; the values were drawn in the rows' order.
  const seqs = inserted
    .map((r) => BigInt(r.seq))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(String);
  let next = 0;
  return changes.map((c, i) => recipients[i]!.map((user) => taskUpdateRecord(user, seqs[next++]!, c.task ? { task: c.task } : { deletedId: c.taskId }, c.at)));
}
