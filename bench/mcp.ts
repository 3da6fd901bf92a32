// `npm run bench -- mcp`: MCP tool calls through the gateway's /mcp (Streamable HTTP, stateless
// JSON) on the `npm start` app (compiled, its own PostgreSQL), with the SDK's own client and a
// personal API token, as an agent calls them. Each caller is one connected client (initialize
// once, then tools/call after tools/call).
//
// Prints, per tool call: rate, p50/p99 and the app's CPU per call; beside it the same task query
// as a plain Connect call (ListTasks, JSON), which is what the MCP layer adds to. BENCH_MCP_TASKS
// (1,000) tasks are seeded first; BENCH_MCP_CALLS (600) calls per row; BENCH_MCP_CALLERS (8).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { call, cpuSeconds, load, row, startApp, type Stats } from "./lib.js";

const TASKS = Number(process.env.BENCH_MCP_TASKS ?? 1_000);
const CALLS = Number(process.env.BENCH_MCP_CALLS ?? 600);
const CALLERS = Number(process.env.BENCH_MCP_CALLERS ?? 8);
const root = path.resolve(import.meta.dirname, "..");

process.stderr.write("▶ compiling (tsc -b tsconfig.build.json, as npm start does)…\n");
execFileSync(path.join(root, "node_modules/.bin/tsc"), ["-b", "tsconfig.build.json", "--noCheck"], { cwd: root, stdio: "inherit" });

const parent = mkdtempSync(path.join(tmpdir(), "bench-mcp-"));
chmodSync(parent, 0o755);
const app = await startApp(path.join(parent, "data"), { nodeArgs: ["--max-old-space-size=256"] });
const clients: Client[] = [];
try {
  const { accessToken } = await call<{ accessToken: string }>(app.url, "taskmesh.auth.v1.AuthService/SignUp", {
    email: "bench-mcp@example.com",
    password: "correct horse battery staple",
    timeZone: "Europe/Berlin",
  });
  const { secret: token } = await call<{ secret: string }>(app.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "bench" }, accessToken);
  const connect = async () => {
    const client = new Client({ name: "bench", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  };
  const pool = await Promise.all(Array.from({ length: CALLERS }, connect));

  /** A tool call that must succeed (a tool error counts as a failed call). */
  const tool = async (client: Client, name: string, args: Record<string, unknown>) => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r;
  };

  process.stderr.write(`▶ seeding ${TASKS} tasks with add_tasks (batches of 50)…\n`);
  const priorities = ["none", "low", "medium", "high"];
  const seed = await load(Math.ceil(TASKS / 50), 4, (b) =>
    tool(pool[b % CALLERS]!, "add_tasks", {
      tasks: Array.from({ length: Math.min(50, TASKS - b * 50) }, (_, i) => ({
        title: `Harbor inspection ${b * 50 + i}`,
        tags: [i % 2 ? "work" : "home"],
        priority: priorities[i % 4],
        dueDate: `2027-01-${String(1 + (i % 28)).padStart(2, "0")}`,
      })),
    }),
  );
  if (seed.errors) throw new Error("seeding failed");
  // The creates leave background work (events, audit, live feed): measure once the app is idle.
  for (let last = cpuSeconds(app.proc.pid!), waited = 0; waited < 300; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = cpuSeconds(app.proc.pid!);
    if (now - last < 0.05) break;
    last = now;
  }

  const results: [string, Stats, number][] = [];
  const measured = async (label: string, total: number, callers: number, op: (i: number) => Promise<unknown>) => {
    const cpu0 = cpuSeconds(app.proc.pid!);
    const stats = await load(total, callers, op);
    results.push([label, stats, ((cpuSeconds(app.proc.pid!) - cpu0) * 1000) / Math.max(1, stats.count)]);
    process.stderr.write(`  ${label}: done\n`);
  };
  const by = (i: number) => pool[i % CALLERS]!;
  // Warm-up (connections, query plans, the JIT): not counted.
  await load(100, CALLERS, (i) => tool(by(i), "find_tasks", { query: "#work", limit: 50 }));

  const query = { query: "#work !high due<2027-01-20", limit: 50 };
  await measured("tools/call find_tasks (page of 50), 1 caller", CALLS / 2, 1, () => tool(pool[0]!, "find_tasks", query));
  await measured(`tools/call find_tasks (page of 50), ${CALLERS} callers`, CALLS, CALLERS, (i) => tool(by(i), "find_tasks", query));
  await measured(`Connect ListTasks, the same query, ${CALLERS} callers`, CALLS, CALLERS, () =>
    call(app.url, "taskmesh.tasks.v1.TaskService/ListTasks", { query: query.query, pageSize: 50, explain: true }, token),
  );
  await measured(`tools/call add_tasks, 1 quick-add line, ${CALLERS} callers`, CALLS, CALLERS, (i) =>
    tool(by(i), "add_tasks", { tasks: [{ text: `Call the harbor master ${i} tomorrow at 9am #work !high remind me 30 min before` }] }),
  );
  await measured(`tools/call add_tasks, a repeating line, ${CALLERS} callers`, CALLS / 2, CALLERS, (i) =>
    tool(by(i), "add_tasks", { tasks: [{ text: `Crane check ${i} every monday at 8am #work` }] }),
  );
  await measured(`tools/call get_overview, ${CALLERS} callers`, CALLS / 6, CALLERS, (i) => tool(by(i), "get_overview", {}));
  await measured(`tools/list, ${CALLERS} callers`, CALLS, CALLERS, (i) => by(i).listTools());

  console.log(`\n## MCP through /mcp: ${TASKS + CALLS * 1.5} tasks at the end, ${CALLERS} SDK clients in this process (same 2 cores as the app)\n`);
  for (const [label, stats, cpuMs] of results) console.log(`${row(label, stats)}  app CPU ${cpuMs.toFixed(2)} ms/call`);
  if (results.some(([, s]) => s.errors > 0)) process.exitCode = 1;
} finally {
  await Promise.allSettled(clients.map((c) => c.close()));
  await app.proc.stop();
  rmSync(parent, { recursive: true, force: true });
}
