// The embedded app as `npm start` runs it: one process beside its own PostgreSQL, the event log in the same
// database. A completed recurring task gets exactly one next occurrence through task-events, also
// when completed again after a reopen, and across a restart of the app; the gateway in front
// asks for credentials, and the session survives the restart (the signing key is in the data folder).
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, type ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createLogger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig } from "../src/config.js";
import { startEmbeddedApp, type EmbeddedApp } from "../src/embedded.js";

const me = { headers: { authorization: "" } };
const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-embedded-"));
const config = embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" });
let app: EmbeddedApp;
let client: Client<typeof TaskService>;

async function open(): Promise<void> {
  app = await startEmbeddedApp(config, createLogger("embedded-test"));
  client = createClient(TaskService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
}

async function openTasksDue(due: string) {
  return (await client.listTasks({ query: "status:open" }, me)).tasks.filter((t) => t.due.case === "dueDate" && t.due.value === due);
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await open();
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const { accessToken } = await auth.signUp({ email: "embedded@example.com", password: "embedded-secret", timeZone: "Europe/Berlin" });
  me.headers.authorization = `Bearer ${accessToken}`;
});

test("the gateway refuses calls without credentials", async () => {
  await assert.rejects(client.listTasks({}, { headers: { "x-user-id": "embedded-user" } }), (err: ConnectError) => err.code === Code.Unauthenticated);
});
afterAll(async () => {
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the device a change came from reaches the activity history through the gateway (x-device)", async () => {
  const { task } = await client.createTask({ title: "From the phone" }, { headers: { ...me.headers, "x-device": "phone" } });
  const audit = createClient(AuditService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const entry = await eventually("the activity entry", async () => (await audit.listActivity({ taskId: task!.id }, me)).entries[0]);
  assert.equal(entry.device, "phone");
});

test("a search ignores case beyond ASCII (CAFÉ finds Café, ПРИВЕТ finds Привет): its database's own ctype is Unicode", async () => {
  for (const title of ["Café au lait with Zoë", "Привет from Kyiv", "Ärger mit der Straße"]) await client.createTask({ title }, me);
  const found = async (query: string) => (await client.listTasks({ query }, me)).tasks.map((t) => t.title);
  assert.deepEqual(await found("CAFÉ"), ["Café au lait with Zoë"]);
  assert.deepEqual(await found("ZOË"), ["Café au lait with Zoë"]);
  assert.deepEqual(await found("ПРИВЕТ"), ["Привет from Kyiv"]);
  assert.deepEqual(await found("ärger"), ["Ärger mit der Straße"]);
  assert.deepEqual(await found("STRAßE"), ["Ärger mit der Straße"]);
});

test("completing a task due Jan 31 repeating on the 31st or the month's last day creates one next occurrence on Feb 28, even after reopen and complete", async () => {
  const { task } = await client.createTask(
    { title: "Pay rent", tags: ["home"], due: { case: "dueDate", value: "2027-01-31" }, timeZone: "Europe/Berlin", recurrence: { rrule: "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" } },
    me,
  );
  const done = await client.completeTask({ id: task!.id, expectedVersion: task!.version }, me);
  const [next] = await eventually("the Feb 28 occurrence", async () => {
    const found = await openTasksDue("2027-02-28");
    return found.length > 0 ? found : undefined;
  });
  assert.equal(next!.title, "Pay rent");
  assert.deepEqual(next!.tags, ["home"]);
  assert.equal(next!.seriesId, task!.id);

  // The history's latest change to undo is the completion, not the occurrence it made.
  const audit = createClient(AuditService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const entries = await eventually("the next occurrence's entry", async () => {
    const page = (await audit.listActivity({ pageSize: 5 }, me)).entries;
    return page.some((e) => e.taskId === next!.id) ? page : undefined;
  });
  const made = entries.find((e) => e.taskId === next!.id)!;
  assert.deepEqual([made.summary, made.device, made.undo], ['created "Pay rent", the series\' next occurrence', "recurrence", undefined]);
  assert.equal(entries.find((e) => e.undo)?.undo?.request.case, "reopenTask");

  // Reopened (the completion undone): the occurrence it made goes; completed again, it is back, once.
  const reopened = await client.reopenTask({ id: task!.id, expectedVersion: done.task!.version }, me);
  await eventually("the Feb 28 occurrence taken back", async () => ((await openTasksDue("2027-02-28")).length === 0 ? true : undefined));
  await client.completeTask({ id: task!.id, expectedVersion: reopened.task!.version }, me);
  const [again] = await eventually("the Feb 28 occurrence again", async () => {
    const found = await openTasksDue("2027-02-28");
    return found.length > 0 ? found : undefined;
  });
  assert.equal(again!.id, next!.id, "the same occurrence, under the same id");
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal((await openTasksDue("2027-02-28")).length, 1, "still exactly one next occurrence");
});

test("a next occurrence the user has changed stays when the completion that made it is undone", async () => {
  const { task } = await client.createTask({ title: "Stretch", due: { case: "dueDate", value: "2027-05-01" }, timeZone: "Europe/Berlin", recurrence: { rrule: "FREQ=DAILY" } }, me);
  const done = await client.completeTask({ id: task!.id, expectedVersion: task!.version }, me);
  const [next] = await eventually("the May 2 occurrence", async () => {
    const found = await openTasksDue("2027-05-02");
    return found.length > 0 ? found : undefined;
  });
  await client.updateTask({ task: { id: next!.id, title: "Stretch, 20 minutes" }, updateMask: { paths: ["title"] }, expectedVersion: next!.version }, me);
  await client.reopenTask({ id: task!.id, expectedVersion: done.task!.version }, me);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(
    (await openTasksDue("2027-05-02")).map((t) => t.title),
    ["Stretch, 20 minutes"],
  );
});

test("after a restart the data is there and the series goes on (Feb 28 → Mar 31)", async () => {
  await app.stop();
  await open();
  const [feb] = await openTasksDue("2027-02-28");
  assert.ok(feb, "the occurrence survived the restart");
  await client.completeTask({ id: feb.id, expectedVersion: feb.version }, me);
  const [mar] = await eventually("the Mar 31 occurrence", async () => {
    const found = await openTasksDue("2027-03-31");
    return found.length > 0 ? found : undefined;
  });
  assert.equal(mar!.recurrence?.occurrence, 3);
  const completed = (await client.listTasks({ query: "status:completed" }, me)).tasks;
  assert.equal(completed.length, 2);
  assert.ok(completed.every((t) => t.status === TaskStatus.COMPLETED));
});
