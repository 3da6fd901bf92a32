import type { Database } from "@taskmesh/db";
import { OutboxRelay as Relay, type OutboxRelayOptions, type OutboxSink } from "@taskmesh/events";
import type { Logger } from "@taskmesh/kit";
import { OUTBOX_CHANNEL } from "./task-store.js";

export type { OutboxSink } from "@taskmesh/events";

/** The lock key relays of tasks.outbox have always used (running old and new relays side by side keeps one at a time). */
export const TASKS_OUTBOX = { schema: "tasks", channel: OUTBOX_CHANNEL, lockKey: 7_140_501 };

/** The relay of the task service's outbox (tasks.outbox, written by TaskStore). */
export class OutboxRelay extends Relay {
  constructor(db: Database, sink: OutboxSink, logger: Logger, options?: OutboxRelayOptions) {
    super(db, TASKS_OUTBOX, sink, logger, options);
  }
}
