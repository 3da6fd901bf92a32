// The taskmesh command in a real terminal: tmux runs bash, the test types as a user types
// (send-keys) and reads the screen (capture-pane). Login, add, list, edit (and a conflicting
// edit reported), undo, done, and `taskmesh watch` in a second window showing a change made
// elsewhere (through the API, as the web app would) as it happens.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";
import { ensureTmux, Terminal } from "./support/tmux.js";
import { apiTokenUser, type ApiTokenUser } from "@taskmesh/testing/connect";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-terminal-app-"));
const home = mkdtempSync(path.join(tmpdir(), "taskmesh-terminal-home-"));
let app: EmbeddedApp;
let user: ApiTokenUser;
let term: Terminal;

beforeAll(async () => {
  const tmux = await ensureTmux();
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("terminal-test"));
  user = await apiTokenUser(app.server.url, { email: "terminal@example.com", timeZone: "Europe/Berlin", tokenName: "terminal" });
  // `taskmesh` on the PATH runs this checkout's sources, as the bin does before a build.
  const bin = path.join(home, "bin");
  mkdirSync(bin);
  writeFileSync(path.join(bin, "taskmesh"), `#!/bin/sh\nexec "${process.execPath}" --import "${import.meta.resolve("tsx")}" "${path.join(root, "cli/src/main.ts")}" "$@"\n`);
  chmodSync(path.join(bin, "taskmesh"), 0o755);
  term = new Terminal(tmux, path.join(home, "tmux.sock"), {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    TZ: "Europe/Berlin",
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
  });
});

afterAll(async () => {
  term?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test("login, add, list, edit, a conflicting edit, undo, done and watch, typed in a terminal", { timeout: 300_000 }, async () => {
  const main = term.open("main");

  await term.type(main, "taskmesh list");
  await term.waitFor(main, /not logged in: .*taskmesh login --url/);

  await term.type(main, `taskmesh login --url ${app.server.url} --token ${user.token}`);
  await term.waitFor(main, /Logged in to .* as terminal@example\.com/);

  // Quoted, as a shell user quotes it: unquoted, bash reads #errands as a comment.
  await term.type(main, "taskmesh add 'Buy milk tomorrow #errands !high'");
  const id = (await term.waitFor(main, /Added ([0-9a-f]{8}) .*!high\s+Buy milk\s+#errands/))[1]!;

  await term.type(main, "taskmesh list '#errands'");
  await term.waitFor(main, new RegExp(`ID\\s+DUE\\s+PRI\\s+TITLE\\s+TAGS\\n${id}\\s+\\d{4}-\\d{2}-\\d{2}\\s+!high\\s+Buy milk\\s+#errands\\n1 task where`));

  await term.type(main, `taskmesh edit ${id} --title "Buy oat milk" --priority low`);
  await term.waitFor(main, new RegExp(`Changed ${id} .*!low\\s+Buy oat milk .*\\(title "Buy oat milk", priority low\\)`));

  await term.type(main, `taskmesh edit ${id} 'fri 5pm #dairy'`);
  await term.waitFor(main, new RegExp(`Changed ${id}\\s+\\d{4}-\\d{2}-\\d{2} 17:00\\s+!low\\s+Buy oat milk\\s+#errands #dairy`));

  // An edit based on the first version: the title changed since, so it is reported, not applied.
  await term.type(main, `taskmesh edit ${id} --title "Buy soy milk" --expected-version 1`);
  await term.waitFor(main, /"Buy oat milk" was changed meanwhile \(title\), so nothing was overwritten/);
  const [full] = (await user.client(TaskService).listTasks({ query: "#errands" })).tasks;
  assert.equal(full!.title, "Buy oat milk");

  // The history is written from the change feed: undo once the last edit is in it.
  const audit = user.client(AuditService);
  for (let tries = 0; (await audit.listActivity({ taskId: full!.id })).entries.length < 3; tries++) {
    assert.ok(tries < 100, "the edits reached the activity history");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await term.type(main, "taskmesh undo");
  await term.waitFor(main, new RegExp(`Undid .*on ${id}  Buy oat milk`));
  const undone = (await user.client(TaskService).getTask({ id: full!.id })).task!;
  assert.deepEqual([undone.tags, undone.due.case], [["errands"], "dueDate"], "the due and tags are back as they were before the last edit");

  await term.type(main, `taskmesh done ${id}`);
  await term.waitFor(main, new RegExp(`Completed ${id}  Buy oat milk`));

  // Another window watches; a change made elsewhere appears there as it happens.
  const watch = term.open("watch");
  await term.type(watch, "taskmesh watch");
  await term.waitFor(watch, /Watching for changes \(Ctrl-C to stop\)/, { untilPrompt: false });
  await user.client(TaskService).createTask({ title: "Made on the phone", tags: ["elsewhere"] });
  await term.waitFor(watch, /\d\d:\d\d:\d\d {2}added\s+[0-9a-f]{8}\s+Made on the phone\s+#elsewhere/, { untilPrompt: false });
  await term.type(main, "taskmesh add Call the plumber");
  await term.waitFor(watch, /added\s+[0-9a-f]{8}\s+Call the plumber/, { untilPrompt: false });
  term.keys(watch, "C-c");
  await term.waitFor(watch, /Call the plumber\n\^C\$ *\s*$/, { untilPrompt: false, timeoutMs: 10_000 });
});
