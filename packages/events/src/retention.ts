import type { Database } from "@taskmesh/db";
import type { Logger } from "@taskmesh/kit";

export const DAY_MS = 86_400_000;

/** One kind of row kept for a time, then deleted oldest first in batches. */
export interface Pruned {
  /** What it is, for the log ("task_changes", "events.log"…). */
  what: string;
  retentionMs: number;
  /** Deletes up to `limit` rows older than `cutoff`; resolves with how many it deleted. */
  prune(cutoff: Date, limit: number): Promise<number>;
}

export interface RetentionOptions {
  /** Time between runs (default 1 h; TASKMESH_PRUNE_INTERVAL_SECONDS); the first runs at start. */
  intervalMs?: number;
  /** Rows deleted per statement (default 1,000), so no run holds locks or memory for long. */
  batchSize?: number;
  now?: () => Date;
  logger: Logger;
}

/** Prunes each of `tables` past its retention, periodically; several replicas may run it at once. */
export class RetentionJob {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly tables: readonly Pruned[],
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    const run = () => {
      // A run still going when the next is due (a large backlog) simply continues.
      this.#running ??= this.runOnce()
        .catch((err: unknown) => this.options.logger.warn({ err }, "pruning past retention failed; will retry"))
        .finally(() => (this.#running = undefined));
    };
    run();
    this.#timer = setInterval(run, this.options.intervalMs ?? 3_600_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One run: every table down to its retention. Resolves with the rows deleted per table. */
  async runOnce(): Promise<Record<string, number>> {
    const batch = this.options.batchSize ?? 1_000;
    const now = (this.options.now ?? (() => new Date()))();
    const deleted: Record<string, number> = {};
    for (const table of this.tables) {
      const cutoff = new Date(now.getTime() - table.retentionMs);
      let total = 0;
      for (let n = batch; n === batch; total += n) n = await table.prune(cutoff, batch);
      deleted[table.what] = total;
      if (total > 0) this.options.logger.info({ table: table.what, deleted: total, cutoff }, "pruned rows past retention");
    }
    return deleted;
  }
}

/**
 * `<schema>.processed_events` past retention. Safe once the bus can no longer redeliver an event
 * that old: Kafka keeps a topic 7 days by default and the embedded log prunes at its own retention,
 * so the default here (14 days) outlives both.
 */
export function processedEventsPruned(db: Database, schema: string, retentionMs: number): Pruned {
  const table = `"${schema.replaceAll('"', '""')}".processed_events`;
  return prunedByStatement(
    db,
    `${schema}.processed_events`,
    retentionMs,
    `WITH gone AS (DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE processed_at < $1 LIMIT $2) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
  );
}

/**
 * Rows past retention deleted by one statement: `$1` is the cutoff, `$2` the most rows to delete,
 * and it answers how many it deleted as `n`.
 */
export function prunedByStatement(db: Database, what: string, retentionMs: number, sql: string): Pruned {
  return {
    what,
    retentionMs,
    async prune(cutoff, limit) {
      const [row] = await db.query<{ n: number }>(db.em(), sql, [cutoff, limit]);
      return row!.n;
    },
  };
}

/**
 * The embedded event log past retention (default 7 days, as Kafka keeps a topic), never beyond what
 * a consumer group has consumed: a group stopped cleanly, or whose lease was held within the
 * retention, holds its topic's pruning back at its position. A group that crashed longer ago than
 * that resumes at the oldest event left, as a Kafka consumer does.
 */
export function eventLogPruned(db: Database, retentionMs: number): Pruned {
  return {
    what: "events.log",
    retentionMs,
    async prune(cutoff, limit) {
      const topics = await db.query<{ topic: string; below: string }>(
        db.em(),
        `SELECT t.topic, coalesce((SELECT min(g.next_offset) FROM events.group_offsets g WHERE g.topic = t.topic AND (g.lease_until IS NULL OR g.lease_until > $1)), t.next_offset)::text AS below
           FROM events.topics t`,
        [cutoff],
      );
      let most = 0;
      for (const { topic, below } of topics) {
        // Offsets follow append order: the oldest rows are the lowest offsets, read through the key.
        const [row] = await db.query<{ n: number }>(
          db.em(),
          `WITH oldest AS (SELECT "offset" FROM events.log WHERE topic = $1 AND "offset" < $2 ORDER BY "offset" LIMIT $4),
                gone AS (DELETE FROM events.log l USING oldest o WHERE l.topic = $1 AND l."offset" = o."offset" AND l.appended_at < $3 RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [topic, below, cutoff, limit],
        );
        most = Math.max(most, row!.n);
      }
      return most;
    },
  };
}
