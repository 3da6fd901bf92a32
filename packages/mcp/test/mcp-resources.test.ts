// What the MCP server offers besides tools, driven by the SDK's client over Streamable HTTP against
// the embedded app: the user's saved filters as resources (the list, one filter with its tasks),
// the prompts, and the project, section and assignee of tasks in the tools' answers. Then the MCP
// Inspector's CLI mode (the npm package, as a developer runs it) lists the tools and calls one.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createLogger } from "@taskmesh/kit";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";
import { inspectorLauncher } from "./support/inspector.js";
import { apiTokenUser, type ApiTokenUser } from "@taskmesh/testing/connect";

const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-mcp-resources-"));
let app: EmbeddedApp;
let user: ApiTokenUser;
let client: Client;

// biome-ignore lint/suspicious/noExplicitAny: tool results are JSON the tests read at any depth, and the assertions check each value read
type Json = Record<string, any>;
beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("mcp-resources-test"));
  user = await apiTokenUser(app.server.url, { email: "resources-mcp@example.com", timeZone: "Europe/Berlin", tokenName: "agent" });
  client = new Client({ name: "mcp-resources-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${user.token}` } } }));
});

afterAll(async () => {
  await client?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("tasks in the tools' answers carry their project and section, by id and by name", async () => {
  const { project } = await user.client(ProjectService).createProject({ name: "Garden" });
  const { section } = await user.client(ProjectService).createSection({ projectId: project!.id, name: "Beds" });
  const { task } = await user.client(TaskService).createTask({ title: "Plant tulips", tags: ["spring"], projectId: project!.id, sectionId: section!.id });
  await client.callTool({ name: "add_tasks", arguments: { tasks: [{ text: "Buy bulbs #spring" }] } });

  const found = (await client.callTool({ name: "find_tasks", arguments: { query: "#spring", orderBy: "title" } })) as { structuredContent: Json; content: { text: string }[] };
  const [bulbs, tulips] = found.structuredContent.tasks as Json[];
  assert.deepEqual(
    { projectId: tulips!.projectId, projectName: tulips!.projectName, sectionId: tulips!.sectionId, sectionName: tulips!.sectionName },
    { projectId: project!.id, projectName: "Garden", sectionId: section!.id, sectionName: "Beds" },
  );
  assert.equal(bulbs!.projectName, "Inbox", "a task added without a project is in the Inbox, named so");
  assert.equal(bulbs!.sectionId, undefined);
  assert.deepEqual(JSON.parse(found.content[0]!.text), found.structuredContent, "the text repeats the structured answer, names included");

  const completed = (await client.callTool({ name: "complete_tasks", arguments: { ids: [task!.id] } })) as { structuredContent: Json };
  assert.equal(completed.structuredContent.results[0].task.projectName, "Garden", "batch answers are named too");
});

test("find_tasks takes a question in plain English and says how it read it", async () => {
  const found = (await client.callTool({ name: "find_tasks", arguments: { question: "show spring tasks in project garden" } })) as { structuredContent: Json; isError?: boolean };
  assert.equal(found.isError, undefined, JSON.stringify(found));
  assert.equal(found.structuredContent.understood.translated, true);
  assert.match(found.structuredContent.understood.query, /project:garden/);
  assert.match(found.structuredContent.understood.explanation, /^Showing tasks where/);
  assert.deepEqual(
    found.structuredContent.tasks.map((t: Json) => t.title),
    ["Plant tulips"],
  );
  const both = (await client.callTool({ name: "find_tasks", arguments: { question: "overdue", query: "#spring" } })) as { isError?: boolean; content: { text: string }[] };
  assert.equal(both.isError, true);
  assert.match(both.content[0]!.text, /give query or question, not both/);
});

test("saved filters are resources: the list, and one filter with how it reads and the tasks it finds", async () => {
  const { filter } = await user.client(TaskService).saveFilter({ name: "Spring work", query: "#spring status:all" });
  await user.client(TaskService).saveFilter({ name: "Nothing", query: "#nothing-has-this" });

  const listed = await client.listResources();
  const mine = listed.resources.find((r) => r.uri === `taskmesh://filters/${filter!.id}`);
  assert.equal(mine?.name, "Spring work");
  assert.ok(listed.resources.some((r) => r.uri === "taskmesh://filters"));

  const all = JSON.parse(((await client.readResource({ uri: "taskmesh://filters" })).contents[0] as { text: string }).text) as Json;
  assert.deepEqual(all.filters.map((f: Json) => f.name).sort(), ["Nothing", "Spring work"]);

  const one = await client.readResource({ uri: `taskmesh://filters/${filter!.id}` });
  assert.equal(one.contents[0]!.mimeType, "application/json");
  const body = JSON.parse((one.contents[0] as { text: string }).text) as Json;
  assert.equal(body.query, "#spring status:all");
  assert.match(body.explanation.summary, /spring/);
  assert.deepEqual(body.tasks.map((t: Json) => t.title).sort(), ["Buy bulbs", "Plant tulips"]);
  assert.equal(body.tasks.find((t: Json) => t.title === "Plant tulips").projectName, "Garden");

  await assert.rejects(client.readResource({ uri: "taskmesh://filters/no-such-filter" }), /no saved filter no-such-filter/);
});

test("prompts: plan my week and triage overdue, with their arguments", async () => {
  const { prompts } = await client.listPrompts();
  assert.deepEqual(prompts.map((p) => p.name).sort(), ["plan_my_week", "triage_overdue"]);
  const plan = await client.getPrompt({ name: "plan_my_week", arguments: { focus: "#work" } });
  const text = (plan.messages[0]!.content as { text: string }).text;
  assert.match(text, /get_overview/);
  assert.match(text, /favouring #work/);
  const triage = await client.getPrompt({ name: "triage_overdue", arguments: { limit: "5" } });
  assert.match((triage.messages[0]!.content as { text: string }).text, /due:overdue.*limit 5/);
  await assert.rejects(client.getPrompt({ name: "triage_overdue", arguments: { limit: "many" } }));
});

test("the MCP Inspector's CLI lists the tools and calls one against the server", async () => {
  const launcher = await inspectorLauncher();
  const inspect = (...args: string[]) =>
    new Promise<Json>((resolve, reject) =>
      execFile(
        process.execPath,
        [launcher, "--cli", `${app.server.url}/mcp`, "--transport", "http", "--header", `Authorization: Bearer ${user.token}`, ...args],
        { timeout: 120_000, env: { ...process.env, HOME: dataDir } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Json)),
      ),
    );
  const listed = await inspect("--method", "tools/list");
  const names = (listed.tools as Json[]).map((t) => t.name);
  assert.ok(names.includes("find_tasks") && names.includes("add_tasks"), names.join(", "));

  const called = await inspect("--method", "tools/call", "--tool-name", "find_tasks", "--tool-arg", "query=#spring status:all", "orderBy=title");
  assert.equal(called.isError, undefined, JSON.stringify(called));
  assert.deepEqual(
    called.structuredContent.tasks.map((t: Json) => t.title),
    ["Buy bulbs", "Plant tulips"],
  );
});
