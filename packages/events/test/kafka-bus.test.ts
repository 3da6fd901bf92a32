// The Kafka bus against real Kafka and the real registry (Apicurio, Confluent API): the bus
// contract, a broker restart mid-stream, schema registration and evolution.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import type { Logger } from "@taskmesh/kit";
import { freshDatabase } from "@taskmesh/testing";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { freePorts, startKafka, startToxiproxy } from "@taskmesh/testing/infra";
import { recordingLogger } from "@taskmesh/testing/logs";
import { confluentSchemaRegistry, connectKafkaBus, deadLetterTopic, ensureKafkaTopics, registerSchemas, SchemaRefusedError, type EventBus, type TopicContract } from "../src/index.js";
import { busContract, type DeadLetter } from "./bus-contract.js";
import { freshTopics, requireEnv, taskEventRecord, topicTableToEnv, versionOf, waitUntil } from "./fixtures.js";

const brokers = [requireEnv("TASKMESH_TEST_KAFKA_BROKERS")];
const registryUrl = requireEnv("TASKMESH_TEST_SCHEMA_REGISTRY_URL");
const registry = confluentSchemaRegistry(registryUrl);
const SESSION_TIMEOUT_MS = 6_000;
const repoRoot = path.resolve(import.meta.dirname, "../../..");

async function openKafkaBus(topics: TopicContract[], brokerList = brokers, logger?: Logger): Promise<EventBus> {
  const schemaIds = await registerSchemas({ registry, topics });
  await ensureKafkaTopics({ brokers: brokerList, topics: topics.map((t) => t.topic) });
  return connectKafkaBus({ brokers: brokerList, schemaIds, topics, sessionTimeoutMs: SESSION_TIMEOUT_MS, logger });
}

const kafka = new Kafka({ brokers, clientId: "events-test", logLevel: logLevel.NOTHING });
const rawProducer = kafka.producer();
const dlqReaders = new Map<string, { consumer: Consumer; letters: DeadLetter[] }>();
const effectsDb = await freshDatabase();
beforeAll(() => rawProducer.connect());
afterAll(async () => {
  await rawProducer.disconnect();
  await Promise.all([...dlqReaders.values()].map((r) => r.consumer.disconnect()));
  await effectsDb.drop();
});

busContract({
  name: "Kafka bus",
  system: "kafka",
  openBus: (topics) => openKafkaBus(topics),
  async produceRaw(_topics, topic, key, value) {
    await rawProducer.send({ topic, acks: -1, messages: [{ key, value: Buffer.from(value) }] });
  },
  async deadLetters(_topics, topic) {
    const dlq = deadLetterTopic(topic);
    let reader = dlqReaders.get(dlq);
    if (!reader) {
      const consumer = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
      const letters: DeadLetter[] = [];
      reader = { consumer, letters };
      dlqReaders.set(dlq, reader);
      await consumer.connect();
      await consumer.subscribe({ topic: dlq, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          letters.push({ key: message.key?.toString() ?? "", value: new Uint8Array(message.value!), headers });
        },
      });
    }
    return [...reader.letters];
  },
  effectsUrl: () => effectsDb.url,
  childEnv: (topics) => ({
    CHILD_BUS: "kafka",
    CHILD_BROKERS: brokers[0]!,
    CHILD_REGISTRY: registryUrl,
    CHILD_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    CHILD_TOPICS: topicTableToEnv(topics),
  }),
});

describe("Kafka bus: subscriptions", () => {
  test("what was handled just before traffic stops is committed: the group's lag reaches 0", async () => {
    const t = freshTopics();
    const bus = await openKafkaBus(t.table);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const seen: string[] = [];
      const sub = await bus.subscribe({ group: "quiet", topics: [t.taskEvents], handler: async (e) => void seen.push(e.key) });
      // Two bursts closer together than the commit interval: the second one's offsets are the last ones.
      await bus.publish(Array.from({ length: 5 }, () => taskEventRecord(t.taskEvents, randomUUID(), 1)));
      await waitUntil("the first burst", () => seen.length >= 5);
      await bus.publish(Array.from({ length: 5 }, () => taskEventRecord(t.taskEvents, randomUUID(), 1)));
      await waitUntil("the second burst", () => seen.length >= 10);
      const ends = new Map((await admin.fetchTopicOffsets(t.taskEvents)).map((p) => [p.partition, p.high]));
      await waitUntil(
        "committed offsets at the end of every partition",
        async () => (await admin.fetchOffsets({ groupId: "quiet", topics: [t.taskEvents] }))[0]!.partitions.every((p) => p.offset === (ends.get(p.partition) === "0" ? "-1" : ends.get(p.partition))),
        5_000,
      );
      await sub.stop();
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  });

  test("subscribe waits for topics created after it started (Topic Operator, kafka-topics Job)", { timeout: 60_000 }, async () => {
    const t = freshTopics();
    const bus = await connectKafkaBus({ brokers, schemaIds: await registerSchemas({ registry, topics: t.table }), topics: t.table, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    try {
      const keys: string[] = [];
      let subscribed = false;
      const subscribing = bus.subscribe({ group: "late-topic", topics: [t.taskEvents], handler: async (e) => void keys.push(e.key) }).then((sub) => {
        subscribed = true;
        return sub;
      });
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(subscribed, false, "still waiting: the topic does not exist");
      await ensureKafkaTopics({ brokers, topics: [t.taskEvents] });
      const sub = await subscribing;
      const key = randomUUID();
      await bus.publish([taskEventRecord(t.taskEvents, key, 1)]);
      await waitUntil("the event on the late topic", () => keys.includes(key));
      await sub.stop();
    } finally {
      await bus.close();
    }
  });

  test("read from the end, never commit, and leave no consumer group behind", async () => {
    const t = freshTopics();
    const bus = await openKafkaBus(t.table);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await bus.publish([taskEventRecord(t.taskEvents, randomUUID(), 1)]);
      const group = `live-${randomUUID()}`;
      const keys: string[] = [];
      const sub = await bus.subscribe({ group, delivery: "broadcast", topics: [t.taskEvents], handler: async (e) => void keys.push(e.key) });
      const key = randomUUID();
      await bus.publish([taskEventRecord(t.taskEvents, key, 1)]);
      await waitUntil("the event published after subscribing", () => keys.includes(key));
      assert.deepEqual(keys, [key]);
      // One group per subscription, named after the one asked for: a restart never waits on an earlier start's member.
      const ours = async () => (await admin.listGroups()).groups.filter((g) => g.groupId.startsWith(`${group}.`)).map((g) => g.groupId);
      const [groupId, ...others] = await ours();
      assert.ok(groupId && others.length === 0, "the subscription's group exists while subscribed");
      await new Promise((r) => setTimeout(r, 700)); // past the commit interval: a shared group would have committed by now
      const offsets = await admin.fetchOffsets({ groupId, topics: [t.taskEvents] });
      assert.ok(
        offsets.every((o) => o.partitions.every((p) => p.offset === "-1")),
        `no committed offsets: ${JSON.stringify(offsets)}`,
      );
      const second = await bus.subscribe({ group, delivery: "broadcast", topics: [t.taskEvents], handler: async () => {} });
      assert.equal((await ours()).length, 2, "a second subscriber of the same name has a group of its own");
      await second.stop();
      await sub.stop();
      assert.deepEqual(await ours(), [], "the groups are gone after stop");
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  });
});

// One broker of their own for both (a start is ~20 s): killed and restarted by the first test, reached
// through a Toxiproxy link that the second cuts (its extra listener advertises the proxy's port).
describe("Kafka bus against its own broker", () => {
  let own: Awaited<ReturnType<typeof startKafka>>;
  let toxiproxy: Awaited<ReturnType<typeof startToxiproxy>>;
  let proxyPort: number;
  beforeAll(async () => {
    const [listenerPort, port] = (await freePorts(2)) as [number, number];
    proxyPort = port;
    toxiproxy = await startToxiproxy();
    own = await startKafka({ listeners: [{ name: "PROXIED", port: listenerPort, advertised: `127.0.0.1:${proxyPort}` }] });
    await toxiproxy.create("broker", `127.0.0.1:${listenerPort}`, proxyPort);
  });
  afterAll(async () => {
    await own?.stop();
    await toxiproxy?.stop();
  });

  test("a broker killed and restarted mid-stream: a shared group and a broadcast subscriber lose nothing and keep order per key", { timeout: 240_000 }, async () => {
    const t = freshTopics();
    let bus: EventBus | undefined;
    try {
      bus = await openKafkaBus(t.table, [own.bootstrap]);
      const keys = Array.from({ length: 10 }, () => randomUUID());
      const total = 3_000;
      const firstSeen = new Map<string, number[]>();
      const delivered = new Set<string>();
      const sub = await bus.subscribe({
        group: "restart",
        topics: [t.taskEvents],
        handler: async (e) => {
          if (delivered.has(e.eventId)) return;
          delivered.add(e.eventId);
          firstSeen.set(e.key, [...(firstSeen.get(e.key) ?? []), versionOf(e.value)]);
        },
      });
      // A live-sync subscriber: it commits nothing, yet gets everything published after it joined.
      const broadcastSeen = new Set<string>();
      const live = await bus.subscribe({ group: `live-${randomUUID()}`, delivery: "broadcast", topics: [t.taskEvents], handler: async (e) => void broadcastSeen.add(e.eventId) });
      let published = 0;
      let failedPublishes = 0;
      const publishing = (async () => {
        for (let v = 1; published < total; v++) {
          const batch = keys.map((k) => taskEventRecord(t.taskEvents, k, v));
          // As the outbox relay does: a batch that was not confirmed is sent again.
          for (;;) {
            try {
              await bus!.publish(batch);
              break;
            } catch {
              failedPublishes++;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
          published += batch.length;
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await waitUntil("a third published", () => published >= total / 3, 60_000);
      await own.restart({ signal: "SIGKILL" });
      await publishing;
      await waitUntil("every event delivered", () => delivered.size >= total, 120_000);
      await sub.stop();
      assert.equal(delivered.size, total);
      await waitUntil("every event delivered to the broadcast subscriber", () => broadcastSeen.size >= total, 60_000).catch(() => undefined);
      await live.stop();
      assert.deepEqual([...delivered].filter((id) => !broadcastSeen.has(id)).length, 0, "events the broadcast subscriber missed");
      for (const k of keys)
        assert.deepEqual(
          firstSeen.get(k),
          Array.from({ length: total / keys.length }, (_, i) => i + 1),
          `order of ${k}`,
        );
      console.log(`broker restart: ${failedPublishes} publish calls failed and were retried by the caller`);
    } finally {
      await bus?.close();
    }
  });

  test("behind a link that goes down: a broadcast subscriber cut off until kafkajs restarts its consumer gets, once back, what was published meanwhile", { timeout: 300_000 }, async () => {
    const t = freshTopics();
    const buses: EventBus[] = [];
    try {
      const direct = await openKafkaBus(t.table, [own.bootstrap]);
      const { lines, logger } = recordingLogger();
      const cutOff = await openKafkaBus(t.table, [`127.0.0.1:${proxyPort}`], logger);
      buses.push(direct, cutOff);
      const seen = new Set<string>();
      const live = await cutOff.subscribe({ group: `live-${randomUUID()}`, delivery: "broadcast", topics: [t.taskEvents], handler: async (e) => void seen.add(e.eventId) });
      const first = taskEventRecord(t.taskEvents, randomUUID(), 1);
      await direct.publish([first]);
      await waitUntil("the first event", () => seen.has(first.eventId), 30_000);

      await toxiproxy.setEnabled("broker", false);
      const cutAt = lines.length;
      const meanwhile = Array.from({ length: 20 }, () => taskEventRecord(t.taskEvents, randomUUID(), 1));
      await direct.publish(meanwhile);
      // The link stays down until kafkajs's retries (RETRY in kafka-bus.ts, ~30 s) run out and its
      // consumer crashes, to be restarted by kafkajs or the bus: the restart is what is tested.
      await waitUntil("the cut-off consumer to crash", () => lines.slice(cutAt).some((l) => l.msg?.startsWith("kafkajs: Crash")), 120_000);
      await toxiproxy.setEnabled("broker", true);
      const last = taskEventRecord(t.taskEvents, randomUUID(), 1);
      await direct.publish([last]);
      await waitUntil("the event published once the link was back", () => seen.has(last.eventId), 120_000);
      await live.stop();
      assert.deepEqual(meanwhile.filter((r) => !seen.has(r.eventId)).length, 0, "events published while cut off, never delivered");
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });
});

describe("schema registration (Apicurio, Confluent API)", () => {
  test("each topic's value schema is under <topic>-value with its imports as references, BACKWARD", async () => {
    const t = freshTopics();
    const ids = await registerSchemas({ registry, topics: t.table });
    assert.equal(ids.size, 3);
    const get = async (p: string) => {
      const res = await fetch(`${registryUrl}${p}`);
      assert.equal(res.status, 200, p);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const latest = await get(`/subjects/${encodeURIComponent(`${t.taskEvents}-value`)}/versions/latest`);
    assert.equal(latest.schemaType, "PROTOBUF");
    assert.equal(latest.id, ids.get(t.taskEvents));
    assert.equal(latest.schema, readFileSync(path.join(repoRoot, "proto/taskmesh/events/v1/events.proto"), "utf8"));
    const refs = (latest.references as { name: string; subject: string }[]).map((r) => r.name).sort();
    assert.deepEqual(refs, ["buf/validate/validate.proto", "taskmesh/tasks/v1/task.proto"], "google/protobuf well-known types are not references");
    const task = await get(`/subjects/${encodeURIComponent("taskmesh/tasks/v1/task.proto")}/versions/latest`);
    assert.deepEqual(
      (task.references as { name: string }[]).map((r) => r.name),
      ["buf/validate/validate.proto"],
    );
    for (const subject of [`${t.taskEvents}-value`, `${t.reminders}-value`, "taskmesh/tasks/v1/task.proto", "buf/validate/validate.proto"]) {
      assert.equal((await get(`/config/${encodeURIComponent(subject)}`)).compatibilityLevel, "BACKWARD", subject);
    }
    // Registering again is idempotent: same ids.
    assert.deepEqual(await registerSchemas({ registry, topics: t.table }), ids);
  });

  describe("evolution of events.proto: checked by the registry (BACKWARD) and by buf breaking", () => {
    const original = mkdtempSync(path.join(tmpdir(), "taskmesh-proto-original-"));
    for (const part of ["buf.yaml", "proto", "third_party"]) cpSync(path.join(repoRoot, part), path.join(original, part), { recursive: true });
    afterAll(() => rmSync(original, { recursive: true, force: true }));

    const cases = [
      // Numbers no field of TaskEvent uses (8 and 9 are project_id and actor_id, 10-14 the events).
      { change: "adding a field", from: "string device = 7;", to: "string device = 7;\n  string client_version = 20;", accepted: true },
      { change: "removing a field", from: "  string device = 7;\n", to: "", accepted: false },
      { change: "renumbering a field", from: "string device = 7;", to: "string device = 21;", accepted: false },
    ];
    for (const c of cases) {
      test(`${c.change} is ${c.accepted ? "accepted" : "refused"}`, async () => {
        const changed = mkdtempSync(path.join(tmpdir(), "taskmesh-proto-changed-"));
        try {
          cpSync(original, changed, { recursive: true });
          const file = path.join(changed, "proto/taskmesh/events/v1/events.proto");
          const text = readFileSync(file, "utf8");
          assert.ok(text.includes(c.from));
          writeFileSync(file, text.replace(c.from, c.to));

          const topics = [{ topic: `evo-${randomUUID().slice(0, 8)}`, message: TaskEventSchema }];
          const [firstId] = (await registerSchemas({ registry, topics })).values();
          const evolved = registerSchemas({ registry, topics, protoRoots: [path.join(changed, "proto"), path.join(changed, "third_party/protovalidate")] });
          if (c.accepted) assert.notEqual([...(await evolved).values()][0], firstId, "a new version");
          else await assert.rejects(evolved, (err: unknown) => err instanceof SchemaRefusedError && /evo-.*-value/.test(err.message) && err.status === 409);

          const buf = spawnSync(path.join(repoRoot, "node_modules/.bin/buf"), ["breaking", changed, "--against", original], { encoding: "utf8" });
          assert.equal(buf.status === 0, c.accepted, `buf breaking: ${buf.stdout}${buf.stderr}`);
        } finally {
          rmSync(changed, { recursive: true, force: true });
        }
      });
    }
  });
});
