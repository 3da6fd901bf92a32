// The outbox backlog gauge reports the relays running now, not the first one ever constructed
// (which may be stopped, its database closed).
import { test } from "vitest";
import assert from "node:assert/strict";
import { register } from "prom-client";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createLogger } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { OutboxRelay, startTasksModule } from "../src/index.js";

const logger = createLogger("backlog-metric-test");
// The bus is down: the relay keeps retrying and every event stays in the outbox.
const busDown = { send: async () => Promise.reject(new Error("bus down")) };

async function backlogMetric(): Promise<number> {
  const metric = await register.getSingleMetric("taskmesh_outbox_backlog")!.get();
  return metric.values[0]!.value;
}

test("the backlog gauge sums the outboxes of the relays running now", async () => {
  const first = await freshDatabase();
  const firstTasks = await startTasksModule({ databaseUrl: first.url });
  const firstRelay = new OutboxRelay(firstTasks.db, { send: async () => {} }, logger);
  await firstRelay.start();
  await firstRelay.stop();
  await firstTasks.stop();
  await first.drop();

  const second = await freshDatabase();
  const tasks = await startTasksModule({ databaseUrl: second.url });
  const client = createClient(TaskService, createRouterTransport(tasks.routes));
  for (let i = 0; i < 3; i++) await client.createTask({ title: `t${i}` }, { headers: { "x-user-id": "metric-user" } });
  assert.equal(await backlogMetric(), 0, "no relay running");
  const relay = new OutboxRelay(tasks.db, busDown, logger);
  await relay.start();
  try {
    assert.equal(await backlogMetric(), 6, "three task-events and three task-updates wait");
  } finally {
    await relay.stop();
    await tasks.stop();
    await second.drop();
  }
});
