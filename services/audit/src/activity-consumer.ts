import type { Database } from "@taskmesh/db";
import { claimEventIds, processOnce, TOPIC, type ConsumedEvent, type EventBus, type Subscription } from "@taskmesh/events";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { ActivityStore } from "./activity-store.js";
import { activityOf, type ActivityRecord } from "./activity-record.js";
import { auditMetrics } from "./metrics.js";
import { AUDIT_SCHEMA } from "./migrations/index.js";

export const AUDIT_GROUP = "audit";
export const AUDIT_TOPICS = [TOPIC.taskEvents, TOPIC.reminders];
const CONSUMER = { schema: AUDIT_SCHEMA, consumer: AUDIT_GROUP };

/**
 * Records every task and reminder event in the activity log, once: the event ids are claimed in
 * the same transaction as the inserts, so a redelivered event adds nothing. A batch of events is
 * one transaction (a commit per event could not keep up with the writes it records); an event
 * kind this version does not know (a newer producer) is acknowledged, not parked.
 */
export function startActivityConsumer(bus: EventBus, db: Database, log: ActivityStore): Promise<Subscription> {
  return bus.subscribe({
    group: AUDIT_GROUP,
    topics: AUDIT_TOPICS,
    async handleBatch(events) {
      const records = recordsOf(events);
      if (records.length === 0) return;
      const written = await db.em().transactional(async (em) => {
        const fresh = await claimEventIds(
          db,
          em,
          CONSUMER,
          records.map((r) => r.eventId),
        );
        const kept = records.filter((r) => fresh.has(r.eventId));
        await log.insertMany(em, kept);
        return kept;
      });
      for (const r of written) auditMetrics.written().inc({ kind: ActivityKind[r.kind] });
    },
    async handler(event) {
      const [record] = recordsOf([event]);
      if (!record) return;
      const fresh = await processOnce(db, db.em(), CONSUMER, event.eventId, (em) => log.insertMany(em, [record]));
      if (fresh) auditMetrics.written().inc({ kind: ActivityKind[record.kind] });
    },
  });
}

/** The events' entries, each event id once (a producer may have published one twice). */
function recordsOf(events: readonly ConsumedEvent[]): ActivityRecord[] {
  const seen = new Set<string>();
  const records: ActivityRecord[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    const record = activityOf(event.value, event.eventId);
    if (record) records.push(record);
  }
  return records;
}
