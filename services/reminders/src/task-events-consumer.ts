import { isMessage } from "@bufbuild/protobuf";
import { TOPIC, type ConsumedEvent, type EventBus, type Subscription } from "@taskmesh/events";
import { TaskEventSchema, type TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import type { ReminderEngine } from "./reminder-engine.js";

export const REMINDERS_GROUP = "reminders";

/**
 * Arms, moves and cancels reminders from `task-events` (idempotent by event id), a batch of events
 * in one transaction; a batch that fails goes one event at a time, so a bad one is parked alone.
 */
export function startTaskEventsConsumer(bus: EventBus, engine: ReminderEngine): Promise<Subscription> {
  return bus.subscribe({
    group: REMINDERS_GROUP,
    topics: [TOPIC.taskEvents],
    handleBatch: (events) => engine.applyTaskEvents(taskEventsOf(events)),
    handler: (event) => engine.applyTaskEvents(taskEventsOf([event])),
  });
}

function taskEventsOf(events: readonly ConsumedEvent[]): TaskEvent[] {
  return events.flatMap(({ value }) => (isMessage(value, TaskEventSchema) ? [value] : []));
}
