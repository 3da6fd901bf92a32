import { sqlMigration, type Database, type MigrationEntry } from "@taskmesh/db";
import { GroupCommit, type Logger } from "@taskmesh/kit";
import type { DueHandler, DueJob, Scheduler, SchedulerJob } from "./scheduler.js";

export interface PostgresSchedulerOptions {
  /** Schema holding `scheduler_jobs` (see schedulerJobsMigration). */
  schema: string;
  logger: Logger;
  /** How long a claim keeps other replicas off a job; after it, a crashed claimer's job is retaken
   *  (default 10 s: longer than a handler's transaction, short enough to be late by little). */
  leaseMs?: number;
  /** Handlers running at once in this replica. */
  concurrency?: number;
  /** Backoff after a failed handler, doubled per attempt up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Longest sleep without looking at the table, should a notification be lost. */
  recheckMs?: number;
}

/** Add to the owning service's migrations. */
export function schedulerJobsMigration(schema: string): MigrationEntry {
  // ready_at: when the job may be claimed next — its due time, then the end of the current
  // claim's lease or of the backoff after a failure. Never earlier than due_at.
  return sqlMigration(
    "Migration20261126000200_scheduler_jobs",
    [
      `CREATE TABLE ${schema}.scheduler_jobs (
        id text PRIMARY KEY,
        due_at timestamptz NOT NULL,
        ready_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX scheduler_jobs_ready ON ${schema}.scheduler_jobs (ready_at)`,
    ],
    [`DROP TABLE ${schema}.scheduler_jobs`],
  );
}

/**
 * The built-in durable scheduler. The next wake-up lives in memory as one timer (no polling
 * scan): it is set from the earliest ready_at in the table, moved earlier when this replica
 * schedules an earlier job and by NOTIFY when another one does, and on waking every ready job is
 * claimed. A claim is one statement (`FOR UPDATE SKIP LOCKED`, then ready_at pushed past a lease),
 * so replicas never take the same job at once; the job row is deleted only after its handler
 * resolved, so a crash mid-way leaves it to be retaken when the lease ends.
 */
export class PostgresScheduler implements Scheduler {
  readonly #channel: string;
  #onDue: DueHandler | undefined;
  #running = false;
  #pumping = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #wakeAt: number | undefined;
  #inFlight = new Set<Promise<void>>();
  #unlisten: (() => Promise<void>) | undefined;
  /** Jobs done are deleted together: a burst finishes in a few statements, not one per job. */
  readonly #done: GroupCommit<DueJob>;

  constructor(
    private readonly db: Database,
    private readonly options: PostgresSchedulerOptions,
  ) {
    this.#channel = `${options.schema}_scheduler`;
    this.#done = new GroupCommit(async (jobs) => {
      // Only these due times: a job moved while its handler ran keeps its new time.
      await this.db.query(
        this.db.em(),
        `DELETE FROM ${this.options.schema}.scheduler_jobs j USING unnest($1::text[], $2::timestamptz[]) AS d(id, due_at)
         WHERE j.id = d.id AND j.due_at = d.due_at`,
        [jobs.map((j) => j.id), jobs.map((j) => j.dueAt.toISOString())],
      );
    }, 1000);
  }

  async schedule(jobs: readonly SchedulerJob[]): Promise<void> {
    // One row per id (last wins): ON CONFLICT cannot touch a row twice in one statement.
    const byId = new Map(jobs.map((j) => [j.id, j.dueAt]));
    if (byId.size === 0) return;
    const earliest = Math.min(...[...byId.values()].map((d) => d.getTime()));
    await this.db.em().transactional(async (em) => {
      await this.db.query(
        em,
        `INSERT INTO ${this.options.schema}.scheduler_jobs (id, due_at, ready_at)
         SELECT id, due::timestamptz, due::timestamptz FROM unnest($1::text[], $2::text[]) AS t(id, due)
         ON CONFLICT (id) DO UPDATE SET due_at = EXCLUDED.due_at, ready_at = EXCLUDED.ready_at, attempts = 0
         WHERE scheduler_jobs.due_at IS DISTINCT FROM EXCLUDED.due_at`,
        [[...byId.keys()], [...byId.values()].map((d) => d.toISOString())],
      );
      await this.db.query(em, `SELECT pg_notify($1, $2)`, [this.#channel, String(earliest)]);
    });
    // The NOTIFY wakes the other replicas; this one does not wait for its own to come back, which a
    // LISTEN session lost without a word (until it is found out and re-opened) would never deliver.
    this.#wakeBy(earliest);
  }

  async cancel(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(this.db.em(), `DELETE FROM ${this.options.schema}.scheduler_jobs WHERE id = ANY($1::text[])`, [[...ids]]);
  }

  async start(onDue: DueHandler): Promise<void> {
    this.#onDue = onDue;
    this.#running = true;
    this.#unlisten = await this.db.listen(this.#channel, (payload) => {
      const at = payload === null ? NaN : Number(payload);
      if (Number.isFinite(at)) this.#wakeBy(at);
      else this.#pump(); // the listening session was re-opened: look at the table again
    });
    this.#pump();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#wakeAt = undefined;
    await this.#unlisten?.();
    while (this.#pumping || this.#inFlight.size > 0) await Promise.race([...this.#inFlight, new Promise((r) => setTimeout(r, 5))]);
  }

  /** Makes the timer go off at `at` at the latest. */
  #wakeBy(at: number): void {
    if (!this.#running || (this.#wakeAt !== undefined && this.#wakeAt <= at)) return;
    clearTimeout(this.#timer);
    this.#wakeAt = at;
    this.#timer = setTimeout(
      () => {
        this.#wakeAt = undefined;
        this.#pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Claims and starts every ready job the free handler slots allow, then sets the next wake-up. */
  #pump(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          await this.#claimAndRun();
          await this.#armNext();
        } while (this.#again && this.#running);
      } catch (err) {
        this.options.logger.warn({ err }, "scheduler could not read its jobs; retrying");
        this.#wakeBy(Date.now() + 1_000);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #claimAndRun(): Promise<void> {
    const concurrency = this.options.concurrency ?? 64;
    while (this.#running && this.#inFlight.size < concurrency) {
      const wanted = concurrency - this.#inFlight.size;
      const jobs = await this.#claim(wanted);
      for (const job of jobs) {
        const run = this.#run(job).finally(() => {
          this.#inFlight.delete(run);
          this.#pump();
        });
        this.#inFlight.add(run);
      }
      if (jobs.length < wanted) return;
    }
  }

  async #claim(limit: number): Promise<DueJob[]> {
    const now = Date.now();
    const rows = await this.db.query<{ id: string; due_at: Date | string; attempts: number }>(
      this.db.em(),
      `UPDATE ${this.options.schema}.scheduler_jobs j SET ready_at = $2::timestamptz, attempts = j.attempts + 1
       FROM (SELECT id FROM ${this.options.schema}.scheduler_jobs WHERE ready_at <= $1::timestamptz
             ORDER BY ready_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED) c
       WHERE j.id = c.id RETURNING j.id, j.due_at, j.attempts`,
      [new Date(now).toISOString(), new Date(now + (this.options.leaseMs ?? 10_000)).toISOString()],
    );
    return rows.map((r) => ({ id: r.id, dueAt: new Date(r.due_at), attempt: r.attempts }));
  }

  async #run(job: DueJob): Promise<void> {
    const key = [job.id, job.dueAt.toISOString()];
    try {
      await this.#onDue!(job);
      await this.#done.submit([job]);
    } catch (err) {
      const delay = Math.min(this.options.maxRetryMs ?? 60_000, (this.options.retryMs ?? 1_000) * 2 ** (job.attempt - 1));
      this.options.logger.warn({ err, job: job.id, attempt: job.attempt, retryInMs: delay }, "scheduled job failed; will retry");
      const retryAt = new Date(Date.now() + delay).toISOString();
      await this.db
        .query(this.db.em(), `UPDATE ${this.options.schema}.scheduler_jobs SET ready_at = $3::timestamptz WHERE id = $1 AND due_at = $2::timestamptz`, [...key, retryAt])
        .catch((e: unknown) => this.options.logger.warn({ err: e, job: job.id }, "could not record the retry; the claim's lease will"));
    }
  }

  async #armNext(): Promise<void> {
    // All slots busy: each handler that ends pumps again.
    if (this.#inFlight.size >= (this.options.concurrency ?? 64)) return;
    const [row] = await this.db.query<{ at: Date | string | null }>(this.db.em(), `SELECT min(ready_at) AS at FROM ${this.options.schema}.scheduler_jobs`);
    const now = Date.now();
    const recheck = now + (this.options.recheckMs ?? 300_000);
    if (!row?.at) return this.#wakeBy(recheck);
    const at = new Date(row.at).getTime();
    // Ready but not claimed: another replica holds its row this instant; look again shortly.
    this.#wakeBy(Math.min(at <= now ? now + 5 : at, recheck));
  }
}
