import type { Database } from "@taskmesh/db";
import { type Pruned, prunedByStatement } from "@taskmesh/events";

/** How long WatchTasks can resume from a cursor, and a deleted task be restored (default 30 days; TASKMESH_FEED_RETENTION_DAYS). */
export const DEFAULT_FEED_RETENTION_DAYS = 30;

/**
 * The change feed (`task_changes`) past retention, oldest first. The horizon moves in the same
 * statement, so a cursor from before it is answered resyncRequired (the client refetches its lists)
 * and never reads a feed with a hole in it.
 */
export function feedPruned(db: Database, retentionMs: number): Pruned {
  return prunedByStatement(
    db,
    "tasks.task_changes",
    retentionMs,
    `WITH oldest AS (SELECT seq FROM tasks.task_changes ORDER BY seq LIMIT $2),
          gone AS (DELETE FROM tasks.task_changes c USING oldest o WHERE c.seq = o.seq AND c.created_at < $1 RETURNING c.seq),
          horizon AS (UPDATE tasks.change_horizon SET pruned_through = greatest(pruned_through, (SELECT max(seq) FROM gone)) WHERE EXISTS (SELECT 1 FROM gone) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
  );
}

/** Deleted tasks kept for RestoreTask past retention, oldest first. */
export function deletedTasksPruned(db: Database, retentionMs: number): Pruned {
  return prunedByStatement(
    db,
    "tasks.deleted_tasks",
    retentionMs,
    `WITH oldest AS (SELECT id FROM tasks.deleted_tasks WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2),
          gone AS (DELETE FROM tasks.deleted_tasks d USING oldest o WHERE d.id = o.id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
  );
}
