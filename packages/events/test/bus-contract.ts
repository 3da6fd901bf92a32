// The behaviour every EventBus owes its users, run against the Kafka bus and the embedded bus
// (test/kafka-bus.test.ts, test/embedded-bus.test.ts).
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { create, equals, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ReminderEventSchema, TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { randomUUID } from "node:crypto";
import { register } from "prom-client";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { setTracingEnabled } from "@taskmesh/kit";
import { DLQ_HEADERS, deadLetterTopic, type ConsumedEvent, type EventBus, type MessagingSystem, type TopicContract } from "../src/index.js";
import { freshTopics, openEffects, taskEventRecord, waitUntil, type Effects } from "./fixtures.js";

export interface DeadLetter {
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

export interface BusFixture {
  name: string;
  /** What the consumers' spans call it. */
  system: MessagingSystem;
  /** A bus on the fixture's shared store (same Kafka cluster / same database). */
  openBus(topics: TopicContract[]): Promise<EventBus>;
  /** Appends bytes as they are, past the codec: what a foreign or broken producer might write. */
  produceRaw(topics: TopicContract[], topic: string, key: string, value: Uint8Array): Promise<void>;
  deadLetters(topics: TopicContract[], topic: string): Promise<DeadLetter[]>;
  /** Where the consumer's effects (processed_events) live. */
  effectsUrl(): string;
  /** Lets test/consumer-child.ts open the same bus in another process. */
  childEnv(topics: TopicContract[]): Record<string, string>;
}

const CHILD = path.join(import.meta.dirname, "consumer-child.ts");

/** A task event's version, checking on the way that it arrived decoded as a TaskEvent. */
function versionOf(e: ConsumedEvent): number {
  assert.ok(isMessage(e.value, TaskEventSchema));
  return Number(e.value.version);
}

/** The versions each key's events arrived with, in arrival order. */
class VersionsByKey {
  readonly #seen = new Map<string, number[]>();

  add(e: ConsumedEvent): void {
    this.#seen.set(e.key, [...(this.#seen.get(e.key) ?? []), versionOf(e)]);
  }

  get count(): number {
    return [...this.#seen.values()].reduce((n, versions) => n + versions.length, 0);
  }

  /** Every key got versions 1..perKey, in that order. */
  assertInOrder(keys: string[], perKey: number): void {
    for (const k of keys)
      assert.deepEqual(
        this.#seen.get(k),
        Array.from({ length: perKey }, (_, i) => i + 1),
        `order of ${k}`,
      );
  }
}

export function busContract(fixture: BusFixture): void {
  describe(`EventBus contract: ${fixture.name}`, () => {
    let effects: Effects;
    const buses: EventBus[] = [];
    const open = async (topics: TopicContract[]) => {
      const bus = await fixture.openBus(topics);
      buses.push(bus);
      return bus;
    };

    beforeAll(async () => {
      effects = await openEffects(fixture.effectsUrl());
    });
    afterAll(async () => {
      await Promise.all(buses.map((b) => b.close()));
      await effects.close();
    });

    test("round trip: every topic's message arrives decoded, equal, with key and headers", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const taskId = randomUUID();
      const task = create(TaskSchema, { id: taskId, title: "Pay rent", tags: ["home"], version: 3n });
      const taskEvent = create(TaskEventSchema, { eventId: randomUUID(), occurredAt: timestampNow(), userId: "alice", taskId, version: 3n, event: { case: "completed", value: { task } } });
      const reminder = create(ReminderEventSchema, {
        eventId: randomUUID(),
        occurredAt: timestampNow(),
        userId: "alice",
        taskId,
        reminderId: "r1",
        event: { case: "fired", value: { taskTitle: "Pay rent", firedAt: timestampNow() } },
      });
      const update = create(TaskUpdateSchema, { eventId: randomUUID(), userId: "alice", cursor: "42", occurredAt: timestampNow(), change: { case: "upserted", value: task } });
      await bus.publish([
        { topic: t.taskEvents, key: taskId, payload: toBinary(TaskEventSchema, taskEvent), headers: { traceparent: "00-abc-def-01", "event-type": "completed" } },
        { topic: t.reminders, key: taskId, payload: toBinary(ReminderEventSchema, reminder), headers: {} },
        { topic: t.taskUpdates, key: "alice", payload: toBinary(TaskUpdateSchema, update), headers: {} },
      ]);
      const received = new Map<string, ConsumedEvent>();
      const sub = await bus.subscribe({ group: "round-trip", topics: [t.taskEvents, t.reminders, t.taskUpdates], handler: async (e) => void received.set(e.topic, e) });
      await waitUntil("three events", () => received.size === 3);
      await sub.stop();

      const te = received.get(t.taskEvents)!;
      assert.ok(isMessage(te.value, TaskEventSchema) && equals(TaskEventSchema, te.value, taskEvent));
      assert.equal(te.key, taskId);
      assert.equal(te.eventId, taskEvent.eventId);
      assert.equal(te.headers.traceparent, "00-abc-def-01");
      assert.equal(te.headers["event-type"], "completed");
      const re = received.get(t.reminders)!;
      assert.ok(isMessage(re.value, ReminderEventSchema) && equals(ReminderEventSchema, re.value, reminder));
      const tu = received.get(t.taskUpdates)!;
      assert.ok(isMessage(tu.value, TaskUpdateSchema) && equals(TaskUpdateSchema, tu.value, update));
      assert.equal(tu.key, "alice");
    });

    test("with tracing on, a consumer's span continues the producer's trace and names the bus's messaging system", async () => {
      const exporter = new InMemorySpanExporter();
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
      setTracingEnabled(true);
      try {
        const t = freshTopics();
        const bus = await open(t.table);
        assert.equal(bus.system, fixture.system);
        const record = taskEventRecord(t.taskEvents, randomUUID(), 1, { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
        await bus.publish([record]);
        let handled = false;
        const sub = await bus.subscribe({
          group: "traced",
          topics: [t.taskEvents],
          handler: async () => {
            handled = true;
          },
        });
        await waitUntil("the event handled", () => handled);
        await sub.stop();
        const span = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER);
        assert.ok(span, "a CONSUMER span");
        assert.equal(span.attributes["messaging.system"], fixture.system);
        assert.equal(span.spanContext().traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert.equal(span.parentSpanContext?.spanId, "00f067aa0ba902b7");
      } finally {
        setTracingEnabled(false);
        await provider.shutdown();
        trace.disable();
        context.disable();
        propagation.disable();
      }
    });

    test("publishing to a topic without an accepted schema fails before anything is sent", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      await assert.rejects(bus.publish([{ topic: "no-such-topic", key: "k", payload: new Uint8Array(), headers: {} }]), /no registered value schema/);
    });

    test("broadcast: every subscriber gets each event published after it subscribed, none before, and a new one replays nothing", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const before = randomUUID();
      await bus.publish([taskEventRecord(t.taskEvents, before, 1)]);
      const got = { a: [] as string[], b: [] as string[], again: [] as string[] };
      const listen = (into: string[], group: string) => bus.subscribe({ group, delivery: "broadcast", topics: [t.taskEvents], handler: async (e) => void into.push(e.key) });
      const [a, b] = await Promise.all([listen(got.a, "live-a"), listen(got.b, "live-b")]);
      const after = Array.from({ length: 6 }, () => randomUUID());
      await bus.publish(after.map((k) => taskEventRecord(t.taskEvents, k, 1)));
      await waitUntil("both subscribers got every event", () => got.a.length >= after.length && got.b.length >= after.length);
      assert.deepEqual([...got.a].sort(), [...after].sort());
      assert.deepEqual([...got.b].sort(), [...after].sort());
      await a.stop();
      // The same name again, as a restarted replica would use: it starts from now.
      const again = await listen(got.again, "live-a");
      const later = randomUUID();
      await bus.publish([taskEventRecord(t.taskEvents, later, 1)]);
      await waitUntil("the new subscriber got the new event", () => got.again.includes(later));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(got.again, [later]);
      await Promise.all([again.stop(), b.stop()]);
    });

    test("order per key: versions of each task arrive in order", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const keys = Array.from({ length: 12 }, () => randomUUID());
      const perKey = 40;
      for (let v = 1; v <= perKey; v += 10) {
        // Several publish calls in flight at once, as concurrent relays or requests would.
        await Promise.all(keys.map((k) => bus.publish(Array.from({ length: 10 }, (_, i) => taskEventRecord(t.taskEvents, k, v + i)))));
      }
      const seen = new VersionsByKey();
      const sub = await bus.subscribe({ group: "ordering", topics: [t.taskEvents], handler: async (e) => seen.add(e) });
      await waitUntil("all events", () => seen.count >= keys.length * perKey);
      await sub.stop();
      seen.assertInOrder(keys, perKey);
    });

    test("with concurrency, events of different keys overlap and each key's stay in order", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const keys = Array.from({ length: 8 }, () => randomUUID());
      const perKey = 10;
      await bus.publish(Array.from({ length: perKey }, (_, v) => keys.map((k) => taskEventRecord(t.taskEvents, k, v + 1))).flat());
      const seen = new VersionsByKey();
      let inFlight = 0;
      let maxInFlight = 0;
      const sub = await bus.subscribe({
        group: "concurrent",
        topics: [t.taskEvents],
        concurrency: 8,
        handler: async (e) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
          seen.add(e);
          inFlight--;
        },
      });
      await waitUntil("all events", () => seen.count >= keys.length * perKey);
      await sub.stop();
      seen.assertInOrder(keys, perKey);
      assert.ok(maxInFlight > 1, `events overlapped (at most ${maxInFlight} at once)`);
    });

    test("a batch handler gets runs of events decoded, each once, in order per key; the one-by-one handler is not called", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const keys = [randomUUID(), randomUUID()];
      const perKey = 10;
      await bus.publish(Array.from({ length: perKey }, (_, v) => keys.map((k) => taskEventRecord(t.taskEvents, k, v + 1))).flat());
      const seen = new VersionsByKey();
      const sizes: number[] = [];
      const sub = await bus.subscribe({
        group: "batched",
        topics: [t.taskEvents],
        handleBatch: async (events) => {
          sizes.push(events.length);
          for (const e of events) seen.add(e);
        },
        handler: async () => {
          throw new Error("the one-by-one path is for a batch that failed");
        },
      });
      await waitUntil("all events", () => sizes.reduce((n, size) => n + size, 0) >= keys.length * perKey);
      await sub.stop();
      seen.assertInOrder(keys, perKey);
      assert.ok(Math.max(...sizes) > 1, `events came in runs (sizes ${sizes.join(", ")})`);
    });

    test("a batch handler that throws hands the run to the handler one event at a time: only the bad event is dead-lettered", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const key = randomUUID();
      const bad = taskEventRecord(t.taskEvents, key, 2);
      const badId = bad.eventId;
      await bus.publish([taskEventRecord(t.taskEvents, key, 1), bad, taskEventRecord(t.taskEvents, key, 3)]);
      const handled: number[] = [];
      let batchCalls = 0;
      const sub = await bus.subscribe({
        group: "batch-fallback",
        topics: [t.taskEvents],
        retries: 1,
        initialBackoffMs: 5,
        handleBatch: async (events) => {
          batchCalls++;
          if (events.some((e) => e.eventId === badId)) throw new Error("a run with the bad event fails as a whole");
          for (const e of events) handled.push(versionOf(e));
        },
        handler: async (e) => {
          if (e.eventId === badId) throw new Error("handler cannot apply this event");
          handled.push(versionOf(e));
        },
      });
      await waitUntil("the events around the bad one", () => handled.length === 2);
      await waitUntil("its dead letter", async () => (await fixture.deadLetters(t.table, t.taskEvents)).length === 1);
      await sub.stop();
      assert.deepEqual(handled, [1, 3]);
      assert.ok(batchCalls >= 1);
      const [letter] = await fixture.deadLetters(t.table, t.taskEvents);
      assert.match(letter!.headers[DLQ_HEADERS.error]!, /handler cannot apply this event/);
    });

    test("a redelivered event is applied once (its id claimed with its effect)", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const records = Array.from({ length: 20 }, (_, i) => taskEventRecord(t.taskEvents, randomUUID(), i + 1));
      await bus.publish(records);
      const before = await effects.counts();
      const deliveries = new Map<string, number>();
      const sub = await bus.subscribe({
        group: "redelivery",
        topics: [t.taskEvents],
        initialBackoffMs: 5,
        handler: async (e) => {
          const n = (deliveries.get(e.eventId) ?? 0) + 1;
          deliveries.set(e.eventId, n);
          await effects.applyOnce(e);
          // The work committed but the acknowledgement is lost: the bus must deliver it again.
          if (n === 1) throw new Error("ack lost");
        },
      });
      await waitUntil("every event delivered twice", () => records.every((r) => deliveries.get(r.eventId) === 2));
      await sub.stop();
      const afterCounts = await effects.counts();
      assert.equal(afterCounts.rows - before.rows, 20);
      assert.equal(afterCounts.distinct - before.distinct, 20);
    });

    test("poison messages go to <topic>.dlq with the error; the next ones still flow", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const key = randomUUID();
      const failing = taskEventRecord(t.taskEvents, key, 2);
      await bus.publish([taskEventRecord(t.taskEvents, key, 1)]);
      await fixture.produceRaw(t.table, t.taskEvents, key, Uint8Array.of(7, 7, 7, 7, 7, 7, 7));
      await bus.publish([failing, taskEventRecord(t.taskEvents, key, 3), taskEventRecord(t.taskEvents, key, 4)]);
      const handled: number[] = [];
      let attempts = 0;
      const sub = await bus.subscribe({
        group: "poison",
        topics: [t.taskEvents],
        retries: 2,
        initialBackoffMs: 5,
        handler: async (e) => {
          if (e.eventId === failing.eventId) {
            attempts++;
            throw new Error("handler cannot apply this event");
          }
          handled.push(versionOf(e));
        },
      });
      await waitUntil("the events after the poison ones", () => handled.length === 3);
      await waitUntil("two dead letters", async () => (await fixture.deadLetters(t.table, t.taskEvents)).length === 2);
      await sub.stop();
      assert.deepEqual(handled, [1, 3, 4]);
      assert.equal(attempts, 3, "first attempt + 2 retries");

      const letters = await fixture.deadLetters(t.table, t.taskEvents);
      const undecodable = letters.find((l) => l.value[0] === 7)!;
      assert.match(undecodable.headers[DLQ_HEADERS.error]!, /magic byte/);
      assert.equal(undecodable.headers[DLQ_HEADERS.originalTopic], t.taskEvents);
      assert.equal(undecodable.headers[DLQ_HEADERS.attempts], "0");
      assert.ok(undecodable.headers[DLQ_HEADERS.originalOffset]);
      assert.ok(undecodable.headers[DLQ_HEADERS.originalPartition]);
      const failed = letters.find((l) => l !== undecodable)!;
      assert.match(failed.headers[DLQ_HEADERS.error]!, /handler cannot apply this event/);
      assert.equal(failed.headers[DLQ_HEADERS.attempts], "3");
      assert.equal(failed.headers[DLQ_HEADERS.group], "poison");
      assert.equal(failed.headers["event-type"], "updated", "original headers kept");
      assert.equal(failed.key, key);
      // The raw message is parked as it was: still framed, still decodable by a repair tool.
      const { decodeFrame } = await import("../src/index.js");
      assert.equal(fromBinary(TaskEventSchema, decodeFrame(failed.value).payload).eventId, failing.eventId);
      assert.equal(deadLetterTopic(t.taskEvents), `${t.taskEvents}.dlq`);

      const metric = async (name: string) => (await register.getSingleMetric(name)!.get()).values.filter((v) => v.labels.group === "poison" && v.labels.topic === t.taskEvents);
      assert.equal(
        (await metric("taskmesh_events_dead_lettered_total")).reduce((n, v) => n + v.value, 0),
        2,
      );
      assert.equal(
        (await metric("taskmesh_events_consumed_total")).reduce((n, v) => n + v.value, 0),
        3,
      );
      assert.ok((await metric("taskmesh_events_consumer_lag")).length > 0, "lag per partition is reported");
    });

    test("a handler failing while something it needs is unreachable is retried past the limit, never dead-lettered", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const record = taskEventRecord(t.taskEvents, randomUUID(), 1);
      await bus.publish([record]);
      // An outage outlasting the retries: the database is down, restarts, then drops a connection.
      const outage = [
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
        Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
        new Error("Connection terminated unexpectedly"),
      ];
      let attempts = 0;
      const sub = await bus.subscribe({
        group: "outage",
        topics: [t.taskEvents],
        retries: 1,
        initialBackoffMs: 5,
        maxBackoffMs: 20,
        handler: async () => {
          const failure = outage[attempts++];
          if (failure) throw failure;
        },
      });
      await waitUntil("handled once the outage is over", () => attempts === outage.length + 1);
      await sub.stop();
      assert.deepEqual(await fixture.deadLetters(t.table, t.taskEvents), []);
    });

    test("a consumer killed mid-batch (SIGKILL) and restarted loses nothing and applies nothing twice", async () => {
      const t = freshTopics();
      const bus = await open(t.table);
      const total = 300;
      const records = Array.from({ length: total }, (_, i) => taskEventRecord(t.taskEvents, `task-${i % 7}`, i + 1));
      await bus.publish(records);
      const before = await effects.counts();
      const ids = new Set(records.map((r) => r.eventId));

      // This process lets go of its buses and the effects database while the child consumes, and
      // opens both again afterwards, as a restarted consumer would.
      await Promise.all(buses.splice(0).map((b) => b.close()));
      await effects.close();
      const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
        env: { ...process.env, ...fixture.childEnv(t.table), CHILD_TOPIC: t.taskEvents, CHILD_GROUP: "crash", EFFECTS_URL: fixture.effectsUrl() },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let applied = 0;
      child.stdout.on("data", (chunk: Buffer) => (applied += (chunk.toString().match(/applied/g) ?? []).length));
      const exited = new Promise((resolve) => child.on("exit", resolve));
      await waitUntil("the child to apply some events", () => applied >= 40, 60_000);
      child.kill("SIGKILL");
      await exited;
      assert.ok(applied < total, "killed before the end");

      effects = await openEffects(fixture.effectsUrl());
      const restarted = await fixture.openBus(t.table);
      buses.push(restarted);
      const sub = await restarted.subscribe({ group: "crash", topics: [t.taskEvents], handler: async (e) => void (await effects.applyOnce(e)) });
      await waitUntil("all events applied", async () => (await effects.counts()).distinct - before.distinct >= total, 60_000);
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      const counts = await effects.counts();
      assert.equal(counts.distinct - before.distinct, total, "nothing lost");
      assert.equal(counts.rows - before.rows, total, "nothing applied twice");
      const [row] = await effects.db.query<{ n: number }>(effects.db.em(), `SELECT count(*)::int AS n FROM contract_consumer.applied WHERE event_id = ANY($1)`, [[...ids]]);
      assert.equal(row!.n, total);
    });
  });
}
