import type { Logger } from "@taskmesh/kit";
import type { ActivityLog } from "./activity-log.js";
import { auditMetrics } from "./metrics.js";

export const DEFAULT_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

/** AUDIT_RETENTION_DAYS (a whole number of days, 1..36500), or undefined when unset. */
export function retentionDaysFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.AUDIT_RETENTION_DAYS;
  if (raw === undefined || raw === "") return undefined;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 36_500) {
    throw new Error(`AUDIT_RETENTION_DAYS must be a whole number of days from 1 to 36500, got "${raw}"`);
  }
  return days;
}

export interface RetentionOptions {
  retentionDays: number;
  /** Time between purges (default 1 h); the first runs at start. */
  intervalMs?: number;
  /** Rows deleted per transaction (default 1,000). */
  batchSize?: number;
  now: () => Date;
  logger: Logger;
}

/** Purges entries older than the retention, periodically, in batches. */
export class RetentionJob {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly log: ActivityLog,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    const run = () => {
      // A purge still going when the next is due (a large backlog) simply continues.
      this.#running ??= this.purgeExpired()
        .catch((err: unknown) => this.options.logger.warn({ err }, "audit retention purge failed; will retry"))
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

  /** Deletes everything past retention; resolves with the number of entries deleted. */
  async purgeExpired(): Promise<number> {
    const cutoff = new Date(this.options.now().getTime() - this.options.retentionDays * DAY_MS);
    const batch = this.options.batchSize ?? 1_000;
    let entries = 0;
    for (let n = batch; n === batch; ) {
      n = await this.log.purgeEntries(cutoff, batch);
      entries += n;
      auditMetrics.purged().inc(n);
    }
    for (let n = batch; n === batch; ) n = await this.log.purgeProcessedIds(cutoff, batch);
    if (entries > 0) this.options.logger.info({ entries, cutoff }, "purged audit entries past retention");
    return entries;
  }
}
