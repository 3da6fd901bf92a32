// In cluster mode the gateway reaches every service through its Dapr sidecar when one runs beside
// it, or directly at <TARGET>_URL: reminders included (the web app sets reminders and preferences).
import { test } from "vitest";
import assert from "node:assert/strict";
import { defineConfig, type Env } from "@taskmesh/kit";
import { gatewayConfig } from "../src/config.js";
import { clusterUpstreams } from "../src/mesh.js";

const transportSchema = defineConfig("mesh-test", { transport: gatewayConfig.pieces.transport });
const upstreamsFrom = (env: Env) => clusterUpstreams(transportSchema.parse(env).transport);

const names = (upstreams: ReturnType<typeof clusterUpstreams>["upstreams"]) => upstreams.flatMap((u) => u.services.map((s) => s.typeName)).sort();

test("beside a sidecar every service is reached through it, with no URL to set", () => {
  const { upstreams, missing } = upstreamsFrom({ DAPR_GRPC_PORT: "50001" });
  assert.deepEqual(missing, []);
  assert.deepEqual(names(upstreams), [
    "taskmesh.audit.v1.AuditService",
    "taskmesh.projects.v1.ProjectService",
    "taskmesh.recurrence.v1.RecurrenceService",
    "taskmesh.reminders.v1.ReminderService",
    "taskmesh.tasks.v1.TaskService",
  ]);
});

test("direct: the services with a URL, the others named as missing", () => {
  const { upstreams, missing } = upstreamsFrom({ TASKMESH_TRANSPORT: "direct", TASKS_URL: "http://tasks:8081", REMINDERS_URL: "http://reminders:8083" });
  assert.deepEqual(names(upstreams), ["taskmesh.projects.v1.ProjectService", "taskmesh.reminders.v1.ReminderService", "taskmesh.tasks.v1.TaskService"]);
  assert.deepEqual(missing.sort(), ["AUDIT_URL", "RECURRENCE_URL"]);
});
