import type { Pruned } from "@taskmesh/events";
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

/**
 * The activity history past its retention, for the shared RetentionJob: the entries, then the ids
 * of the events they were recorded from (kept as long, so a redelivered old event is still known).
 */
export function activityPruned(log: ActivityLog, retentionDays: number): Pruned[] {
  const retentionMs = retentionDays * DAY_MS;
  return [
    {
      what: "audit.entries",
      retentionMs,
      async prune(cutoff, limit) {
        const n = await log.purgeEntries(cutoff, limit);
        auditMetrics.purged().inc(n);
        return n;
      },
    },
    { what: "audit.processed_ids", retentionMs, prune: (cutoff, limit) => log.purgeProcessedIds(cutoff, limit) },
  ];
}
