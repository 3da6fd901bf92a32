// `npm run bench -- embedded`: the default `npm start` app (its own PostgreSQL server as a child
// process) measured through its gateway as users reach it: Connect JSON over HTTP/1.1 with an API
// token, `hey` (Go) as the load generator. BENCH_NODE_ARGS adds options to the app's node (to
// compare heap settings, say); DATABASE_URL points it at another PostgreSQL.
//
// Start-up to /readyz on a new data folder and again on the same one (warm); idle memory of
// everything the app started (RSS and PSS, summed over the process tree); BENCH_TASKS (10,000)
// CreateTask calls from 16 callers (rate, p50/p99, server CPU per call); ListTasks pages of 50
// (`status:open`, a text search for a common word, for a word no task has) at 1 and 16 callers;
// memory under load; disk used.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, spawnServer, waitFor, type ServerProcess } from "../scripts/infra/cache.js";
import { ensureGoTool } from "../scripts/infra/go-tools.js";

const root = path.resolve(import.meta.dirname, "..");
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
// npm start's heap bound (scripts/launch.mjs) unless BENCH_NODE_ARGS says otherwise.
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "--max-old-space-size=256").split(" ").filter(Boolean);
const engine = process.env.DATABASE_URL ? "external PostgreSQL" : "own PostgreSQL";
const CLOCK_TICK = 100; // USER_HZ: /proc's CPU times are in 1/100 s on Linux

interface Proc {
  pid: number;
  ppid: number;
}

function processes(): Proc[] {
  return execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .map(([pid, ppid]) => ({ pid: pid!, ppid: ppid! }));
}

/** The app and everything it started. */
function tree(pid: number): number[] {
  const all = processes();
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i]) out.push(p.pid);
  return out;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the process ended meanwhile
  }
}

/** CPU seconds (user + system) of the tree, children that already ended included. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    const stat = read(`/proc/${p}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime (fields 14–17 of proc(5), counted from the state field here)
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLOCK_TICK;
}

/** RSS and PSS in MiB of the tree: RSS counts shared pages once per process, PSS shares them out. */
function memory(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of tree(pid)) {
    const rollup = read(`/proc/${p}/smaps_rollup`) ?? "";
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

interface App {
  proc: ServerProcess;
  url: string;
  readyMs: number;
}

async function startApp(dataDir: string): Promise<App> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawnServer({
    name: "embedded",
    command: process.execPath,
    // As scripts/launch.mjs starts it for `npm start`.
    args: [...nodeArgs, "--conditions=taskmesh-dist", "--enable-source-maps", "services/app/dist/main.js"],
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      TASKMESH_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
    },
    logFile: path.join(dataDir, "..", `${path.basename(dataDir)}.log`),
    stopSignal: "SIGTERM",
    stopTimeoutMs: 30_000,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 120_000, intervalMs: 20, what: "the app ready", proc });
  return { proc, url, readyMs: performance.now() - t0 };
}

async function call<T>(url: string, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${url}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface HeyResult {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function hey(url: string, token: string, method: string, body: unknown, requests: number, concurrency: number): Promise<HeyResult> {
  const out = execFileSync(
    await ensureGoTool("hey"),
    ["-n", String(requests), "-c", String(concurrency), "-m", "POST", "-T", "application/json", "-H", `authorization: Bearer ${token}`, "-d", JSON.stringify(body), `${url}/${method}`],
    { encoding: "utf8", maxBuffer: 16 << 20 },
  );
  const seconds = (label: string) => Number(new RegExp(`${label}% in ([\\d.]+) secs`).exec(out)?.[1]) * 1000;
  // hey sends n/c requests per caller (n rounded down to a multiple of c): count what it reports.
  const failures = [...out.matchAll(/^\s+\[(\d+)\]\s+(\d+ responses|.*)$/gm)].filter((m) => m[1] !== "200" || !m[2]!.endsWith("responses"));
  if (failures.length) process.stderr.write(`  ${method}: ${failures.map((m) => m[0].trim()).join("; ")}\n`);
  const errors = failures.reduce((n, m) => n + (m[2]!.endsWith("responses") ? Number(m[2]!.split(" ")[0]) : Number(m[1])), 0);
  return { perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50: seconds("50"), p99: seconds("99"), errors };
}

const f = (n: number, digits = 1) => n.toFixed(digits);

async function measure(): Promise<Record<string, string>> {
  const parent = mkdtempSync(path.join(tmpdir(), "bench-embedded-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  const out: Record<string, string> = {};
  let app = await startApp(dataDir);
  try {
    out["ready, new data folder (ms)"] = f(app.readyMs, 0);
    await app.proc.stop();
    app = await startApp(dataDir);
    out["ready, warm (ms)"] = f(app.readyMs, 0);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idle = memory(app.proc.pid!);
    out["idle RSS / PSS (MiB)"] = `${f(idle.rss, 0)} / ${f(idle.pss, 0)}`;

    const { accessToken } = await call<{ accessToken: string }>(app.url, "taskmesh.auth.v1.AuthService/SignUp", {
      email: "bench@example.com",
      password: "correct horse battery staple",
      timeZone: "Europe/Berlin",
    });
    const { secret: token } = await call<{ secret: string }>(app.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "bench" }, accessToken);
    let peak = idle;
    const sampler = setInterval(() => {
      const m = memory(app.proc.pid!);
      if (m.rss > peak.rss) peak = m;
    }, 500);
    const timed = async (label: string, method: string, body: unknown, n: number, c: number) => {
      const cpu0 = cpuSeconds(app.proc.pid!);
      const r = await hey(app.url, token, method, body, n, c);
      const cpuMs = ((cpuSeconds(app.proc.pid!) - cpu0) * 1000) / n;
      out[label] = `${f(r.perSecond, 0)}/s  p50 ${f(r.p50)} ms  p99 ${f(r.p99)} ms  CPU ${f(cpuMs, 2)} ms/call${r.errors ? `  ${r.errors} errors` : ""}`;
    };
    const task = { title: "Harbor inspection notes", notes: "check the harbor crane", priority: "PRIORITY_HIGH", tags: ["work"], dueDate: "2027-01-15" };
    await timed(`CreateTask ×${TASKS}, c=16`, "taskmesh.tasks.v1.TaskService/CreateTask", task, TASKS, 16);
    // Creates leave background work (events, audit, live feed): measure reads after it settled.
    const settle = Date.now();
    for (let last = cpuSeconds(app.proc.pid!); ; ) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const now = cpuSeconds(app.proc.pid!);
      if (now - last < 0.05 || Date.now() - settle > 300_000) break;
      last = now;
    }
    out["background work after the creates (s)"] = f((Date.now() - settle) / 1000 - 1, 0);
    const list = (query: string) => ({ query, orderBy: "due", pageSize: 50 });
    for (const [label, query] of [
      ["status:open", "status:open"],
      ["text, common word", "harbor"],
      ["text, no match", "zebra"],
    ] as const) {
      await timed(`ListTasks ${label}, c=1`, "taskmesh.tasks.v1.TaskService/ListTasks", list(query), 300, 1);
      await timed(`ListTasks ${label}, c=16`, "taskmesh.tasks.v1.TaskService/ListTasks", list(query), 2_000, 16);
    }
    clearInterval(sampler);
    out["loaded peak RSS / PSS (MiB)"] = `${f(peak.rss, 0)} / ${f(peak.pss, 0)}`;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = memory(app.proc.pid!);
    out[`idle after, ${TASKS} tasks, RSS / PSS (MiB)`] = `${f(after.rss, 0)} / ${f(after.pss, 0)}`;
    out["disk used (MiB)"] = execFileSync("du", ["-sm", dataDir], { encoding: "utf8" }).split("\t")[0]!;
    return out;
  } finally {
    await app.proc.stop();
    rmSync(parent, { recursive: true, force: true });
  }
}

process.stderr.write(`\n▶ npm start's app on its ${engine}${nodeArgs.length ? ` (node ${nodeArgs.join(" ")})` : ""}: ${TASKS} tasks…\n`);
const results = await measure();
console.log(`\n| ${TASKS} tasks, one user | ${engine}${nodeArgs.length ? `, node ${nodeArgs.join(" ")}` : ""} |\n|---|---|`);
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v} |`);
