// The MCP server at /mcp of the embedded app, driven by the SDK's own client over Streamable HTTP
// with a personal API token: every tool, its schemas and annotations, field errors, conflicts,
// another user's tasks, and the 401 that points at the protected-resource metadata.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createLogger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { ApiTokenScope, AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";

const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-mcp-"));
let app: EmbeddedApp;
let alice: Client;
let bob: Client;
let aliceToken: string;
let bobToken: string;

async function signUp(email: string): Promise<string> {
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const { accessToken } = await auth.signUp({ email, password: "mcp-test-secret", timeZone: "Europe/Berlin" });
  const { secret } = await auth.createApiToken({ name: "agent" }, { headers: { authorization: `Bearer ${accessToken}` } });
  return secret;
}

async function connect(token: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "mcp-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { requestInit: { headers: { ...headers, authorization: `Bearer ${token}` } } }));
  return client;
}

// biome-ignore lint/suspicious/noExplicitAny: tool results are JSON the tests read at any depth, and the assertions check each value read
type Json = Record<string, any>;
async function call(client: Client, name: string, args: Json): Promise<CallToolResult & { structuredContent?: Json }> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult & { structuredContent?: Json };
}
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("mcp-test"));
  aliceToken = await signUp("alice-mcp@example.com");
  alice = await connect(aliceToken);
  bobToken = await signUp("bob-mcp@example.com");
  bob = await connect(bobToken);
});

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("without credentials /mcp answers 401 pointing at the protected-resource metadata, which is served", async () => {
  const res = await fetch(`${app.server.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(res.status, 401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  const metadataUrl = /^Bearer resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  assert.ok(metadataUrl, challenge);
  const metadata = (await (await fetch(metadataUrl)).json()) as Json;
  assert.equal(metadata.resource, `${app.server.url}/mcp`);
  assert.deepEqual(metadata.authorization_servers, [app.server.url]);
  assert.deepEqual(metadata.bearer_methods_supported, ["header"]);
  const plain = (await (await fetch(`${app.server.url}/.well-known/oauth-protected-resource`)).json()) as Json;
  assert.equal(plain.resource, metadata.resource);

  const bad = await fetch(`${app.server.url}/mcp`, { method: "POST", headers: { authorization: "Bearer tm_pat_nope", "content-type": "application/json" }, body: "{}" });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get("www-authenticate") ?? "", /error="invalid_token"/);

  await assert.rejects(new Client({ name: "anonymous", version: "1" }).connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`))));
});

test("a page of another origin is refused (DNS rebinding); GET has no stream in stateless mode", async () => {
  const headers = { authorization: `Bearer ${aliceToken}`, "content-type": "application/json", accept: "application/json, text/event-stream" };
  const foreign = await fetch(`${app.server.url}/mcp`, { method: "POST", headers: { ...headers, origin: "http://evil.example" }, body: "{}" });
  assert.equal(foreign.status, 403);
  const get = await fetch(`${app.server.url}/mcp`, { headers: { authorization: `Bearer ${aliceToken}`, accept: "text/event-stream" } });
  assert.equal(get.status, 405);
});

test("tools are listed with input and output schemas and annotations", async () => {
  const { tools } = await alice.listTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  assert.deepEqual([...byName.keys()].sort(), [
    "add_comment",
    "add_tasks",
    "complete_tasks",
    "delete_tasks",
    "end_series",
    "find_tasks",
    "find_tasks_by_date",
    "get_activity",
    "get_overview",
    "list_comments",
    "list_projects",
    "list_reminders",
    "preview_recurrence",
    "reopen_tasks",
    "set_reminders",
    "skip_occurrence",
    "snooze_reminder",
    "undo",
    "update_tasks",
  ]);
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, "object", tool.name);
    assert.equal(tool.outputSchema?.type, "object", tool.name);
    assert.equal(typeof tool.annotations?.readOnlyHint, "boolean", tool.name);
  }
  assert.equal(byName.get("find_tasks")!.annotations!.readOnlyHint, true);
  assert.equal(byName.get("delete_tasks")!.annotations!.destructiveHint, true);
  assert.equal(byName.get("add_tasks")!.annotations!.destructiveHint, false);
  assert.equal(byName.get("update_tasks")!.annotations!.idempotentHint, true);
  assert.equal((byName.get("add_tasks")!.inputSchema.properties!.tasks as Json).maxItems, 50);
});

test("add_tasks reads a line as quick add does, and takes fields", async () => {
  const r = await call(alice, "add_tasks", {
    tasks: [
      { text: "Pay rent every month on the 1st at 9am #home !high" },
      { title: "Write report", priority: "medium", tags: ["work"], dueDate: "2031-03-14", reminders: [{ beforeDueMinutes: 60 }], notes: "for Q1" },
      { title: "Gym", recurrence: "every tuesday" },
    ],
  });
  assert.equal(r.isError, undefined, text(r));
  const [rent, report, gym] = r.structuredContent!.results as Json[];
  assert.equal(rent!.task.title, "Pay rent");
  assert.deepEqual(rent!.task.tags, ["home"]);
  assert.equal(rent!.task.priority, "high");
  assert.match(rent!.task.recurrence.rrule, /FREQ=MONTHLY/);
  assert.match(rent!.task.recurrence.rrule, /BYMONTHDAY=1/);
  assert.ok(rent!.recurrenceSummary);
  assert.equal(report!.task.dueDate, "2031-03-14");
  assert.equal(report!.task.notes, "for Q1");
  assert.deepEqual(report!.task.reminders, [{ id: "r1", beforeDueMinutes: 60 }]);
  assert.match(gym!.task.recurrence.rrule, /BYDAY=TU/);
  // The first due is the rule's first occurrence, as quick add makes it: a Tuesday.
  assert.equal(new Date(`${gym!.task.dueDate}T12:00:00Z`).getUTCDay(), 2);
  assert.equal(r.structuredContent!.succeeded, 3);
});

test("bad input is a tool error naming the field, from the schema and from the service", async () => {
  const schema = await call(alice, "add_tasks", { tasks: [{ title: "ok" }, { text: "x", priority: "high" }] });
  assert.equal(schema.isError, true);
  assert.match(text(schema), /tasks.*1.*priority|priority.*tasks.*1/s);

  const unknownKey = await call(alice, "add_tasks", { tasks: [{ title: "t", due: "tomorrow" }] });
  assert.equal(unknownKey.isError, true, "an unknown key is refused, not silently dropped");

  const [task] = (await call(alice, "add_tasks", { tasks: [{ title: "Blank me" }] })).structuredContent!.results as Json[];
  const service = await call(alice, "update_tasks", { updates: [{ id: task!.task.id, version: task!.task.version, title: "   " }] });
  assert.equal(service.isError, true);
  const [failed] = service.structuredContent!.results as Json[];
  assert.equal(failed!.error.code, "invalid_argument");
  assert.equal(failed!.error.fields[0].field, "updates[0].title");

  const recurrence = await call(alice, "add_tasks", { tasks: [{ title: "Odd", recurrence: "every blue moon" }] });
  assert.equal(recurrence.isError, true);
  assert.equal((recurrence.structuredContent!.results as Json[])[0]!.error.fields[0].field, "tasks[0].recurrence");
});

test("find_tasks answers with how the query was understood; a malformed query says where", async () => {
  await call(alice, "add_tasks", { tasks: [{ text: "Buy milk #errands !low" }] });
  const r = await call(alice, "find_tasks", { query: "#errands milk" });
  assert.equal(r.isError, undefined, text(r));
  assert.deepEqual(
    (r.structuredContent!.tasks as Json[]).map((t) => t.title),
    ["Buy milk"],
  );
  assert.match(r.structuredContent!.explanation.summary, /errands/);
  assert.equal(r.structuredContent!.explanation.normalizedQuery, "tag:errands AND milk");

  const bad = await call(alice, "find_tasks", { query: "priority:urgent" });
  assert.equal(bad.isError, true);
  const { error } = JSON.parse(text(bad)) as Json;
  assert.equal(error.code, "invalid_argument");
  assert.equal(error.query.position, "priority:".length);
});

test("find_tasks_by_date takes a range of days", async () => {
  await call(alice, "add_tasks", {
    tasks: [
      { title: "In range", dueDate: "2031-05-10" },
      { title: "Out of range", dueDate: "2031-06-10" },
    ],
  });
  const r = await call(alice, "find_tasks_by_date", { from: "2031-05-01", to: "2031-05-31" });
  assert.deepEqual(
    (r.structuredContent!.tasks as Json[]).map((t) => t.title),
    ["In range"],
  );
  const backwards = await call(alice, "find_tasks_by_date", { from: "2031-05-31", to: "2031-05-01" });
  assert.equal(backwards.isError, true);
});

test("update_tasks changes only the given fields, and a conflicting edit is reported, not overwritten", async () => {
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Plan trip", priority: "low" }] })).structuredContent!.results as Json[];
  const v1 = added!.task;
  const first = await call(alice, "update_tasks", { updates: [{ id: v1.id, version: v1.version, title: "Plan the trip", dueDate: "2031-07-01" }] });
  const v2 = (first.structuredContent!.results as Json[])[0]!.task;
  assert.equal(v2.title, "Plan the trip");
  assert.equal(v2.priority, "low", "untouched fields stay");
  assert.equal(v2.dueDate, "2031-07-01");

  // Another edit of the title from the version before the first one: a conflict.
  const stale = await call(alice, "update_tasks", { updates: [{ id: v1.id, version: v1.version, title: "Overwrite?" }] });
  assert.equal(stale.isError, true);
  const [conflict] = stale.structuredContent!.results as Json[];
  assert.equal(conflict!.error.code, "aborted");
  assert.deepEqual(conflict!.error.conflict.conflictingFields, ["title"]);
  assert.equal(conflict!.error.conflict.current.title, "Plan the trip");

  const rule = await call(alice, "update_tasks", { updates: [{ id: v1.id, version: v2.version, recurrence: "every blue moon" }] });
  assert.deepEqual(
    (rule.structuredContent!.results as Json[])[0]!.error.fields.map((f: Json) => f.field),
    ["updates[0].recurrence"],
  );

  const cleared = await call(alice, "update_tasks", { updates: [{ id: v1.id, version: v2.version, dueDate: null }] });
  assert.equal((cleared.structuredContent!.results as Json[])[0]!.task.dueDate, undefined);
});

test("update_tasks moves a task to a project by name and assigns it to a member by e-mail or 'me'; an unknown name or a stranger is a field error naming what there is", async () => {
  const projects = createClient(ProjectService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const { project } = await projects.createProject({ name: "Road trip" }, as(aliceToken));
  const { invitation } = await projects.inviteMember({ projectId: project!.id, email: "bob-mcp@example.com", role: ProjectRole.EDITOR }, as(aliceToken));
  await projects.acceptInvitation({ id: invitation!.id }, as(bobToken));
  const ids = new Map((await projects.listMembers({ projectId: project!.id }, as(aliceToken))).members.map((m) => [m.email, m.userId]));
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Rent a van" }] })).structuredContent!.results as Json[];
  const update = async (fields: Json, version: string) => (await call(alice, "update_tasks", { updates: [{ id: added!.task.id, version, ...fields }] })).structuredContent!.results[0] as Json;

  const moved = (await update({ project: "road TRIP", assignee: "Bob-MCP@example.com" }, added!.task.version)).task;
  assert.deepEqual([moved.projectName, moved.assigneeId, moved.assigneeEmail], ["Road trip", ids.get("bob-mcp@example.com"), "bob-mcp@example.com"]);
  // Reads name the assignee too, so an agent can answer "what is Bob doing?".
  const found = (await call(alice, "find_tasks", { query: 'project:"road trip"' })).structuredContent!.tasks as Json[];
  assert.deepEqual(
    found.map((t) => [t.title, t.assigneeEmail]),
    [["Rent a van", "bob-mcp@example.com"]],
  );
  const mine = (await update({ assignee: "me" }, moved.version)).task;
  assert.equal(mine.assigneeId, ids.get("alice-mcp@example.com"));
  const nowhere = await update({ project: "Nowhere" }, mine.version);
  assert.deepEqual(
    nowhere.error.fields.map((f: Json) => f.field),
    ["updates[0].project"],
  );
  assert.match(JSON.stringify(nowhere.error), /no project is named \\"Nowhere\\"; the user's projects: .*Road trip/);
  const stranger = await update({ assignee: "eve@example.com" }, mine.version);
  assert.deepEqual(
    stranger.error.fields.map((f: Json) => f.field),
    ["updates[0].assignee"],
  );
  assert.match(JSON.stringify(stranger.error), /eve@example\.com is not a member of the task's project; its members: .*bob-mcp@example\.com/);
  const nobody = (await update({ assignee: null }, mine.version)).task;
  assert.equal(nobody.assigneeId, undefined);

  // Who can be assigned, and where, without guessing: list_projects names them, as each member sees it.
  await projects.createSection({ projectId: project!.id, name: "Packing" }, as(aliceToken));
  const listed = async (client: Client) => (await call(client, "list_projects", {})).structuredContent!.projects as Json[];
  const roadTrip = (await listed(alice)).find((p) => p.name === "Road trip");
  assert.deepEqual(roadTrip, {
    name: "Road trip",
    inbox: false,
    archived: false,
    role: "admin",
    sections: ["Packing"],
    members: [
      { email: "alice-mcp@example.com", role: "admin", owner: true },
      { email: "bob-mcp@example.com", role: "editor", owner: false },
    ],
  });
  const bobs = await listed(bob);
  assert.deepEqual(
    bobs.map((p) => [p.name, p.role, p.members?.length]),
    [
      ["Inbox", "admin", undefined],
      ["Road trip", "editor", 2],
    ],
  );

  // A line names the project, its section and a member as the web app's quick add reads them.
  const [line] = (await call(alice, "add_tasks", { tasks: [{ text: "Buy snacks #road-trip /packing +bob-mcp !low" }] })).structuredContent!.results as Json[];
  assert.deepEqual(
    [line!.task.title, line!.task.projectName, line!.task.sectionName, line!.task.assigneeEmail, line!.task.tags ?? []],
    ["Buy snacks", "Road trip", "Packing", "bob-mcp@example.com", []],
  );
});

test("complete, reopen and delete in batches; each item reports its own outcome", async () => {
  const added = (await call(alice, "add_tasks", { tasks: [{ title: "One" }, { title: "Two" }] })).structuredContent!.results as Json[];
  const ids = added.map((a) => a.task.id as string);
  const done = await call(alice, "complete_tasks", { ids });
  assert.deepEqual(
    (done.structuredContent!.results as Json[]).map((r) => r.task.status),
    ["completed", "completed"],
  );
  const reopened = await call(alice, "reopen_tasks", { ids: [ids[0]] });
  const one = (reopened.structuredContent!.results as Json[])[0]!.task;
  assert.equal(one.status, "open");

  const gone = await call(alice, "delete_tasks", {
    tasks: [
      { id: ids[0], version: one.version },
      { id: ids[1], version: 1 },
    ],
  });
  assert.equal(gone.isError, true, "the second item's version is stale");
  const [deleted, stale] = gone.structuredContent!.results as Json[];
  assert.equal(deleted!.ok, true);
  assert.equal(stale!.error.code, "aborted");
  assert.equal(gone.structuredContent!.succeeded, 1);
});

test("complete_tasks refuses a task with open subtasks, naming how many, unless includeSubtasks completes them too", async () => {
  const tasks = createClient(TaskService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const me = { headers: { authorization: `Bearer ${aliceToken}` } };
  const { task: parent } = await tasks.createTask({ title: "Move house" }, me);
  const children = await Promise.all(["Pack", "Label boxes"].map(async (title) => (await tasks.createTask({ title, parentId: parent!.id }, me)).task!.id));
  const refused = (await call(alice, "complete_tasks", { ids: [parent!.id] })).structuredContent!.results as Json[];
  assert.equal(refused[0]!.error.code, "failed_precondition");
  assert.match(JSON.stringify(refused[0]!.error), /2 open subtasks/);
  const done = (await call(alice, "complete_tasks", { ids: [parent!.id], includeSubtasks: true })).structuredContent!.results as Json[];
  assert.equal(done[0]!.task.status, "completed");
  assert.deepEqual(new Set(done[0]!.completedSubtaskIds), new Set(children));
});

test("another user's agent never reaches the tasks", async () => {
  const [mine] = (await call(alice, "add_tasks", { tasks: [{ title: "Alice's secret" }] })).structuredContent!.results as Json[];
  const found = await call(bob, "find_tasks", { query: "secret" });
  assert.deepEqual(found.structuredContent!.tasks, []);
  const update = await call(bob, "update_tasks", { updates: [{ id: mine!.task.id, version: mine!.task.version, title: "Bob's now" }] });
  assert.equal((update.structuredContent!.results as Json[])[0]!.error.code, "not_found");
  const del = await call(bob, "delete_tasks", { tasks: [{ id: mine!.task.id, version: mine!.task.version }] });
  assert.equal((del.structuredContent!.results as Json[])[0]!.error.code, "not_found");
});

test("comments: added once per request id, listed with author and time; another user's agent gets not_found", async () => {
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Plan the party" }] })).structuredContent!.results as Json[];
  const taskId = added!.task.id as string;
  const first = await call(alice, "add_comment", { taskId, body: "Saturday works", requestId: "party-1" });
  const again = await call(alice, "add_comment", { taskId, body: "Saturday works", requestId: "party-1" });
  assert.equal(again.structuredContent!.comment.id, first.structuredContent!.comment.id);
  const { comments } = (await call(alice, "list_comments", { taskId })).structuredContent!;
  assert.equal(comments.length, 1);
  assert.equal(comments[0].body, "Saturday works");
  assert.equal(comments[0].authorEmail, "alice-mcp@example.com");
  assert.ok(Date.now() - Date.parse(comments[0].createTime) < 60_000);
  const blank = await call(alice, "add_comment", { taskId, body: "  " });
  assert.equal(blank.isError, true);
  assert.match(text(blank), /"field":"body"/);
  assert.equal(JSON.parse(text(await call(bob, "list_comments", { taskId }))).error.code, "not_found");
  assert.equal(JSON.parse(text(await call(bob, "add_comment", { taskId, body: "hi" }))).error.code, "not_found");
});

test("an agent with a read-only token finds tasks but cannot change them", async () => {
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  const { accessToken } = await auth.signIn({ email: "alice-mcp@example.com", password: "mcp-test-secret" });
  const { secret } = await auth.createApiToken({ name: "reader", scopes: [ApiTokenScope.READ] }, { headers: { authorization: `Bearer ${accessToken}` } });
  const reader = await connect(secret);
  try {
    assert.equal((await call(reader, "find_tasks", { query: "" })).isError, undefined);
    const add = await call(reader, "add_tasks", { tasks: [{ title: "Not allowed" }] });
    assert.equal(add.isError, true);
    assert.match(JSON.stringify(add.structuredContent ?? text(add)), /lacks the write scope/);
  } finally {
    await reader.close();
  }
});

test("reminders: set, list upcoming, snooze once fired", async () => {
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Call the bank", dueDate: "2031-09-01" }] })).structuredContent!.results as Json[];
  const soon = new Date(Date.now() + 1_500).toISOString();
  const set = await call(alice, "set_reminders", { taskId: added!.task.id, reminders: [{ at: soon }, { beforeDueMinutes: 30 }], version: added!.task.version });
  assert.equal(set.isError, undefined, text(set));
  assert.equal(set.structuredContent!.task.reminders.length, 2);

  const upcoming = await call(alice, "list_reminders", {});
  assert.ok((upcoming.structuredContent!.reminders as Json[]).some((r) => r.taskId === added!.task.id));

  let fired: Json | undefined;
  for (const deadline = Date.now() + 20_000; !fired && Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    const list = await call(alice, "list_reminders", { taskId: added!.task.id });
    fired = (list.structuredContent!.reminders as Json[]).find((r) => r.state === "fired");
  }
  assert.ok(fired, "the reminder fired");
  const snoozed = await call(alice, "snooze_reminder", { taskId: added!.task.id, reminderId: fired.reminder.id, minutes: 10 });
  assert.equal(snoozed.isError, undefined, text(snoozed));
  assert.equal(snoozed.structuredContent!.reminder.state, "snoozed");

  const neither = await call(alice, "snooze_reminder", { taskId: added!.task.id, reminderId: "r1" });
  assert.equal(neither.isError, true);
});

test("the tools read dates in the client's x-time-zone when it is one, else in the account's", async () => {
  const token = await signUp("dave-mcp@example.com");
  for (const [sent, used] of [
    ["Asia/Tokyo", "Asia/Tokyo"],
    ["Not/AZone", "Europe/Berlin"],
  ] as const) {
    const client = await connect(token, { "x-time-zone": sent });
    try {
      const r = await call(client, "get_overview", {});
      assert.equal(r.isError, undefined, text(r));
      assert.equal(r.structuredContent!.timeZone, used, `sent ${sent}`);
    } finally {
      await client.close();
    }
  }
});

test("get_overview counts overdue, today, upcoming and priorities", async () => {
  const carol = await connect(await signUp("carol-mcp@example.com"));
  try {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date());
    const day = (offset: number) => new Date(Date.parse(`${today}T12:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
    const added = await call(carol, "add_tasks", {
      tasks: [
        { title: "late", dueDate: day(-2), priority: "high" },
        { title: "now", dueDate: day(0), priority: "high" },
        { title: "soon", dueDate: day(3), priority: "low" },
        { title: "later", dueDate: day(30) },
        { title: "someday" },
      ],
    });
    assert.equal(added.isError, undefined, text(added));
    const r = await call(carol, "get_overview", {});
    assert.equal(r.isError, undefined, text(r));
    const o = r.structuredContent!;
    assert.equal(o.today, today);
    assert.deepEqual(o.counts, { open: 5, overdue: 1, dueToday: 1, upcoming: 1, noDue: 1, byPriority: { high: 2, medium: 0, low: 1, none: 2 } });
    assert.deepEqual(
      (o.overdue as Json[]).map((t) => t.title),
      ["late"],
    );
    assert.deepEqual(
      (o.dueToday as Json[]).map((t) => t.title),
      ["now"],
    );
  } finally {
    await carol.close();
  }
});

test("an agent's change is in the activity history with device mcp", async () => {
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Audited" }] })).structuredContent!.results as Json[];
  const auditClient = createClient(AuditService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));
  for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const { entries } = await auditClient.listActivity({ taskId: added!.task.id }, { headers: { authorization: `Bearer ${aliceToken}` } });
    if (entries[0]) {
      assert.equal(entries[0].device, "mcp");
      break;
    }
    assert.ok(Date.now() < deadline, "the activity entry");
  }
});

test("get_activity shows an agent's change; undo reverts it, and refuses to overwrite a later edit", async () => {
  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Book flights", priority: "low" }] })).structuredContent!.results as Json[];
  const edited = (await call(alice, "update_tasks", { updates: [{ id: added!.task.id, version: added!.task.version, priority: "high" }] })).structuredContent!.results as Json[];
  let update: Json | undefined;
  for (const deadline = Date.now() + 15_000; !update; await new Promise((r) => setTimeout(r, 100))) {
    const history = await call(alice, "get_activity", { taskId: added!.task.id });
    update = (history.structuredContent!.entries as Json[]).find((e) => e.kind === "task_updated");
    assert.ok(update || Date.now() < deadline, "the update in the history");
  }
  assert.equal(update.device, "mcp");
  assert.equal(update.undoable, true);
  assert.match(update.summary, /priority low → high/);

  const undone = await call(alice, "undo", { taskId: added!.task.id, entryId: update.id });
  assert.equal(undone.isError, undefined, text(undone));
  assert.equal(undone.structuredContent!.task.priority, "low");

  // Undoing the same change again would overwrite the undo's own edit: refused.
  const again = await call(alice, "undo", { taskId: added!.task.id, entryId: update.id });
  assert.equal(again.isError, true);
  assert.equal(JSON.parse(text(again)).error.code, "aborted");
  assert.equal(edited[0]!.task.priority, "high");

  const missing = await call(bob, "undo", { taskId: added!.task.id, entryId: update.id });
  assert.equal(JSON.parse(text(missing)).error.code, "not_found", "another user's history stays out of reach");

  // A deletion undone: the same task, under its id.
  const current = (await call(alice, "find_tasks", { query: '"Book flights"' })).structuredContent!.tasks as Json[];
  await call(alice, "delete_tasks", { tasks: [{ id: added!.task.id, version: current[0]!.version }] });
  let deletion: Json | undefined;
  for (const deadline = Date.now() + 15_000; !deletion; await new Promise((r) => setTimeout(r, 100))) {
    const history = await call(alice, "get_activity", { taskId: added!.task.id });
    deletion = (history.structuredContent!.entries as Json[]).find((e) => e.kind === "task_deleted");
    assert.ok(deletion || Date.now() < deadline, "the deletion in the history");
  }
  const restored = await call(alice, "undo", { taskId: added!.task.id, entryId: deletion.id });
  assert.equal(restored.isError, undefined, text(restored));
  assert.deepEqual([restored.structuredContent!.task.id, restored.structuredContent!.task.title], [added!.task.id, "Book flights"]);
});

test("repeat rules: preview a phrase, skip an occurrence, end the series", async () => {
  const preview = await call(alice, "preview_recurrence", { phrase: "every month on the 31st", start: "2031-01-01", count: 3 });
  assert.equal(preview.isError, undefined, text(preview));
  // "the 31st" as people mean it: the last day of shorter months, written out as its own rule.
  assert.equal(preview.structuredContent!.rrule, "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1");
  assert.deepEqual(preview.structuredContent!.occurrences, ["2031-01-31", "2031-02-28", "2031-03-31"]);
  const nonsense = await call(alice, "preview_recurrence", { phrase: "whenever I feel like it" });
  assert.equal(nonsense.isError, true);
  assert.equal(JSON.parse(text(nonsense)).error.fields[0].field, "phrase");

  const [added] = (await call(alice, "add_tasks", { tasks: [{ title: "Standup", dueDate: "2031-03-03", recurrence: "every monday" }] })).structuredContent!.results as Json[];
  assert.equal(added!.task.dueDate, "2031-03-03");
  const skipped = await call(alice, "skip_occurrence", { taskId: added!.task.id, version: added!.task.version });
  assert.equal(skipped.isError, undefined, text(skipped));
  assert.equal(skipped.structuredContent!.skipped, "2031-03-03");
  assert.equal(skipped.structuredContent!.task.dueDate, "2031-03-10");

  const stale = await call(alice, "end_series", { taskId: added!.task.id, version: added!.task.version });
  assert.equal(JSON.parse(text(stale)).error.code, "aborted", "the task changed since that version");
  const ended = await call(alice, "end_series", { taskId: added!.task.id });
  assert.equal(ended.isError, undefined, text(ended));
  assert.match(ended.structuredContent!.task.recurrence.rrule, /UNTIL=/);
});
