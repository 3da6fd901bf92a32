// Cluster mode: two gateway replicas in front of one task service on PostgreSQL, whose outbox goes
// to a real Kafka. Each replica consumes task-updates in its own consumer group and delivers to the
// sockets it holds: a change made through replica A reaches the user's socket on replica B.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { ensureKafkaTopics, openKafkaBus, type EventBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { freshDatabase, testKafka } from "@taskmesh/testing";
import { randomBytes } from "node:crypto";
import { hello, LiveClient, startMesh, type TestMesh } from "./fixtures.js";

const logger = createLogger("gateway-replicas-test");
const stops: (() => Promise<void>)[] = [];
let a: TestMesh;
let b: TestMesh;

async function kafkaBus(): Promise<EventBus> {
  const kafka = testKafka();
  await ensureKafkaTopics({ brokers: kafka.brokers });
  const bus = await openKafkaBus(kafka, logger);
  stops.push(() => bus.close());
  return bus;
}

beforeAll(async () => {
  const db = await freshDatabase();
  stops.push(() => db.drop());
  const run = randomBytes(4).toString("hex");
  a = await startMesh({ databaseUrl: db.url, bus: await kafkaBus(), replicaId: `a-${run}` });
  stops.push(() => a.stop());
  b = await startMesh({ databaseUrl: db.url, bus: await kafkaBus(), replicaId: `b-${run}`, tasks: a.tasks });
  stops.push(() => b.stop());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("a change made through replica A reaches the user's sockets on both replicas within a second", async () => {
  const u = await a.user("replicas");
  const onB = await LiveClient.open(b.url, hello(u.token));
  const onA = await LiveClient.open(a.url, hello(u.token));
  await onB.next("ready");
  await onA.next("ready");
  // The first change also waits for the replicas' consumer groups to join.
  await a.taskClient.createTask({ title: "warm-up" }, { headers: u.headers });
  await onB.next("task", 60_000);
  await onA.next("task", 60_000);

  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const sent = Date.now();
    await a.taskClient.createTask({ title: `change ${i}` }, { headers: u.headers });
    const frame = await onB.next("task", 10_000);
    delays.push(Date.now() - sent);
    assert.equal(frame.task?.title, `change ${i}`);
    assert.equal((await onA.next("task", 10_000)).task?.title, `change ${i}`);
  }
  delays.sort((x, y) => x - y);
  logger.info({ delaysMs: delays }, "A → B delivery delays");
  assert.ok(delays[Math.floor(delays.length / 2)]! < 1_000, `median A → B delay under a second: ${delays.join(", ")} ms`);
  assert.deepEqual(
    (await onB.quiet(500)).map((f) => f.case),
    [],
    "each change once",
  );
  onA.close();
  onB.close();
});
