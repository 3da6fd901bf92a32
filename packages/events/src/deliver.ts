import type { ConsumedEvent, EventRecord, MessagingSystem, RetryOptions, SubscribeOptions } from "./bus.js";
import type { EventCodec } from "./codec.js";
import { deadLetterTopic } from "./topics.js";
import type { Span } from "@opentelemetry/api";
import { contextFromHeaders, failSpan, isTransientError, linkFromHeaders, SpanKind, tracingEnabled, withSpan, type Logger } from "@taskmesh/kit";
import { handleByKey } from "./handle-by-key.js";

/** A message as it sits in the log, before decoding. */
export interface RawMessage {
  topic: string;
  key: string;
  partition?: number;
  offset: string;
  headers: Record<string, string>;
  value: Uint8Array;
}

export interface DeliveryContext {
  system: MessagingSystem;
  codec: EventCodec;
  options: SubscribeOptions;
  /** Where a dead letter is reported: work given up on needs a line an operator can find. */
  logger: Logger;
  deadLetter(record: EventRecord): Promise<void>;
  /** True once the subscription is stopping: a retry wait ends early and the message stays uncommitted. */
  stopping(): boolean;
  /** Called while waiting between retries (Kafka: heartbeats so the group keeps the partition). */
  keepAlive?(): Promise<void>;
}

/** "stopped": neither handled nor dead-lettered; its offset must not be committed. */
export type DeliveryOutcome = "handled" | "dead-lettered" | "stopped";

export const DLQ_HEADERS = {
  error: "dlq-error",
  originalTopic: "dlq-original-topic",
  originalPartition: "dlq-original-partition",
  originalOffset: "dlq-original-offset",
  group: "dlq-group",
  attempts: "dlq-attempts",
  failedAt: "dlq-failed-at",
} as const;

/**
 * Decodes and hands one message to the handler, retrying with exponential backoff. A failure that
 * says something was unreachable (the database restarting, a service gone, a link cut) is retried
 * for as long as it lasts: the partition waits, and its lag says so, rather than parking work
 * that would have succeeded a minute later. Any other failure, after the last retry, or a message
 * that does not decode, at once, goes to `<topic>.dlq` with the error and its origin in headers,
 * so the partition moves on.
 */
export async function deliver(raw: RawMessage, ctx: DeliveryContext): Promise<DeliveryOutcome> {
  let event: ConsumedEvent;
  try {
    event = decodeEvent(raw, ctx.codec);
  } catch (err) {
    await parkDeadLetter(raw, ctx, err, 0);
    return "dead-lettered";
  }

  // A CONSUMER span per message, child of the producer's publish span whose context the record
  // carries: the consumers' work joins the trace of the request that made the change.
  return withSpan(
    `${raw.topic} process`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromHeaders(raw.headers),
      attributes: { ...processAttributes(raw, ctx), "messaging.kafka.offset": raw.offset, "messaging.message.id": event.eventId },
    },
    (span) => handle(raw, event, ctx, span),
  );
}

/** What a consumer's span says of where its messages come from (OpenTelemetry's messaging names). */
function processAttributes(raw: RawMessage, ctx: DeliveryContext): Record<string, string> {
  return {
    "messaging.system": ctx.system,
    "messaging.operation.type": "process",
    "messaging.destination.name": raw.topic,
    "messaging.consumer.group.name": ctx.options.group,
    "messaging.destination.partition.id": String(raw.partition ?? 0),
  };
}

function decodeEvent(raw: RawMessage, codec: EventCodec): ConsumedEvent {
  const { message } = codec.decode(raw.topic, raw.value);
  const eventId = (message as { eventId?: unknown }).eventId;
  return {
    topic: raw.topic,
    key: raw.key,
    partition: raw.partition,
    offset: raw.offset,
    headers: raw.headers,
    value: message,
    eventId: typeof eventId === "string" && eventId !== "" ? eventId : `${raw.topic}/${raw.partition ?? 0}/${raw.offset}`,
  };
}

export interface DeliveredRun {
  /** How many messages from the start of the run were handled or dead-lettered: those may be committed. */
  acknowledged: number;
  handled: number;
  deadLettered: number;
}

/**
 * Delivers a run of one partition's messages: to the subscription's batch handler in one call
 * when it has one and that succeeds, else each message through `deliver` (those of one key in
 * order, up to `concurrency` keys at once).
 */
export async function deliverAll(raws: RawMessage[], ctx: DeliveryContext): Promise<DeliveredRun> {
  if (raws.length === 0 || ctx.stopping()) return { acknowledged: 0, handled: 0, deadLettered: 0 };
  if (ctx.options.handleBatch && (await deliverBatch(raws, ctx, ctx.options.handleBatch))) {
    return { acknowledged: raws.length, handled: raws.length, deadLettered: 0 };
  }
  const run = { acknowledged: 0, handled: 0, deadLettered: 0 };
  run.acknowledged = await handleByKey(
    raws,
    ctx.options.concurrency ?? 1,
    (raw) => raw.key,
    async (raw) => {
      if (ctx.stopping()) return false;
      const outcome = await deliver(raw, ctx);
      if (outcome === "stopped") return false;
      if (outcome === "handled") run.handled++;
      else run.deadLettered++;
      return true;
    },
  );
  return run;
}

/** True when the batch handler took the whole run; false sends it down the one-by-one path. */
async function deliverBatch(raws: RawMessage[], ctx: DeliveryContext, handleBatch: (events: ConsumedEvent[]) => Promise<void>): Promise<boolean> {
  let events: ConsumedEvent[];
  try {
    events = raws.map((raw) => decodeEvent(raw, ctx.codec));
  } catch {
    return false;
  }
  const first = raws[0]!;
  // One CONSUMER span for the run. A run of one continues its message's trace, as deliver's span
  // does; a longer one links each message's producer span (a span has one parent).
  const single = raws.length === 1;
  const links = single || !tracingEnabled() ? [] : raws.map((raw) => linkFromHeaders(raw.headers)).filter((link) => link !== undefined);
  try {
    await withSpan(
      `${first.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        parent: single ? contextFromHeaders(first.headers) : undefined,
        links,
        attributes: { ...processAttributes(first, ctx), "messaging.batch.message_count": raws.length },
      },
      () => handleBatch(events),
    );
    return true;
  } catch (err) {
    ctx.logger.warn({ err, topic: first.topic, group: ctx.options.group, from: first.offset, events: raws.length }, "batch handler failed; handling the batch's events one at a time");
    return false;
  }
}

async function handle(raw: RawMessage, event: ConsumedEvent, ctx: DeliveryContext, span: Span | undefined): Promise<DeliveryOutcome> {
  const retries = ctx.options.retries ?? 5;
  let failures = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.options.handler(event);
      return "handled";
    } catch (err) {
      span?.recordException(err instanceof Error ? err : String(err));
      if (!isTransientError(err) && ++failures > retries) {
        failSpan(span, err);
        await parkDeadLetter(raw, ctx, err, attempt);
        return "dead-lettered";
      }
      if (!(await backoff(backoffMs(ctx.options, attempt), ctx))) return "stopped";
    }
  }
}

export function backoffMs(options: RetryOptions, attempt: number): number {
  return Math.min(options.maxBackoffMs ?? 10_000, (options.initialBackoffMs ?? 100) * 2 ** (attempt - 1));
}

/** Waits in short slices so stop() and heartbeats are not held up; false when stopping. */
async function backoff(ms: number, ctx: DeliveryContext): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (ctx.stopping()) return false;
    await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
    await ctx.keepAlive?.();
  }
  return !ctx.stopping();
}

async function parkDeadLetter(raw: RawMessage, ctx: DeliveryContext, err: unknown, attempts: number): Promise<void> {
  const where = { topic: raw.topic, partition: raw.partition ?? 0, offset: raw.offset, key: raw.key, group: ctx.options.group, attempts };
  ctx.logger.error({ ...where, err }, `event parked on ${deadLetterTopic(raw.topic)}`);
  await ctx.deadLetter(deadLetterRecord(raw, ctx.options.group, err, attempts));
}

function deadLetterRecord(raw: RawMessage, group: string, err: unknown, attempts: number): EventRecord {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    topic: deadLetterTopic(raw.topic),
    key: raw.key,
    payload: raw.value,
    headers: {
      ...raw.headers,
      [DLQ_HEADERS.error]: error.slice(0, 2_000),
      [DLQ_HEADERS.originalTopic]: raw.topic,
      [DLQ_HEADERS.originalPartition]: String(raw.partition ?? 0),
      [DLQ_HEADERS.originalOffset]: raw.offset,
      [DLQ_HEADERS.group]: group,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    },
  };
}
