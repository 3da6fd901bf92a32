import type { Message } from "@bufbuild/protobuf";

/** One event to publish: the outbox row shape. `payload` is the protobuf binary of the topic's message. */
export interface EventRecord {
  topic: string;
  key: string;
  payload: Uint8Array;
  headers: Record<string, string>;
}

export interface ConsumedEvent {
  topic: string;
  key: string;
  /** Kafka partition; the embedded log has one ordered stream per topic. */
  partition?: number;
  offset: string;
  headers: Record<string, string>;
  /** The topic's envelope message (TaskEvent, ReminderEvent, TaskUpdate), decoded. */
  value: Message;
  /** The message's event_id: the key consumers deduplicate redeliveries by (see claimEventIds). */
  eventId: string;
}

export interface RetryOptions {
  /** Retries of a failing handler before the message is dead-lettered (default 5); a transient failure (see isTransientError) is retried until it passes. */
  retries?: number;
  /** Backoff before the first retry, doubled for each next one (default 100 ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface SubscribeOptions extends RetryOptions {
  /** Consumer group: members share the work, each event is handled by one member. A new group
   *  starts at the beginning of each topic, so nothing published before it first subscribed is missed. */
  group: string;
  topics: string[];
  /**
   * "shared" (default): the members of the group share the work and the group's position is kept,
   * so a restarted member resumes where the group stopped. "broadcast": this subscriber alone gets
   * every event published from the moment subscribe() resolved; no position is kept, so a new
   * subscriber replays nothing and a stopped one leaves nothing behind (with Kafka the group, which
   * never commits, is removed by the broker once its member has left). For pushing to connections
   * that catch up from elsewhere (live sync reads the change feed from the device's cursor).
   */
  delivery?: "shared" | "broadcast";
  /** Resolve to acknowledge; throw to retry. Delivery is at least once. */
  handler(event: ConsumedEvent): Promise<void>;
  /**
   * Handles a run of consecutive events in one call, for work whose cost is a transaction per call
   * (one commit for a run instead of one per event): given, each batch the bus reads (in offset
   * order; with Kafka one partition's) comes here decoded, and resolving acknowledges all of it.
   * When it throws, or an event of the run does not decode, the run goes to `handler` one event at
   * a time instead, with its retries and dead-lettering, so a bad event holds up only itself. The
   * effect must be what `handler` would have done with the events in order.
   */
  handleBatch?(events: ConsumedEvent[]): Promise<void>;
  /**
   * Events of different keys handled at once, at most this many (default 1). Events of one key are
   * always handled one after the other, in order. For handlers that wait on I/O (an RPC per event).
   */
  concurrency?: number;
}

/** Kafka, or the embedded mode's event log in PostgreSQL (not a system OpenTelemetry names). */
export type MessagingSystem = "kafka" | "taskmesh_event_log";

export interface Subscription {
  /** Stops after the event in hand; what was handled is committed, the rest is redelivered. */
  stop(): Promise<void>;
}

export interface EventBus {
  /** What carries the events, as spans name it (`messaging.system`). */
  readonly system: MessagingSystem;
  /** Resolves once every record is durable; records with the same key stay in order. */
  publish(records: EventRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
