import { test } from "vitest";
import assert from "node:assert/strict";
import { tasksConfig } from "../src/config.js";

const DAY_MS = 86_400_000;

test("the task service's settings: defaults, and what the variables set", () => {
  const config = tasksConfig.parse({ DATABASE_URL: "postgres://tasks@db:5432/taskmesh" });
  assert.deepEqual(config.server, { port: 8081, drainDelayMs: 0 });
  assert.equal(config.bus, undefined, "events are off without Kafka");
  assert.equal(config.tasks.feedRetentionMs, 30 * DAY_MS);
  assert.equal(config.tasks.pageTokenKey, undefined);
  const set = tasksConfig.parse({
    DATABASE_URL: "postgres://tasks@db:5432/taskmesh",
    PORT: "9000",
    DRAIN_DELAY_MS: "5000",
    KAFKA_BROKERS: "k1:9092, k2:9092",
    SCHEMA_REGISTRY_URL: "http://registry:8080/apis/ccompat/v7",
    TASKMESH_FEED_RETENTION_DAYS: "0.5",
    TASKMESH_PAGE_TOKEN_SECRET: "x".repeat(32),
  });
  assert.deepEqual(set.server, { port: 9000, drainDelayMs: 5000 });
  assert.deepEqual(set.bus, { brokers: ["k1:9092", "k2:9092"], registryUrl: "http://registry:8080/apis/ccompat/v7" });
  assert.equal(set.tasks.feedRetentionMs, DAY_MS / 2);
  assert.equal(set.tasks.pageTokenKey?.length, 32);
});

test("a bad value and a missing required one are listed together; a credential is not repeated", () => {
  assert.deepEqual(tasksConfig.check({ DRAIN_DELAY_MS: "soon", TASKMESH_PAGE_TOKEN_SECRET: "short-secret", SCHEMA_REGISTRY_URL: "registry:8080" }).problems, [
    'DRAIN_DELAY_MS: expected a whole number of milliseconds from 0 to 600000, got "soon"',
    "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
    'SCHEMA_REGISTRY_URL: expected a URL (http or https), e.g. http://host:port, got "registry:8080"',
    "TASKMESH_PAGE_TOKEN_SECRET: expected a random string of at least 32 bytes (e.g. `openssl rand -base64 48`), got another value (a credential: not repeated here)",
  ]);
});
