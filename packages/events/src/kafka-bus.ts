import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type Consumer, type ConsumerRunConfig, type IHeaders, type LogEntry, type Producer } from "kafkajs";
import { randomUUID } from "node:crypto";
import { createLogger, GroupCommit, type Logger } from "@taskmesh/kit";
import type { EventBus, EventRecord, SubscribeOptions, Subscription } from "./bus.js";
import { EventCodec } from "./codec.js";
import { deliverAll, type DeliveryContext } from "./deliver.js";
import { busMetrics } from "./metrics.js";
import type { SchemaIds } from "./schema-registry.js";
import { TOPICS, deadLetterTopic, type TopicContract } from "./topics.js";

export interface KafkaBusOptions {
  brokers: string[];
  /** From registerSchemas(): the bus only produces topics whose schema the registry accepted. */
  schemaIds: SchemaIds;
  topics?: readonly TopicContract[];
  clientId?: string;
  logger?: Logger;
  /** Partitions a subscription works on in parallel; each partition stays sequential (default 3). */
  partitionsConsumedConcurrently?: number;
  /** Longest time a handled offset waits to be committed (default 500 ms; a crash redelivers at most that much). */
  commitIntervalMs?: number;
  /** Compression of produced batches (default none: on a LAN the CPU costs more than the bytes). */
  compression?: CompressionTypes;
  /** How long the group waits for a silent member before moving its partitions (default 30 s, broker minimum 6 s). */
  sessionTimeoutMs?: number;
  /** How long subscribe() waits for its topics to be created before it fails (default 180 s). */
  topicWaitMs?: number;
}

interface OutgoingMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

// A request's record batch per partition must stay under the broker's message.max.bytes (1 MiB by
// default): larger publishes go out as several requests, one after the other, in order.
const MAX_REQUEST_BYTES = 900_000;

function* chunksUnder(maxBytes: number, messages: OutgoingMessage[]): Generator<OutgoingMessage[]> {
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    // Record overhead (offsets, lengths, header names) is small next to this bound's headroom.
    const size = m.value.length + m.key.length + 64 + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

// Long enough to ride out a broker restart (a few seconds) without failing the caller, yet finite:
// kafkajs warns that bounded retries weaken an idempotent producer's exactly-once, but a publish
// that gives up rejects, the outbox keeps the records and the relay sends them again; consumers
// dedupe by event_id. Unbounded retries would instead hang the relay while the cluster is down.
const RETRY = { initialRetryTime: 200, maxRetryTime: 5_000, retries: 12 };

export async function connectKafkaBus(options: KafkaBusOptions): Promise<EventBus> {
  const logger = options.logger ?? createLogger("events");
  const kafka = new Kafka({
    brokers: options.brokers,
    clientId: options.clientId ?? "taskmesh",
    retry: RETRY,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => logKafkaJs(logger, entry),
  });
  const producer = kafka.producer({
    // Idempotence makes broker-side retries exactly-once and in order; it needs acks=all and one
    // request in flight per broker.
    idempotent: true,
    maxInFlightRequests: 1,
    // Java-compatible murmur2 on the key: the same task id lands on the same partition as from
    // any Confluent client.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: RETRY,
  });
  await producer.connect();
  return new KafkaBus(kafka, producer, new EventCodec(options.schemaIds, options.topics ?? TOPICS), options);
}

class KafkaBus implements EventBus {
  readonly system = "kafka";
  readonly #subscriptions = new Set<Subscription>();
  readonly #send: GroupCommit<OutgoingMessage>;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly options: KafkaBusOptions,
  ) {
    this.#send = new GroupCommit(async (messages) => {
      for (const chunk of chunksUnder(MAX_REQUEST_BYTES, messages)) await this.#sendBatch(chunk);
    });
  }

  async #sendBatch(messages: OutgoingMessage[]): Promise<void> {
    const byTopic = new Map<string, Omit<OutgoingMessage, "topic">[]>();
    for (const { topic, ...message } of messages) {
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push(message);
    }
    await this.producer.sendBatch({ acks: -1, compression: this.options.compression ?? CompressionTypes.None, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
    for (const [topic, msgs] of byTopic) busMetrics.published().inc({ bus: "kafka", topic }, msgs.length);
  }

  async publish(records: EventRecord[]): Promise<void> {
    // Framing throws for a topic without an accepted schema, before anything is sent.
    const framed = records.map((r) => ({ ...r, payload: this.codec.encode(r.topic, r.payload) }));
    return this.#produceRaw(framed);
  }

  async #produceRaw(records: EventRecord[]): Promise<void> {
    await this.#send.submit(records.map((r) => ({ topic: r.topic, key: r.key, value: Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength), headers: r.headers })));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const broadcast = options.delivery === "broadcast";
    // A broadcast subscriber keeps no position, so nothing ties it to the group of an earlier start:
    // a group of its own per subscription joins at once, where the name of a process that was just
    // killed would wait out the dead member's session (30 s) before the restart is ready.
    const groupId = broadcast ? `${options.group}.${randomUUID().slice(0, 8)}` : options.group;
    const consumer = this.kafka.consumer({
      groupId,
      retry: RETRY,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      // Under load, fetches wait up to 10 ms to bring back a fuller batch instead of one request
      // per trickle of records: far fewer round trips for the broker at +10 ms worst-case latency.
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 10,
    });
    await this.#waitForTopics(options.topics);
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics, fromBeginning: !broadcast });
    let stopping = false;
    const commitIntervalMs = this.options.commitIntervalMs ?? 500;
    const pending = new Map<string, { topic: string; partition: number; offset: string }>();
    const lastCommit = new Map<string, number>();
    // What a quiet spell leaves pending is committed by this timer, not left until the next batch:
    // the group's lag then reaches 0 and a restart redelivers nothing already handled.
    let flushTimer: NodeJS.Timeout | undefined;
    const flushLater = () => {
      if (flushTimer || stopping) return;
      flushTimer = setTimeout(() => {
        flushTimer = undefined;
        const offsets = [...pending.values()];
        pending.clear();
        for (const o of offsets) lastCommit.set(`${o.topic}/${o.partition}`, Date.now());
        // A rebalance may refuse it: those offsets come again, handled idempotently.
        if (offsets.length > 0) consumer.commitOffsets(offsets).catch(() => {});
      }, commitIntervalMs);
      flushTimer.unref();
    };
    const metrics = { consumed: busMetrics.consumed(), deadLettered: busMetrics.deadLettered(), lag: busMetrics.lag() };
    // A broadcast subscriber commits nothing, so when kafkajs restarts its consumer after a crash
    // (the broker gone, a stalled link) the group rejoins with no offsets and would read from the
    // end again, skipping what was published meanwhile: it goes back to where it was instead,
    // every partition from the end it had when subscribing until it has read further.
    const positions = new Map<string, { topic: string; partition: number; offset: string }>();
    if (broadcast) {
      const ends = await this.#endOffsets(options.topics).catch(async (err: unknown) => {
        await consumer.disconnect().catch(() => {});
        throw err;
      });
      for (const position of ends) positions.set(`${position.topic}/${position.partition}`, position);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const position of positions.values()) consumer.seek(position);
      });
    }
    const runConfig: ConsumerRunConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const context: DeliveryContext = {
          system: this.system,
          codec: this.codec,
          options,
          logger: this.options.logger ?? createLogger("events"),
          deadLetter: (record) => this.#produceRaw([record]),
          stopping: () => stopping || !isRunning() || isStale(),
          keepAlive: heartbeat,
        };
        const run = await deliverAll(
          batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString() ?? "",
            headers: headersToStrings(m.headers),
            value: m.value ?? Buffer.alloc(0),
          })),
          context,
        );
        const handled = run.acknowledged;
        // Only the run of messages handled from the batch's start is acknowledged: the rest come again.
        if (handled === 0) return;
        const last = batch.messages[handled - 1]!.offset;
        resolveOffset(last);
        const next = BigInt(last) + 1n;
        // Only offsets whose handler resolved (or whose message is parked on the DLQ) are ever
        // committed: a crash redelivers, it never skips. Committing at most every
        // commitIntervalMs spares the broker a commit per small batch when traffic trickles in.
        const key = `${batch.topic}/${batch.partition}`;
        if (broadcast) positions.set(key, { topic: batch.topic, partition: batch.partition, offset: String(next) });
        else pending.set(key, { topic: batch.topic, partition: batch.partition, offset: String(next) });
        if (pending.has(key) && (stopping || Date.now() - (lastCommit.get(key) ?? 0) >= commitIntervalMs)) {
          const offset = pending.get(key)!;
          pending.delete(key);
          lastCommit.set(key, Date.now());
          await consumer.commitOffsets([offset]);
        }
        if (pending.size > 0) flushLater();
        const labels = { bus: "kafka", group: options.group, topic: batch.topic };
        metrics.consumed.inc(labels, run.handled);
        metrics.deadLettered.inc(labels, run.deadLettered);
        metrics.lag.set({ ...labels, partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - next));
      },
    };
    // A broadcast subscriber counts from the moment its partitions' end offsets are known.
    const joined = broadcast ? firstFetch(consumer, this.options.sessionTimeoutMs ?? 30_000) : undefined;
    // Awaited once the subscription exists; should run() fail first, its rejection must not go unhandled.
    joined?.catch(() => {});
    // A shared group's member is not awaited into the group: after a crash the broker holds the
    // rebalance until the dead member's session expires (30 s), and the service answers meanwhile;
    // a failure to join comes back as a CRASH, handled below. A new group starts at the beginning
    // and an existing one at its committed position, so nothing is missed for resolving early.
    const running = consumer.run(runConfig);
    if (broadcast)
      await running.catch(async (err: unknown) => {
        await consumer.disconnect().catch(() => {});
        throw err;
      });
    else running.catch((err: unknown) => restartLater(err));
    // kafkajs restarts a crashed consumer only after errors it calls retriable. Others end it for
    // good while the process lives on and the group's partitions sit unread: among them "the group
    // coordinator is not available", which a broker restart gives. Those are restarted here too,
    // with a backoff, until the subscription stops.
    let crashes = 0;
    let restartTimer: NodeJS.Timeout | undefined;
    const restartLater = (err: unknown) => {
      if (stopping) return;
      const waitMs = Math.min(5_000, 250 * 2 ** crashes++);
      (this.options.logger ?? createLogger("events")).warn({ group: options.group, err, waitMs }, "the Kafka consumer stopped; starting it again");
      restartTimer = setTimeout(async () => {
        if (stopping) return;
        try {
          await consumer.connect();
          // A failure to join comes back as another CRASH, which schedules the next attempt.
          await consumer.run(runConfig);
        } catch (err) {
          await consumer.disconnect().catch(() => {});
          restartLater(err);
        }
      }, waitMs);
    };
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) restartLater(payload.error);
    });
    consumer.on(consumer.events.GROUP_JOIN, () => (crashes = 0));
    const subscription: Subscription = {
      stop: async () => {
        stopping = true;
        clearTimeout(flushTimer);
        clearTimeout(restartTimer);
        this.#subscriptions.delete(subscription);
        // While the runner still runs: kafkajs drops commits once it has stopped.
        const offsets = [...pending.values()];
        pending.clear();
        if (offsets.length > 0) await consumer.commitOffsets(offsets).catch(() => {});
        await consumer.disconnect();
        // Empty and without offsets, the broker would expire it within offsets.retention.check.interval.ms.
        if (broadcast) await this.#deleteGroup(groupId);
      },
    };
    this.#subscriptions.add(subscription);
    await joined?.catch(async (err: unknown) => {
      await subscription.stop();
      throw err;
    });
    return subscription;
  }

  /**
   * Topics are created beside the services (Strimzi's Topic Operator, the chart's kafka-topics Job),
   * so on a fresh cluster a consumer may start first: it waits for them rather than failing.
   */
  async #waitForTopics(topics: readonly string[]): Promise<void> {
    const waitMs = this.options.topicWaitMs ?? 180_000;
    const deadline = Date.now() + waitMs;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (let attempt = 1; ; attempt++) {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length === 0) return;
        if (Date.now() > deadline) throw new Error(`Kafka topics ${missing.join(", ")} still do not exist after ${waitMs / 1000}s: create them (Strimzi KafkaTopic resources, or ensureKafkaTopics)`);
        const retryInMs = Math.min(5_000, 250 * 2 ** attempt);
        (this.options.logger ?? createLogger("events")).warn({ missing, retryInMs }, "waiting for Kafka topics to be created");
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async #endOffsets(topics: readonly string[]): Promise<{ topic: string; partition: number; offset: string }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // kafkajs does not retry this request: a topic created a moment ago may not have its leaders
      // yet ("This server is not the leader for that topic-partition"), a retriable error.
      for (let attempt = 0; ; attempt++) {
        try {
          const ends = await Promise.all(topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ topic, partition, offset: high }))));
          return ends.flat();
        } catch (err) {
          // KafkaJSError's flag (the class itself is not among kafkajs' ES module exports).
          const retriable = err instanceof Error && "retriable" in err && err.retriable === true;
          if (!retriable || attempt >= RETRY.retries) throw err;
          await new Promise((r) => setTimeout(r, Math.min(RETRY.maxRetryTime, RETRY.initialRetryTime * 2 ** attempt)));
        }
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async #deleteGroup(group: string): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([group]);
    } catch {
      // Still has a member (another process subscribed under the same name) or the broker is away.
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    await this.producer.disconnect();
  }
}

export interface KafkaTopicsOptions {
  brokers: string[];
  topics?: readonly string[];
  partitions?: number;
  replicationFactor?: number;
}

/** Creates the topics and their `.dlq` topics where missing (existing ones are left as they are). */
export async function ensureKafkaTopics(options: KafkaTopicsOptions): Promise<void> {
  const admin = new Kafka({ brokers: options.brokers, clientId: "taskmesh-admin", logLevel: logLevel.ERROR, retry: RETRY }).admin();
  await admin.connect();
  try {
    const names = (options.topics ?? TOPICS.map((t) => t.topic)).flatMap((t) => [t, deadLetterTopic(t)]);
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    // Not kafkajs's own wait for leaders: it gives up at the first "does not host this
    // topic-partition" from a broker that has not heard of the new topic yet. leadersElected waits.
    await admin.createTopics({
      topics: missing.map((topic) => ({ topic, numPartitions: options.partitions ?? 3, replicationFactor: options.replicationFactor ?? 1 })),
      waitForLeaders: false,
    });
    await leadersElected(admin, missing);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once every partition of the topics has a leader. A topic just created can be unknown for
 * a moment to the broker asked (KRaft spreads metadata asynchronously): kafkajs's own wait for
 * leaders gives up on that answer, so it is retried here, as every retriable answer is.
 */
export async function leadersElected(admin: Pick<Admin, "fetchTopicMetadata">, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1_000)) {
    let waitingFor = "a leader for every partition";
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      // kafkajs's errors say whether asking again can help (its error classes are not named exports under ESM)
      if (!(err instanceof Error && "retriable" in err && err.retriable === true)) throw err;
      waitingFor = err.message;
    }
    if (Date.now() + delayMs > deadline) throw new Error(`Kafka topics ${topics.join(", ")} not ready within ${timeoutMs / 1000} s: ${waitingFor}`);
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

/**
 * Resolves when the consumer's first fetch is done: it has joined its group, been assigned its
 * partitions and resolved where to read them from (kafkajs resolves offsets inside the fetch).
 */
function firstFetch(consumer: Consumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      remove();
      reject(new Error(`no partitions assigned within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    const remove = consumer.on(consumer.events.FETCH, () => {
      clearTimeout(timer);
      remove();
      resolve();
    });
  });
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = (Array.isArray(value) ? value[value.length - 1] : value)?.toString() ?? "";
  }
  return out;
}

function logKafkaJs(logger: Logger, { level, log }: LogEntry): void {
  const { message, ...fields } = log;
  // Said on every connect; the choice is deliberate (see RETRY).
  if (message.startsWith("Limiting retries for the idempotent producer")) return;
  if (level === logLevel.ERROR) logger.error(fields, `kafkajs: ${message}`);
  else if (level === logLevel.WARN) logger.warn(fields, `kafkajs: ${message}`);
  else logger.debug(fields, `kafkajs: ${message}`);
}
