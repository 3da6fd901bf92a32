// The history of a task in a shared project, through the embedded app's gateway: it is kept under
// the project's owner, says which member made each change, and every member reads it; a stranger
// reads nothing.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig } from "../src/config.js";
import { startEmbeddedApp, type EmbeddedApp } from "../src/embedded.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-shared-history-"));
let app: EmbeddedApp;

beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("shared-history-test"));
});
afterAll(async () => {
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("members read the history of a shared task, with who made each change; a stranger reads nothing", async () => {
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  const auth = createClient(AuthService, transport);
  const [tasks, projects, audit] = [createClient(TaskService, transport), createClient(ProjectService, transport), createClient(AuditService, transport)];
  const account = async (email: string) => {
    const res = await auth.signUp({ email, password: "history-secret-1", timeZone: "Europe/Berlin" });
    return { id: res.user!.id, headers: { authorization: `Bearer ${res.accessToken}` } };
  };
  const [owner, member, stranger] = [await account("owner@example.com"), await account("member@example.com"), await account("stranger@example.com")];
  const { project } = await projects.createProject({ name: "Shared" }, owner);
  const { invitation } = await projects.inviteMember({ projectId: project!.id, email: "member@example.com", role: ProjectRole.EDITOR }, owner);
  await projects.acceptInvitation({ id: invitation!.id }, member);
  const { task } = await tasks.createTask({ title: "Paint", projectId: project!.id }, owner);
  await tasks.updateTask({ task: { id: task!.id, title: "Paint the hall" }, updateMask: { paths: ["title"] }, expectedVersion: task!.version }, member);

  const deadline = Date.now() + 15_000;
  let entries = (await audit.listActivity({ taskId: task!.id }, member)).entries;
  while (entries.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    entries = (await audit.listActivity({ taskId: task!.id }, member)).entries;
  }
  assert.deepEqual(
    entries.map((e) => [e.kind, e.actor]),
    [
      [ActivityKind.TASK_UPDATED, member.id],
      [ActivityKind.TASK_CREATED, owner.id],
    ],
  );
  assert.deepEqual(
    (await audit.listActivity({ taskId: task!.id }, owner)).entries.map((e) => e.actor),
    [member.id, owner.id],
  );
  assert.deepEqual((await audit.listActivity({ taskId: task!.id }, stranger)).entries, []);
});
