// The embedded app as `npm start` runs it, through the gateway: an UpdateTask over the RPC shows up
// in ListActivity with the fields before and after, and the entry's undo reverts it.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind, type ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig } from "../src/config.js";
import { startEmbeddedApp, type EmbeddedApp } from "../src/embedded.js";

const me = { headers: { authorization: "" } };
const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-audit-embedded-"));
let app: EmbeddedApp;
let tasks: Client<typeof TaskService>;
let audit: Client<typeof AuditService>;

beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("audit-embedded-test"));
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  const { accessToken } = await createClient(AuthService, transport).signUp({ email: "audit@example.com", password: "audit-secret-1", timeZone: "Europe/Berlin" });
  me.headers.authorization = `Bearer ${accessToken}`;
  tasks = createClient(TaskService, transport);
  audit = createClient(AuditService, transport);
});

afterAll(async () => {
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function activityOf(taskId: string, count: number): Promise<ActivityEntry[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { entries } = await audit.listActivity({ taskId }, me);
    if (entries.length >= count) return entries;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} entries of task ${taskId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("an UpdateTask shows up in ListActivity with before/after, and its undo reverts it", async () => {
  const { task } = await tasks.createTask({ title: "Book dentist", priority: Priority.HIGH, due: { case: "dueDate", value: "2026-12-03" } }, me);
  await tasks.updateTask(
    { task: { id: task!.id, priority: Priority.LOW, due: { case: "dueDate", value: "2026-12-04" } }, updateMask: { paths: ["priority", "due_date"] }, expectedVersion: task!.version },
    me,
  );
  const [update, created] = await activityOf(task!.id, 2);
  assert.equal(created!.kind, ActivityKind.TASK_CREATED);
  assert.equal(update!.kind, ActivityKind.TASK_UPDATED);
  assert.equal(update!.summary, "priority high → low; due moved from Thu 3 Dec to Fri 4 Dec");
  assert.deepEqual(
    update!.changes.map((c) => [c.field, toJson(ValueSchema, c.before!), toJson(ValueSchema, c.after!)]),
    [
      ["priority", "PRIORITY_HIGH", "PRIORITY_LOW"],
      ["due", "2026-12-03", "2026-12-04"],
    ],
  );
  assert.ok(update!.actor, "the signed-in user is the actor");
  assert.equal(update!.undo?.request.case, "updateTask");
  const { task: undone } = await tasks.updateTask(update!.undo.request.value, me);
  assert.equal(undone!.priority, Priority.HIGH);
  assert.deepEqual(undone!.due, { case: "dueDate", value: "2026-12-03" });
  // The undo is recorded too, newest first, in the task's history and in the user's.
  const [latest] = await activityOf(task!.id, 3);
  assert.equal(latest!.summary, "priority low → high; due moved from Fri 4 Dec to Thu 3 Dec");
  assert.equal((await audit.listActivity({}, me)).entries[0]!.id, latest!.id);
});
