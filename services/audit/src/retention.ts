import { DAY_MS, type Pruned } from "@taskmesh/events";
import type { ActivityStore } from "./activity-store.js";
import { auditMetrics } from "./metrics.js";

export const DEFAULT_RETENTION_DAYS = 90;

/**
 * The activity history past its retention, for the shared RetentionJob: the entries, then the ids
 * of the events they were recorded from (kept as long, so a redelivered old event is still known).
 */
export function activityPruned(log: ActivityStore, retentionDays: number): Pruned[] {
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
