import { TOPIC, type ConsumedEvent, type EventBus, type Subscription } from "@taskmesh/events";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { ActivityStore } from "./activity-store.js";
import { activityOf, type ActivityRecord } from "./activity-record.js";
import { auditMetrics } from "./metrics.js";

export const AUDIT_GROUP = "audit";
export const AUDIT_TOPICS = [TOPIC.taskEvents, TOPIC.reminders];

/**
 * Records every task and reminder event in the activity log, once: the event ids are claimed with
 * the inserts (ActivityStore.recordOnce), so a redelivered event adds nothing. A batch of events is
 * one statement or transaction (a commit per event could not keep up with the writes it records);
 * an event kind this version does not know (a newer producer) is acknowledged, not parked.
 */
export function startActivityConsumer(bus: EventBus, log: ActivityStore): Promise<Subscription> {
  const record = async (events: readonly ConsumedEvent[]) => {
    for (const r of await log.recordOnce(AUDIT_GROUP, recordsOf(events))) auditMetrics.written().inc({ kind: ActivityKind[r.kind] });
  };
  return bus.subscribe({ group: AUDIT_GROUP, topics: AUDIT_TOPICS, handleBatch: record, handler: (event) => record([event]) });
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
