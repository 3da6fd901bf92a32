// An idle Kafka bus leaves the event loop idle: kafkajs 2.2.4's request queue re-armed a 1 ms timer
// after every response for as long as its connection lived (about a thousand callbacks a second per
// broker connection, each warning "TimeoutNegativeWarning" on Node 24), so every service on Kafka
// spent CPU doing nothing. patches/kafkajs+2.2.4.patch stops it; this holds it stopped.
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import { confluentSchemaRegistry, connectKafkaBus, ensureKafkaTopics, registerSchemas, type EventBus } from "../src/index.js";
import { freshTopics, requireEnv, taskEventRecord, waitUntil } from "./fixtures.js";

const brokers = [requireEnv("TASKMESH_TEST_KAFKA_BROKERS")];
const registry = confluentSchemaRegistry(requireEnv("TASKMESH_TEST_SCHEMA_REGISTRY_URL"));
let bus: EventBus | undefined;
afterAll(() => bus?.close());

test("a connected bus that publishes and consumes, then idles, arms a handful of timers a second, not one per millisecond", async () => {
  const topics = freshTopics();
  const schemaIds = await registerSchemas({ registry, topics: topics.table });
  await ensureKafkaTopics({ brokers, topics: topics.table.map((t) => t.topic) });
  bus = await connectKafkaBus({ brokers, schemaIds, topics: topics.table });
  const seen: string[] = [];
  await bus.subscribe({ group: `idle-${topics.taskEvents}`, topics: [topics.taskEvents], handler: async (event) => void seen.push(event.eventId) });
  const record = taskEventRecord(topics.taskEvents, "t1", 1);
  await bus.publish([record]);
  await waitUntil("the event consumed", () => seen.includes(record.eventId));

  const realSetTimeout = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    armed++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  try {
    await new Promise((resolve) => realSetTimeout(resolve, 2_000));
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  // Heartbeats, fetch long-polls and the bus's own timers arm a few dozen in 2 s; the loop armed thousands.
  assert.ok(armed < 200, `${armed} timers armed in 2 s of idling`);
});
