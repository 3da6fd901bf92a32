import type { Database } from "@taskmesh/db";
import { processOnce, TOPIC, type EventBus, type Subscription } from "@taskmesh/events";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { ActivityStore } from "./activity-store.js";
import { activityOf } from "./activity-record.js";
import { auditMetrics } from "./metrics.js";
import { AUDIT_SCHEMA } from "./migrations/index.js";

export const AUDIT_GROUP = "audit";
export const AUDIT_TOPICS = [TOPIC.taskEvents, TOPIC.reminders];

/**
 * Records every task and reminder event in the activity log, once: the event id is claimed in the
 * same transaction as the insert (processOnce), so a redelivered event adds nothing.
 */
export function startActivityConsumer(bus: EventBus, db: Database, log: ActivityStore): Promise<Subscription> {
  return bus.subscribe({
    group: AUDIT_GROUP,
    topics: AUDIT_TOPICS,
    async handler(event) {
      const record = activityOf(event.value, event.eventId);
      // An event kind this version does not know (a newer producer) is acknowledged, not parked.
      if (!record) return;
      const fresh = await processOnce(db, db.em(), { schema: AUDIT_SCHEMA, consumer: AUDIT_GROUP }, event.eventId, (em) => log.insert(em, record));
      if (fresh) auditMetrics.written().inc({ kind: ActivityKind[record.kind] });
    },
  });
}
