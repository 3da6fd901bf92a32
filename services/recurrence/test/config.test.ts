import { test } from "vitest";
import assert from "node:assert/strict";
import { recurrenceConfig } from "../src/config.js";

test("the recurrence service's settings: no database, the task service through the sidecar or TASKS_URL", () => {
  const config = recurrenceConfig.parse({});
  assert.deepEqual(config.server, { port: 8082, drainDelayMs: 0 });
  assert.deepEqual(config.transport, { mode: "direct", urls: {} });
  assert.deepEqual(recurrenceConfig.parse({ DAPR_GRPC_PORT: "50002" }).transport, { mode: "dapr", daprGrpcPort: 50002 });
});

test("every problem at once, the consumer's need for the task service among them", () => {
  assert.deepEqual(recurrenceConfig.check({ PORT: "-1", KAFKA_BROKERS: "kafka:9092", SCHEMA_REGISTRY_URL: "http://registry:8080", TASKMESH_TRANSPORT: "direct" }).problems, [
    'PORT: expected a TCP port number (0 to 65535), got "-1"',
    "TASKS_URL: not set; the next-occurrence consumer calls the task service (e.g. http://tasks:8080), or run beside a Dapr sidecar",
  ]);
  assert.deepEqual(recurrenceConfig.check({ TASKMESH_TRANSPORT: "grpc", KAFKA_BROKERS: "kafka:9092" }).problems, [
    "SCHEMA_REGISTRY_URL: not set while KAFKA_BROKERS is: set both or neither",
    'TASKMESH_TRANSPORT: expected `dapr` or `direct`, got "grpc"',
  ]);
});
