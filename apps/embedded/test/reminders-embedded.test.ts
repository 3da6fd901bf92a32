// The embedded app as `npm start` runs it, through the gateway: a task created over the RPC with a
// reminder a moment ahead fires it — ReminderEvent{fired} on the embedded event log, FIRED in
// ListReminders.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { openEmbeddedBus, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ReminderEventSchema, type ReminderEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ReminderService, ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig } from "../src/config.js";
import { startEmbeddedApp, type EmbeddedApp } from "../src/embedded.js";

const me = { headers: { authorization: "" } };
const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-reminders-embedded-"));
const config = embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" });
const logger = createLogger("reminders-embedded-test");
let app: EmbeddedApp;
let bus: EventBus;
let watcher: Subscription;
const events: ReminderEvent[] = [];

beforeAll(async () => {
  app = await startEmbeddedApp(config, logger);
  // The app's own event log (same database): what the gateway's live sync consumes.
  bus = await openEmbeddedBus({ url: app.databaseUrl, logger });
  watcher = await bus.subscribe({
    group: "reminders-embedded-test",
    topics: ["reminders"],
    async handler({ value }) {
      if (isMessage(value, ReminderEventSchema)) events.push(value);
    },
  });
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  const { accessToken } = await createClient(AuthService, transport).signUp({ email: "reminders@example.com", password: "reminder-secret-1", timeZone: "Europe/Berlin" });
  me.headers.authorization = `Bearer ${accessToken}`;
});

afterAll(async () => {
  await watcher.stop();
  await bus.close();
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a reminder set over the RPC fires on time: ReminderEvent{fired} on the event log, FIRED in ListReminders", async () => {
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  const tasks = createClient(TaskService, transport);
  const reminders = createClient(ReminderService, transport);
  const at = new Date(Date.now() + 2_000);
  const { task } = await tasks.createTask({ title: "Stand up", reminders: [{ id: "stand", trigger: { case: "absoluteTime", value: timestampFromDate(at) } }] }, me);

  const deadline = Date.now() + 20_000;
  let fired: ReminderEvent | undefined;
  // biome-ignore lint/suspicious/noAssignInExpressions: the poll loop's idiom, the event found is the loop's result
  while (!(fired = events.find((e) => e.taskId === task!.id && e.event.case === "fired"))) {
    if (Date.now() > deadline) throw new Error("no ReminderEvent{fired} on the event log");
    await new Promise((r) => setTimeout(r, 100));
  }
  if (fired.event.case !== "fired") return assert.fail();
  assert.equal(fired.reminderId, "stand");
  assert.equal(fired.event.value.taskTitle, "Stand up");
  assert.equal(timestampDate(fired.event.value.scheduledFor!).getTime(), at.getTime());
  assert.ok(timestampDate(fired.event.value.firedAt!) >= at, "not before its time");
  assert.ok(
    events.some((e) => e.taskId === task!.id && e.event.case === "scheduled"),
    "scheduled first",
  );
  const { reminders: listed } = await reminders.listReminders({ taskId: task!.id }, me);
  assert.equal(listed[0]!.state, ReminderState.FIRED);
});
