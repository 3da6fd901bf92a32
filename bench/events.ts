// Event bus benchmark: outbox-shaped TaskEvent records through publish → consume → commit.
//   npm run bench -- events [kafka|embedded]
// Throughput: as many events as the bus takes, published in relay-sized batches (500) with a few
// batches in flight, until the consumer group has handled and committed all of them.
// Latency: a fixed 1,000 events/s, time from publish() to the handler, p50/p99.
// Kafka (KRaft, 3 partitions) and Apicurio are started here; the embedded bus runs on a PostgreSQL
// server of its own, as in the embedded app. Benchmark, broker, registry and database share the
// machine's cores.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { CompressionTypes } from "kafkajs";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { Priority, TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { createLogger } from "@taskmesh/kit";
import { confluentSchemaRegistry, connectKafkaBus, ensureKafkaTopics, openEmbeddedBus, registerSchemas, type EventBus, type EventRecord, type TopicContract } from "@taskmesh/events";
import { startApicurio } from "@taskmesh/infra/apicurio";
import { startKafka } from "@taskmesh/infra/kafka";
import { benchDatabase, mb, row, summarize } from "./lib.js";

const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const LATENCY_RATE = 1_000;
const LATENCY_SECONDS = 10;
process.env.LOG_LEVEL ??= "error";
const quiet = createLogger("bench-events");

function outboxRecord(topic: string, taskId: string, version: number): EventRecord & { eventId: string } {
  // A TaskUpdated with before/after snapshots, as the task service writes it: ~400 bytes.
  const snapshot = (title: string) =>
    create(TaskSchema, { id: taskId, title, notes: "call before noon, bring the contract", priority: Priority.HIGH, tags: ["home", "finance"], version: BigInt(version), timeZone: "Europe/Berlin" });
  const event = create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampNow(),
    userId: "bench-user",
    taskId,
    version: BigInt(version),
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    device: "bench",
    event: { case: "updated", value: { before: snapshot("Pay rent"), after: snapshot("Pay rent today"), changedFields: ["title"] } },
  });
  return { topic, key: taskId, payload: toBinary(TaskEventSchema, event), headers: { "event-type": "updated", traceparent: event.traceparent }, eventId: event.eventId };
}

async function throughput(label: string, bus: EventBus, topic: string, total: number): Promise<void> {
  const keys = Array.from({ length: 1_000 }, () => randomUUID());
  // Encoding 200,000 distinct events would take longer than sending them: a pool of distinct
  // records is cycled (the handler only counts, so repeated event ids do not matter here).
  const pool = Array.from({ length: 5_000 }, (_, i) => outboxRecord(topic, keys[i % keys.length]!, Math.floor(i / keys.length) + 1));
  const records = Array.from({ length: total }, (_, i) => pool[i % pool.length]!);
  const rate = (n: number, from: number, to: number) => `${((n / (to - from)) * 1000).toFixed(0).padStart(7)}/s`;

  // Publishing and consuming at once, as in production: the figure that counts.
  const t0 = performance.now();
  const sub = await consumeAll(bus, topic, total);
  await publishAll(bus, records);
  const published = performance.now();
  await sub.done;
  const end = performance.now();
  console.log(`${label.padEnd(48)} ${rate(total, t0, end)} end to end (publish ${rate(total, t0, published).trim()} meanwhile)  n=${total}  RSS ${mb(process.memoryUsage().rss)}`);

  // Each side alone, for where the time goes: a backlog published with no consumer, then drained.
  const t1 = performance.now();
  await publishAll(bus, records);
  const t2 = performance.now();
  const drain = await consumeAll(bus, topic, total * 2);
  await drain.done;
  const t3 = performance.now();
  console.log(`${"  publish only / consume a backlog only".padEnd(48)} ${rate(total, t1, t2)} / ${rate(total * 2, t2, t3).trim()} (incl. group join)`);
}

async function publishAll(bus: EventBus, records: EventRecord[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < records.length) {
        const start = next;
        next += BATCH;
        await bus.publish(records.slice(start, start + BATCH));
      }
    }),
  );
}

/** A new group from the beginning of the topic; `done` once `total` events were handled and committed. */
async function consumeAll(bus: EventBus, topic: string, total: number): Promise<{ done: Promise<void> }> {
  let consumed = 0;
  let allConsumed!: () => void;
  const handled = new Promise<void>((resolve) => (allConsumed = resolve));
  const sub = await bus.subscribe({
    group: `bench-${randomUUID()}`,
    topics: [topic],
    handler: async () => {
      if (++consumed === total) allConsumed();
    },
  });
  return { done: handled.then(() => sub.stop()) };
}

async function latency(label: string, bus: EventBus, topic: string): Promise<void> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const sub = await bus.subscribe({
    group: `bench-${randomUUID()}`,
    topics: [topic],
    handler: async (e) => {
      const t = sentAt.get(e.eventId);
      if (t !== undefined) latencies.push(performance.now() - t);
    },
  });
  // Ticks of 10 ms, 10 events each, scheduled against the clock so slow ticks do not lower the rate.
  const keys = Array.from({ length: 200 }, () => randomUUID());
  const t0 = performance.now();
  const publishes: Promise<void>[] = [];
  for (let tick = 0, sent = 0; sent < total; tick++) {
    const due = t0 + tick * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = Array.from({ length: LATENCY_RATE / 100 }, (_, i) => outboxRecord(topic, keys[(sent + i) % keys.length]!, sent + i + 1));
    const now = performance.now();
    for (const r of batch) sentAt.set(r.eventId, now);
    publishes.push(bus.publish(batch));
    sent += batch.length;
  }
  await Promise.all(publishes);
  const deadline = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  await sub.stop();
  console.log(`${row(label, summarize(latencies, seconds, total - latencies.length))}  RSS ${mb(process.memoryUsage().rss)}`);
}

async function benchKafka(): Promise<void> {
  console.log("\n## Kafka (KRaft, 3 partitions, acks=all, idempotent producer) + Apicurio Registry");
  const [kafka, registry] = await Promise.all([startKafka(), startApicurio()]);
  try {
    const topics: TopicContract[] = [
      { topic: "bench-throughput", message: TaskEventSchema },
      { topic: "bench-latency", message: TaskEventSchema },
    ];
    const schemaIds = await registerSchemas({ registry: confluentSchemaRegistry(registry.ccompatUrl), topics });
    await ensureKafkaTopics({ brokers: [kafka.bootstrap], topics: topics.map((t) => t.topic), partitions: 3 });
    const compression = process.env.BENCH_GZIP ? CompressionTypes.GZIP : CompressionTypes.None;
    const bus = await connectKafkaBus({ brokers: [kafka.bootstrap], schemaIds, topics, logger: quiet, compression });
    try {
      await throughput("Kafka: publish → consume → commit", bus, "bench-throughput", 200_000);
      await latency(`Kafka: end-to-end latency at ${LATENCY_RATE}/s`, bus, "bench-latency");
    } finally {
      await bus.close();
    }
  } finally {
    await Promise.all([kafka.stop(), registry.stop()]);
  }
}

async function benchEmbedded(): Promise<void> {
  console.log("\n## Embedded bus (event log on PostgreSQL, LISTEN/NOTIFY wake-ups)");
  const { url, cleanup } = await benchDatabase();
  const topics: TopicContract[] = [
    { topic: "bench-throughput", message: TaskEventSchema },
    { topic: "bench-latency", message: TaskEventSchema },
  ];
  try {
    const bus = await openEmbeddedBus({ url, topics, logger: quiet });
    try {
      await throughput("embedded (PostgreSQL): publish → consume → commit", bus, "bench-throughput", 30_000);
      await latency(`embedded (PostgreSQL): end-to-end latency at ${LATENCY_RATE}/s`, bus, "bench-latency");
    } finally {
      await bus.close();
    }
  } finally {
    await cleanup();
  }
}

const which = process.argv[2];
if (!which || which === "kafka") await benchKafka();
if (!which || which === "embedded") await benchEmbedded();
