import { isMessage } from "@bufbuild/protobuf";
import { TOPIC, type EventBus, type Subscription } from "@taskmesh/events";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import type { ReminderEngine } from "./reminder-engine.js";

export const REMINDERS_GROUP = "reminders";

/** Arms, moves and cancels reminders from `task-events` (idempotent by event id). */
export function startTaskEventsConsumer(bus: EventBus, engine: ReminderEngine): Promise<Subscription> {
  return bus.subscribe({
    group: REMINDERS_GROUP,
    topics: [TOPIC.taskEvents],
    // Every task event is a transaction of its own (the task's row, its reminders): other tasks'
    // events need not queue behind its commit; one task's stay in order.
    concurrency: 8,
    async handler({ value }) {
      if (isMessage(value, TaskEventSchema)) await engine.applyTaskEvent(value);
    },
  });
}
