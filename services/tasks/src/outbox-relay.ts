import type { Database } from "@taskmesh/db";
import { OutboxRelay as Relay, type OutboxRelayOptions, type OutboxSink } from "@taskmesh/events";
import type { Logger } from "@taskmesh/kit";
import { TASKS_OUTBOX } from "./task-store.js";

export type { OutboxSink } from "@taskmesh/events";
export { TASKS_OUTBOX };

/** The relay of the task service's outbox (tasks.outbox, written by TaskStore). */
export class OutboxRelay extends Relay {
  constructor(db: Database, sink: OutboxSink, logger: Logger, options?: OutboxRelayOptions) {
    super(db, TASKS_OUTBOX, sink, logger, options);
  }
}
