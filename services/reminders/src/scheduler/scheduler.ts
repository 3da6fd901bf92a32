import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
/** A timer to fire: `id` names it (re-scheduling an id moves it), `dueAt` is when. */
export interface SchedulerJob {
  id: string;
  dueAt: Date;
}

export interface DueJob extends SchedulerJob {
  /** 1 on the first delivery; more after a failed handler, an expired claim or a crash. */
  attempt: number;
}

/** Resolve when the job's effect is durable; throw to have it delivered again later (with backoff). */
export type DueHandler = (job: DueJob) => Promise<void>;

/**
 * A durable timer service (built-in on PostgreSQL, or the Dapr Jobs API). The contract every
 * backend passes (test/scheduler-contract.ts):
 * - a job is delivered at or after its dueAt, never before, and as soon as possible after it;
 * - delivery is at least once: a crash, an expired claim or a failing handler delivers it again, so
 *   handlers are idempotent by (id, dueAt);
 * - once a handler resolved, that (id, dueAt) is done; a job re-scheduled to another time while its
 *   handler runs keeps its new time;
 * - jobs due while no scheduler ran are delivered when one starts; several replicas share the work.
 */
export interface Scheduler {
  /** Arms jobs, or moves them when their id exists; durable once resolved. */
  schedule(jobs: readonly SchedulerJob[]): Promise<void>;
  /** Disarms jobs; unknown ids are ignored. */
  cancel(ids: readonly string[]): Promise<void>;
  /** Starts delivering due jobs (first those that fell due while stopped). */
  start(onDue: DueHandler): Promise<void>;
  /** Stops claiming and waits for the handlers in flight. */
  stop(): Promise<void>;
  /** What the backend needs served on the service's port (Dapr delivers jobs to the app there). */
  readonly callbacks?: { services: DescService[]; routes: (router: ConnectRouter) => void };
}
