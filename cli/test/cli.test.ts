// The taskmesh command run as a user runs it (a child process, its own config folder) against the
// embedded app: login keeps the token readable by its owner only, add reads a quick-add line, ls
// filters, done completes by a short id, errors say what to do next, and `taskmesh mcp` serves the
// MCP tools over stdio to the SDK's client.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createLogger } from "@taskmesh/kit";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";
import { cacheRoot } from "../../scripts/project-node.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const main = path.join(root, "cli/src/main.ts");
const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-cli-app-"));
const home = mkdtempSync(path.join(tmpdir(), "taskmesh-cli-home-"));
// Only the variables a user's shell would have: no TASKMESH_URL/TOKEN leaking in from the test's.
const env = { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), TZ: "Europe/Berlin" };
let app: EmbeddedApp;
let token: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `taskmesh …` from the sources (what `npm test` checks is this checkout's code, built or not). */
function taskmesh(...args: string[]): Promise<Run> {
  return run(process.execPath, ["--import", "tsx", main, ...args], env);
}

function run(node: string, args: string[], runEnv: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(node, args, { cwd: root, env: runEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("cli-test"));
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const { accessToken } = await auth.signUp({ email: "cli@example.com", password: "cli-test-secret", timeZone: "Europe/Berlin" });
  token = (await auth.createApiToken({ name: "cli" }, { headers: { authorization: `Bearer ${accessToken}` } })).secret;
});

afterAll(async () => {
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test("before login, and with a wrong token or address, the error says what to do", async () => {
  const ls = await taskmesh("ls");
  assert.equal(ls.code, 2);
  assert.match(ls.stderr, /not logged in: .*taskmesh login --url/);

  const refused = await taskmesh("login", "--url", app.server.url, "--token", "tm_pat_not-a-real-one");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /token was refused.*taskmesh login/);

  const unreachable = await taskmesh("login", "--url", "http://127.0.0.1:9", "--token", token);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9.*npm start/);

  const notAToken = await taskmesh("login", "--url", app.server.url, "--token", "hunter2");
  assert.equal(notAToken.code, 2);
  assert.match(notAToken.stderr, /tm_pat_/);
});

test("login checks the token and keeps it in the config folder, readable by the user only", async () => {
  const login = await taskmesh("login", "--url", `${app.server.url}/`, "--token", token);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Logged in to .* as cli@example\.com/);
  const file = path.join(env.XDG_CONFIG_HOME, "taskmesh", "config.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { url: app.server.url, token });
});

test("add puts a task into the project its #name names; any other #name stays a tag", async () => {
  await taskmesh("login", "--url", app.server.url, "--token", token);
  const projects = createClient(ProjectService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  await projects.createProject({ name: "Garden" }, { headers: { authorization: `Bearer ${token}` } });
  const added = await taskmesh("add", "Mow the lawn #garden #weekend");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Mow the lawn\s+#weekend\s+in Garden$/m);
  const listed = JSON.parse((await taskmesh("--json", "ls", "project:garden")).stdout);
  assert.deepEqual(
    listed.tasks.map((t: { title: string; tags: string[] }) => [t.title, t.tags]),
    [["Mow the lawn", ["weekend"]]],
  );
  await taskmesh("done", listed.tasks[0].id.slice(0, 8));
});

test("Todoist's @labels: add tags a task with them (an @label is never a project), ls finds it by @label or search:", async () => {
  const added = await taskmesh("add", "Seed the beds @garden @errands #garden");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Seed the beds\s+#garden #errands\s+in Garden$/m);
  const byLabel = JSON.parse((await taskmesh("--json", "ls", "@errands")).stdout);
  assert.deepEqual(
    byLabel.tasks.map((t: { title: string; tags: string[] }) => [t.title, [...t.tags].sort()]),
    [["Seed the beds", ["errands", "garden"]]],
  );
  const searched = JSON.parse((await taskmesh("--json", "ls", "search: beds @garden")).stdout);
  assert.deepEqual(
    searched.tasks.map((t: { title: string }) => t.title),
    ["Seed the beds"],
  );
  await taskmesh("done", byLabel.tasks[0].id.slice(0, 8));
});

test("add files a task in the section its /name names, of the project the line goes to (the Inbox when it names none)", async () => {
  const projects = createClient(ProjectService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const auth = { headers: { authorization: `Bearer ${token}` } };
  const garden = (await projects.listProjects({}, auth)).projects.find((p) => p.name === "Garden")!;
  const inbox = (await projects.listProjects({}, auth)).projects.find((p) => p.inbox)!;
  const { section: beds } = await projects.createSection({ projectId: garden.id, name: "Raised beds" }, auth);
  const { section: later } = await projects.createSection({ projectId: inbox.id, name: "Later" }, auth);
  const added = await taskmesh("add", "Weed #garden /raised-beds tomorrow");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Weed\s+in Garden \/ Raised beds$/m);
  const { task: filed } = JSON.parse((await taskmesh("--json", "add", "Read the seed catalogue /later")).stdout);
  assert.deepEqual([filed.title, filed.projectId, filed.sectionId], ["Read the seed catalogue", inbox.id, later!.id]);
  const { task: kept } = JSON.parse((await taskmesh("--json", "add", "Compare and /or order #garden /later")).stdout);
  assert.deepEqual([kept.title, kept.projectId, kept.sectionId ?? ""], ["Compare and /or order /later", garden.id, ""]);
  const listed = JSON.parse((await taskmesh("--json", "ls", "##garden /raised-beds")).stdout);
  assert.deepEqual(
    listed.tasks.map((t: { title: string; sectionId: string }) => [t.title, t.sectionId]),
    [["Weed", beds!.id]],
  );
  // edit reads /name too: another section of the task's project, or one of the project a #name moves it to.
  const { section: herbs } = await projects.createSection({ projectId: garden.id, name: "Herbs" }, auth);
  const weed = listed.tasks[0].id.slice(0, 8);
  const moved = await taskmesh("edit", weed, "/herbs");
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /Weed .*\(section Herbs\)$/m);
  const refiled = JSON.parse((await taskmesh("--json", "edit", filed.id.slice(0, 8), "#garden /herbs")).stdout);
  assert.deepEqual([refiled.task.title, refiled.task.projectId, refiled.task.sectionId, refiled.changed], ["Read the seed catalogue", garden.id, herbs!.id, ["project_id", "section_id"]]);
  for (const t of [...listed.tasks, filed, kept]) await taskmesh("done", t.id.slice(0, 8));
});

test("add reads a quick-add line; ls filters and shows how the filter was read; done completes by a short id", async () => {
  const added = await taskmesh("add", "Pay rent every month on the 1st at 9am #home !high");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^Added [0-9a-f]{8} .*!high\s+Pay rent ↻\s+#home\s+\(repeats monthly on the 1st at 9am\)$/m);

  const json = await taskmesh("--json", "add", "Buy milk tomorrow #errands");
  assert.equal(json.code, 0, json.stderr);
  const { task: milk } = JSON.parse(json.stdout);
  assert.equal(milk.title, "Buy milk");
  assert.deepEqual(milk.tags, ["errands"]);
  assert.match(milk.dueDate, /^\d{4}-\d{2}-\d{2}$/);

  const ls = await taskmesh("ls", "#home");
  assert.equal(ls.code, 0, ls.stderr);
  const [header, row, summary] = ls.stdout.trimEnd().split("\n");
  assert.match(header!, /^ID\s+DUE\s+PRI\s+TITLE\s+TAGS$/);
  assert.match(row!, /^[0-9a-f]{8}\s+\d{4}-\d{2}-01 09:00\s+!high\s+Pay rent ↻\s+#home$/);
  assert.match(summary!, /^1 task where .*home/);

  const lsJson = JSON.parse((await taskmesh("--json", "ls")).stdout);
  assert.deepEqual(lsJson.tasks.map((t: { title: string }) => t.title).sort(), ["Buy milk", "Pay rent"]);
  assert.equal(lsJson.explanation.normalizedQuery, "status:open");

  const done = await taskmesh("done", milk.id.slice(0, 8));
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /^Completed [0-9a-f]{8} {2}Buy milk$/m);
  assert.doesNotMatch((await taskmesh("ls")).stdout, /Buy milk/);

  const wrong = await taskmesh("done", "zzzz");
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /not a task id: `taskmesh ls`/);

  const badFilter = await taskmesh("ls", "priority:urgent");
  assert.equal(badFilter.code, 1);
  assert.match(badFilter.stderr, /priority/);
});

test("taskmesh mcp serves the same tools over stdio to the SDK's client", async () => {
  const client = new Client({ name: "desktop-agent", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: ["--import", "tsx", main, "mcp"], cwd: root, env, stderr: "pipe" }));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "add_tasks") && tools.some((t) => t.name === "get_overview"));
    const added = await client.callTool({ name: "add_tasks", arguments: { tasks: [{ text: "Water the plants every saturday #home" }] } });
    assert.equal(added.isError, undefined);
    const found = await client.callTool({ name: "find_tasks", arguments: { query: "#home plants" } });
    const tasks: { title: string }[] | undefined = Reflect.get(found.structuredContent ?? {}, "tasks");
    assert.deepEqual(
      tasks?.map((t) => t.title),
      ["Water the plants"],
    );
  } finally {
    await client.close();
  }
});

test("the bin runs (compiled code when built, else the sources)", async () => {
  const version = await run(process.execPath, [path.join(root, "cli/bin/taskmesh.js"), "--version"], env);
  assert.equal(version.stdout.trim(), "1.0.0", version.stderr);
});

test("run by an older node (a desktop agent's or a shell's), the bin runs on the project's Node 24: commands, exit codes and MCP over stdio", async (ctx) => {
  const machineNode = process.env.TASKMESH_MACHINE_NODE ?? process.execPath;
  const { stdout: version } = await run(machineNode, ["-p", "process.versions.node"], env);
  if (Number(version.split(".")[0]) >= 24) ctx.skip("the machine's node is 24 or newer");
  const bin = path.join(root, "cli/bin/taskmesh.js");
  // The project's cache, where `npm test` put Node 24 (this test's HOME is a fresh folder).
  const onOldNode = { ...env, TASKMESH_CACHE: cacheRoot() };
  const ls = await run(machineNode, [bin, "ls", "#home"], onOldNode);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /tasks? where /);
  assert.equal(ls.stderr, "", "nothing said on stderr: the output may be read by a program");
  const loggedOut = await run(machineNode, [bin, "ls"], { ...onOldNode, XDG_CONFIG_HOME: path.join(home, "nowhere") });
  assert.equal(loggedOut.code, 2, "the command's exit code is the bin's");
  assert.match(loggedOut.stderr, /not logged in/);
  const client = new Client({ name: "desktop-agent", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: machineNode, args: [bin, "mcp"], cwd: root, env: onOldNode, stderr: "pipe" }));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "find_tasks"));
  } finally {
    await client.close();
  }
});

test("remind adds a reminder read as quick add reads it; --list shows the upcoming ones; a bad time says what to write", async () => {
  await taskmesh("login", "--url", app.server.url, "--token", token);
  const { task } = JSON.parse((await taskmesh("--json", "add", "Dentist on 2031-05-06 at 10am")).stdout);
  const set = await taskmesh("remind", task.id.slice(0, 8), "1", "hour", "before");
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /^Reminder set for [0-9a-f]{8} {2}Dentist: 2031-05-06 09:00$/m);
  const list = await taskmesh("remind", "--list");
  assert.match(list.stdout, /^WHEN\s+ID\s+TASK\s+STATE\n2031-05-06 09:00\s+[0-9a-f]{8}\s+Dentist\s+scheduled$/m);

  const bad = await taskmesh("remind", task.id.slice(0, 8), "whenever");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"whenever" is not a reminder time: e\.g\. "30 min before"/);
  const { task: undated } = JSON.parse((await taskmesh("--json", "add", "Someday")).stdout);
  const noDue = await taskmesh("remind", undated.id.slice(0, 8), "30 min before");
  assert.match(noDue.stderr, /counts from the due, and the task has none: .*taskmesh edit [0-9a-f]{8} --due tomorrow/);
});

test("comment adds a comment to a task by its short id; without text it lists them with author and time", async () => {
  await taskmesh("login", "--url", app.server.url, "--token", token);
  const { task } = JSON.parse((await taskmesh("--json", "add", "Paint the fence")).stdout);
  const none = await taskmesh("comment", task.id.slice(0, 8));
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^No comments on [0-9a-f]{8} {2}Paint the fence$/m);
  const added = await taskmesh("comment", task.id.slice(0, 8), "Green,", "like", "last", "year");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^Commented on [0-9a-f]{8} {2}Paint the fence$/m);
  const list = await taskmesh("comment", task.id.slice(0, 8));
  assert.match(list.stdout, /^WHEN\s+WHO\s+COMMENT\n\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+\S+@example\.com\s+Green, like last year$/m);
  const { comments } = JSON.parse((await taskmesh("--json", "comment", task.id)).stdout);
  assert.equal(comments[0].body, "Green, like last year");
  const blank = await taskmesh("comment", task.id.slice(0, 8), " ");
  assert.equal(blank.code, 1);
  assert.match(blank.stderr, /body/);
});

test("edit refuses what it cannot read and says what to write", async () => {
  const { task } = JSON.parse((await taskmesh("--json", "add", "Water the fern")).stdout);
  const nothing = await taskmesh("edit", task.id.slice(0, 8));
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change: give a quick-add line .* or --title/);
  const due = await taskmesh("edit", task.id.slice(0, 8), "--due", "someday soon");
  assert.match(due.stderr, /--due someday soon: not a date or time; e\.g\. --due tomorrow/);
  const priority = await taskmesh("edit", task.id.slice(0, 8), "--priority", "urgent");
  assert.match(priority.stderr, /Allowed choices are none, low, medium, high/);
  const cleared = JSON.parse((await taskmesh("--json", "edit", task.id.slice(0, 8), "--due", "2031-01-02", "--tag", "plants", "--tag", "home")).stdout);
  assert.deepEqual([cleared.task.dueDate, cleared.task.tags, cleared.changed], ["2031-01-02", ["plants", "home"], ["tags", "due_date"]]);
  const none = JSON.parse((await taskmesh("--json", "edit", task.id.slice(0, 8), "--due", "none")).stdout);
  assert.equal(none.task.dueDate, undefined);
});

test("edit --assign gives a task of a shared project to a member by e-mail, to me, or to nobody; a stranger is refused with the members named", async () => {
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  const mine = { headers: { authorization: `Bearer ${token}` } };
  const { accessToken } = await createClient(AuthService, transport).signUp({ email: "dora@example.com", password: "cli-test-secret", timeZone: "UTC" });
  const projects = createClient(ProjectService, transport);
  const { project } = await projects.createProject({ name: "Chores" }, mine);
  const { invitation } = await projects.inviteMember({ projectId: project!.id, email: "dora@example.com", role: ProjectRole.EDITOR }, mine);
  await projects.acceptInvitation({ id: invitation!.id }, { headers: { authorization: `Bearer ${accessToken}` } });
  const { task } = JSON.parse((await taskmesh("--json", "add", "Take out the bins #chores")).stdout);
  const id = task.id.slice(0, 8);

  const dora = await taskmesh("edit", id, "--assign", "Dora@example.com");
  assert.equal(dora.code, 0, dora.stderr);
  assert.match(dora.stdout, /\(assigned to Dora@example\.com\)$/m);
  const members = new Map((await projects.listMembers({ projectId: project!.id }, mine)).members.map((m) => [m.email, m.userId]));
  const me = JSON.parse((await taskmesh("--json", "edit", id, "--assign", "me")).stdout);
  assert.deepEqual([me.task.assigneeId, me.changed], [members.get("cli@example.com"), ["assignee_id"]]);
  assert.deepEqual(
    JSON.parse((await taskmesh("--json", "ls", "assignee:me")).stdout).tasks.map((t: { title: string }) => t.title),
    ["Take out the bins"],
  );
  const stranger = await taskmesh("edit", id, "--assign", "eve@example.com");
  assert.equal(stranger.code, 2);
  assert.match(stranger.stderr, /--assign eve@example\.com: not a member of the task's project; its members: .*dora@example\.com.* \(or --assign none\)/);
  const nobody = JSON.parse((await taskmesh("--json", "edit", id, "--assign", "none")).stdout);
  assert.equal(nobody.task.assigneeId, undefined);

  // Adding, `+name` assigns as in the web app (Todoist's habit); a name of nobody there stays in the title.
  const added = await taskmesh("add", "Sweep", "the", "yard", "+dora", "#chores", "tomorrow");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Sweep the yard .* in Chores {2}→ dora@example\.com$/m);
  const eve = JSON.parse((await taskmesh("--json", "add", "Ask +eve about the bins #chores")).stdout);
  assert.deepEqual([eve.task.title, eve.task.assigneeId], ["Ask +eve about the bins", undefined]);
  assert.deepEqual(
    (await createClient(TaskService, transport).listTasks({ query: "assignee:me" }, { headers: { authorization: `Bearer ${accessToken}` } })).tasks.map((t) => t.title),
    ["Sweep the yard"],
  );

  // Todoist's `assigned to: Dora`: a member by name (the e-mail's part before the @) or e-mail, for the owner and for her.
  const assignedTo = async (query: string, who = mine) => (await createClient(TaskService, transport).listTasks({ query }, who)).tasks.map((t) => t.title);
  const listed = JSON.parse((await taskmesh("--json", "ls", "assigned to: Dora")).stdout);
  assert.deepEqual([listed.tasks.map((t: { title: string }) => t.title), listed.explanation.summary], [["Sweep the yard"], "assigned to dora"]);
  assert.deepEqual(await assignedTo("assignee:dora@example.com"), ["Sweep the yard"]);
  assert.deepEqual(await assignedTo("assignee:dora", { headers: { authorization: `Bearer ${accessToken}` } }), ["Sweep the yard"]);
  assert.deepEqual((await assignedTo("#chores -assignee:dora")).sort(), ["Ask +eve about the bins", "Take out the bins"]);
  assert.deepEqual(await assignedTo("assignee:eve"), []);
  // Todoist's `assigned` (to anyone) and `shared` (a task of a project with other members), for the owner and for a member.
  assert.deepEqual(await assignedTo("assigned"), ["Sweep the yard"]);
  assert.deepEqual((await assignedTo("shared & !assigned")).sort(), ["Ask +eve about the bins", "Take out the bins"]);
  assert.deepEqual((await assignedTo("shared", { headers: { authorization: `Bearer ${accessToken}` } })).sort(), ["Ask +eve about the bins", "Sweep the yard", "Take out the bins"]);
  assert.ok((await assignedTo("!shared")).every((title) => !/bins|yard/.test(title)));
  assert.deepEqual(await assignedTo("!shared", { headers: { authorization: `Bearer ${accessToken}` } }), []);
  // Who assigned it (Todoist's `assigned by:`): the owner gave Dora the yard when adding it.
  assert.deepEqual(await assignedTo("assigned by: me"), ["Sweep the yard"]);
  assert.deepEqual(await assignedTo("assigned by: cli", { headers: { authorization: `Bearer ${accessToken}` } }), ["Sweep the yard"]);
  assert.deepEqual(await assignedTo("assigned by: me", { headers: { authorization: `Bearer ${accessToken}` } }), []);
  const yard = (await createClient(TaskService, transport).listTasks({ query: '"Sweep the yard"' }, mine)).tasks[0]!;
  assert.match((await taskmesh("show", yard.id.slice(0, 8))).stdout, /assigned\s+dora@example\.com \(by cli@example\.com\)/);
});

test("show names what a task carries; reopen and rm act by the id's start, and undo brings a deleted task back by the id rm printed", async () => {
  const { task } = JSON.parse((await taskmesh("--json", "add", "Renew the passport on 2031-03-01 #papers !high remind me 1 day before")).stdout);
  const id = task.id.slice(0, 8);
  await taskmesh("edit", id, "--notes", "Photos first\nForm P2");
  const shown = await taskmesh("show", id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(
    shown.stdout,
    /^Renew the passport\n {2}id +[0-9a-f-]{36}\n {2}status +open\n {2}due +2031-03-01\n {2}priority +high\n {2}tags +#papers\n {2}project +Inbox\n {2}reminders +1 day before at 09:00\n/,
  );
  assert.match(shown.stdout, /\n {2}version +2\n\n {2}Photos first\n {2}Form P2\n$/);
  const repeating = JSON.parse((await taskmesh("--json", "add", "Stretch every weekday at 7am remind me 90 min before")).stdout).task;
  assert.match((await taskmesh("show", repeating.id.slice(0, 8))).stdout, /\n {2}repeats +every weekday at 7am\n {2}reminders +1 h 30 min before\n/);

  await taskmesh("done", id);
  const reopened = await taskmesh("reopen", id);
  assert.equal(reopened.code, 0, reopened.stderr);
  assert.match(reopened.stdout, /^Reopened [0-9a-f]{8} {2}Renew the passport$/m);
  const again = await taskmesh("reopen", id);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /no task has an id starting with/);

  // A task with open subtasks is done only with them, when asked to.
  const transport = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
  await createClient(TaskService, transport).createTask({ title: "Fill in form P2", parentId: task.id }, { headers: { authorization: `Bearer ${token}` } });
  const refused = await taskmesh("done", id);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`${id} has 1 open subtask: complete them first, or add --with-subtasks`));
  const both = await taskmesh("done", id, "--with-subtasks");
  assert.match(both.stdout, /^Completed [0-9a-f]{8} {2}Renew the passport {2}\(and 1 subtask\)$/m);
  await taskmesh("reopen", id);

  const removed = await taskmesh("rm", id);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, new RegExp(`^Deleted ${id} {2}Renew the passport {2}\\(taskmesh undo ${id} brings it back\\)$`, "m"));
  assert.equal((await taskmesh("show", id)).code, 2);
  const undone = await taskmesh("undo", id);
  assert.equal(undone.code, 0, undone.stderr);
  assert.match(undone.stdout, /^Undid deleted "Renew the passport"/);
  const back = JSON.parse((await taskmesh("--json", "ls", "passport")).stdout).tasks;
  assert.deepEqual(
    back.map((t: { id: string; title: string; tags: string[]; notes: string }) => [t.id, t.title, t.tags, t.notes]),
    [[task.id, "Renew the passport", ["papers"], "Photos first\nForm P2"]],
  );
  assert.equal((await taskmesh("show", id)).code, 0, "back under the id rm printed");
});

test("list reads a question in plain English and says how above the table", async () => {
  await taskmesh("add", "Fix the gate #yard !high tomorrow");
  const asked = await taskmesh("list", "high", "priority", "yard", "tasks");
  assert.equal(asked.code, 0, asked.stderr);
  const [read, header, row] = asked.stdout.split("\n");
  assert.match(read!, /^Read as priority:high tag:yard: Showing tasks where priority = high AND tag:yard$/);
  assert.match(header!, /^ID\s+DUE/);
  assert.match(row!, /Fix the gate/);
  const query = await taskmesh("list", "#yard");
  assert.doesNotMatch(query.stdout, /^Read as/, "a filter query is used as it is");
});

test("completion scripts for bash, zsh and fish name the commands and their options", async () => {
  const bash = await taskmesh("completion", "bash");
  assert.equal(bash.code, 0, bash.stderr);
  const complete = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const words = line.split(" ");
      const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _taskmesh; echo "\${COMPREPLY[*]}"`;
      execFile("bash", ["--norc", "-c", script], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
    });
  assert.equal(await complete("taskmesh ed"), "edit");
  assert.equal(await complete("taskmesh edit abc --pr"), "--priority");
  assert.equal(await complete("taskmesh completion z"), "zsh");
  const zsh = (await taskmesh("completion", "zsh")).stdout;
  assert.match(zsh, /^#compdef taskmesh/);
  assert.match(zsh, /'remind:add a reminder to a task/);
  const fish = (await taskmesh("completion", "fish")).stdout;
  assert.match(fish, /complete -c taskmesh -n '__fish_seen_subcommand_from edit' -l priority -d 'the priority' -xa 'none low medium high'/);
  const wrong = await taskmesh("completion", "powershell");
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Allowed choices are bash, zsh, fish/);
});
