import { toJson } from "@bufbuild/protobuf";
import { anyUnpack, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { sqlMigration, type Database, type MigrationEntry } from "@taskmesh/db";
import type { Logger } from "@taskmesh/kit";
import { AppCallback, AppCallbackAlpha, type JobEventRequest } from "@taskmesh/proto/dapr/proto/runtime/v1/appcallback_pb.js";
import type { DueHandler, Scheduler, SchedulerJob } from "./scheduler.js";

export interface DaprJobsSchedulerOptions {
  /** daprd's HTTP API, e.g. http://127.0.0.1:3500 */
  daprHttpUrl: string;
  /** Schema holding `dapr_job_fires` (see daprJobFiresMigration). */
  schema: string;
  logger: Logger;
  /** Dapr redelivers a job whose callback failed after this long, until one succeeds. */
  retryMs?: number;
}

/** Add to the owning service's migrations (beside or instead of schedulerJobsMigration). */
export function daprJobFiresMigration(schema: string): MigrationEntry {
  // One row per delivered (job, due time): how often Dapr delivered it, and when a handler
  // finished it. Dapr delivers at least once; this row turns that into "handled once".
  return sqlMigration(
    "Migration20261126000300_dapr_job_fires",
    [
      `CREATE TABLE ${schema}.dapr_job_fires (
        id text NOT NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        done_at timestamptz,
        PRIMARY KEY (id, due_at)
      )`,
    ],
    [`DROP TABLE ${schema}.dapr_job_fires`],
  );
}

interface JobData {
  id: string;
  dueAt: string;
}

/**
 * Timers as Dapr jobs (Jobs API, delivered by the Dapr scheduler service through daprd's
 * AppCallback/OnJobEvent to this app). Each job is named after its id, so re-scheduling overwrites it;
 * its data carries the due time the handler sees. Failed or unanswered deliveries are retried by
 * Dapr at a constant interval without limit (a job is never dropped); deliveries of an (id, dueAt)
 * whose handler already finished are acknowledged without calling it again. Replicas share the
 * work because Dapr hands each trigger to one connected sidecar of the app id.
 *
 * Mount `routes` on the service's server (daprd calls it with --app-protocol grpc).
 */
export class DaprJobsScheduler implements Scheduler {
  #onDue: DueHandler | undefined;
  #inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Database,
    private readonly options: DaprJobsSchedulerOptions,
  ) {}

  readonly routes = (router: ConnectRouter): void => {
    router.service(AppCallback, { onJobEvent: (req) => this.#track(this.#deliver(req)) });
    // daprd falls back to the alpha method for apps without the stable one; serve both.
    router.service(AppCallbackAlpha, { onJobEventAlpha1: (req) => this.#track(this.#deliver(req)) });
  };

  readonly callbacks = { services: [AppCallback, AppCallbackAlpha], routes: this.routes };

  async schedule(jobs: readonly SchedulerJob[]): Promise<void> {
    const interval = `${(this.options.retryMs ?? 1_000) / 1000}s`;
    for (const job of jobs) {
      const data: JobData = { id: job.id, dueAt: job.dueAt.toISOString() };
      await this.#call("POST", job.id, {
        dueTime: job.dueAt.toISOString(),
        data,
        overwrite: true,
        // no maxRetries: retried until delivered, so a job due while no replica runs is not lost
        failurePolicy: { constant: { interval } },
      });
    }
  }

  async cancel(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.#call("DELETE", id, undefined, true);
  }

  async start(onDue: DueHandler): Promise<void> {
    this.#onDue = onDue;
  }

  async stop(): Promise<void> {
    this.#onDue = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #call(method: "POST" | "DELETE", id: string, body: unknown, missingOk = false): Promise<void> {
    const url = `${this.options.daprHttpUrl}/v1.0/jobs/${jobName(id)}`;
    const res = await fetch(url, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok) return;
    const text = await res.text();
    if (missingOk && /not found/i.test(text)) return;
    throw new Error(`Dapr jobs API ${method} ${id}: HTTP ${res.status} ${text}`);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  async #deliver(req: JobEventRequest): Promise<Record<string, never>> {
    const onDue = this.#onDue;
    // Not started or stopping: Dapr tries again after retryMs (a running replica may take it).
    if (!onDue) throw new ConnectError("scheduler is not running here", Code.Unavailable);
    const job = jobData(req);
    if (!job) {
      // Not one of ours (or corrupted): no retry can fix it, so acknowledge and say so loudly.
      this.options.logger.error({ name: req.name }, "Dapr job without {id, dueAt} data dropped");
      return {};
    }
    const dueAt = new Date(job.dueAt);
    const { schema } = this.options;
    const em = this.db.em();
    const [row] = await this.db.query<{ attempts: number; done: boolean }>(
      em,
      `INSERT INTO ${schema}.dapr_job_fires (id, due_at, attempts) VALUES ($1, $2::timestamptz, 1)
       ON CONFLICT (id, due_at) DO UPDATE SET attempts = dapr_job_fires.attempts + 1
       RETURNING attempts, done_at IS NOT NULL AS done`,
      [job.id, job.dueAt],
    );
    if (row!.done) {
      this.options.logger.debug({ id: job.id, dueAt: job.dueAt }, "duplicate Dapr job delivery acknowledged");
      return {};
    }
    try {
      await onDue({ id: job.id, dueAt, attempt: row!.attempts });
    } catch (err) {
      this.options.logger.warn({ err, id: job.id, dueAt: job.dueAt, attempt: row!.attempts }, "job handler failed; Dapr delivers it again");
      throw new ConnectError(`job ${job.id} handler failed: ${(err as Error).message}`, Code.Unavailable);
    }
    await this.db.query(em, `UPDATE ${schema}.dapr_job_fires SET done_at = now() WHERE id = $1 AND due_at = $2::timestamptz`, [job.id, job.dueAt]);
    return {};
  }
}

/**
 * The Dapr job's name for a timer id: Dapr refuses names with '/', '\\', '#' or '?', which the
 * reminder engine's ids have ("reminder/<task>/<reminder>"); base64url has none of them. The id
 * itself travels in the job's data.
 */
function jobName(id: string): string {
  return Buffer.from(id).toString("base64url");
}

function jobData(req: JobEventRequest): JobData | undefined {
  const value = req.data ? anyUnpack(req.data, ValueSchema) : undefined;
  const json = value ? (toJson(ValueSchema, value) as Partial<JobData> | null) : null;
  if (!json || typeof json.id !== "string" || typeof json.dueAt !== "string" || Number.isNaN(Date.parse(json.dueAt))) return undefined;
  return { id: json.id, dueAt: json.dueAt };
}
