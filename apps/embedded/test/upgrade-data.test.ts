// A data folder written by the earlier embedded engine (PGlite) — a copy of a real one, made by the
// app of that time with an account, an API token, tasks (tags, due times, a monthly series with its
// next occurrence, a reminder), activity and notification preferences — moves into the app's
// PostgreSQL with `npm run upgrade-data`, and everything is there afterwards. Until then the app
// refuses to start on it, and says what to run.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { NotificationChannel, ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig } from "../src/config.js";
import { startEmbeddedApp } from "../src/embedded.js";
import { upgradePgliteData } from "../src/pglite-upgrade.js";

const parent = mkdtempSync(path.join(tmpdir(), "taskmesh-upgrade-"));
const dataDir = path.join(parent, ".data");
const config = embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" });
const logger = createLogger("upgrade-test");
// The fixture's personal API token, created by the app that wrote the folder.
const API_TOKEN = "tm_pat_NqsJmQzNjYQqZZJHdJR8iY98rpLQKLUyQXVhr75wgSc";

beforeAll(() => {
  chmodSync(parent, 0o755);
  execFileSync("tar", ["-xJf", path.join(import.meta.dirname, "fixtures", "pglite-data.tar.xz"), "-C", parent]);
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

test("the app refuses a PGlite data folder and names the command that moves it", async () => {
  await assert.rejects(startEmbeddedApp(config, logger), /npm run upgrade-data/);
  assert.ok(!existsSync(path.join(dataDir, "postgres")), "nothing was created beside the old data");
});

test("npm run upgrade-data moves every account, token, task, reminder, activity entry and preference", { timeout: 120_000 }, async () => {
  const progress: string[] = [];
  const tables = await upgradePgliteData(dataDir, (line) => progress.push(line), logger);
  assert.deepEqual(
    progress.filter((l) => /^\d\/4/.test(l)).map((l) => l.slice(0, 3)),
    ["1/4", "2/4", "3/4", "4/4"],
  );
  assert.ok(tables.some((t) => t.table === "tasks.tasks" && t.rows === 43));
  assert.ok(existsSync(path.join(dataDir, "pg.before-upgrade", "PG_VERSION")), "the old folder is kept");

  const app = await startEmbeddedApp(config, logger);
  try {
    const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
    const { accessToken } = await createClient(AuthService, transport).signIn({ email: "alice@example.com", password: "correct horse battery staple" });
    for (const token of [accessToken, API_TOKEN]) {
      const me = { headers: { authorization: `Bearer ${token}` } };
      const tasks = createClient(TaskService, transport);
      const all = (await tasks.listTasks({ query: "status:all", pageSize: 100 }, me)).tasks;
      assert.equal(all.length, 43);
      const rent = all.filter((t) => t.title === "Pay rent");
      assert.deepEqual(rent.map((t) => t.due.value).sort(), ["2027-01-31", "2027-02-28"], "the series and its next occurrence");
      assert.equal((await tasks.listTasks({ query: "harbor tag:work" }, me)).tasks.length, 40, "full-text search works on the moved rows");
      const dentist = all.find((t) => t.title === "Dentist")!;
      assert.equal(dentist.reminders.length, 1);

      const reminders = (await createClient(ReminderService, transport).listReminders({}, me)).reminders;
      assert.equal(reminders.length, 1);
      assert.equal(reminders[0]!.taskTitle, "Dentist");
      const prefs = await createClient(ReminderService, transport).getNotificationPreferences({}, me);
      assert.deepEqual(prefs.preferences?.channels, [NotificationChannel.EMAIL]);

      const activity = (await createClient(AuditService, transport).listActivity({ pageSize: 100 }, me)).entries;
      assert.equal(activity.length, 45);
      assert.ok(activity.some((e) => e.kind === ActivityKind.TASK_COMPLETED && e.taskTitle === "Pay rent"));
    }
    // New writes continue the moved sequences and feeds.
    const me = { headers: { authorization: `Bearer ${API_TOKEN}` } };
    const { task } = await createClient(TaskService, transport).createTask({ title: "After the upgrade" }, me);
    assert.equal(task!.title, "After the upgrade");
  } finally {
    await app.stop();
  }
});
