import { test } from "vitest";
import assert from "node:assert/strict";
import { auditConfig } from "../src/config.js";

const database = { DATABASE_URL: "postgres://audit@db:5432/taskmesh" };

test("AUDIT_RETENTION_DAYS: unset is the default, whole days are taken, anything else is refused with the rule", () => {
  assert.equal(auditConfig.parse(database).audit.retentionDays, 90);
  assert.equal(auditConfig.parse({ ...database, AUDIT_RETENTION_DAYS: "" }).audit.retentionDays, 90);
  assert.equal(auditConfig.parse({ ...database, AUDIT_RETENTION_DAYS: "30" }).audit.retentionDays, 30);
  for (const bad of ["0", "-5", "1.5", "ninety", "36501"]) {
    assert.deepEqual(auditConfig.check({ ...database, AUDIT_RETENTION_DAYS: bad }).problems, [`AUDIT_RETENTION_DAYS: expected a whole number of days from 1 to 36500, got "${bad}"`]);
  }
});

test("a bad value and a missing required one are listed together, each with what it expects", () => {
  assert.deepEqual(auditConfig.check({ PORT: "80a", AUDIT_RETENTION_DAYS: "ninety", KAFKA_BROKERS: "kafka:9092" }).problems, [
    'PORT: expected a TCP port number (0 to 65535), got "80a"',
    "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
    "SCHEMA_REGISTRY_URL: not set while KAFKA_BROKERS is: set both or neither",
    'AUDIT_RETENTION_DAYS: expected a whole number of days from 1 to 36500, got "ninety"',
  ]);
});

test("with a Dapr sidecar the task service is reached through it, else at TASKS_URL", () => {
  assert.deepEqual(auditConfig.parse({ ...database, DAPR_GRPC_PORT: "50001" }).transport, { mode: "dapr", daprGrpcPort: 50001 });
  assert.deepEqual(auditConfig.parse({ ...database, TASKS_URL: "http://tasks:8081" }).transport, { mode: "direct", urls: { tasks: "http://tasks:8081" } });
});
