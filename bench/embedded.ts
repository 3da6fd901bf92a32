// `npm run bench -- embedded`: the default `npm start` app (its own PostgreSQL server as a child
// process) measured through its gateway as users reach it: Connect JSON over HTTP/1.1 with an API
// token, `hey` (Go) as the load generator. BENCH_NODE_ARGS adds options to the app's node after
// npm start's (to compare heap settings, say); DATABASE_URL points it at another PostgreSQL; BENCH_APP_ROOT runs
// the app of another checkout (its dist/ built), to compare commits run after run.
//
// Start-up to /readyz on a new data folder, again on the same one (warm) and once more after the
// tasks (wall time and the CPU the process tree used until then); idle memory of
// everything the app started (RSS and PSS, summed over the process tree); BENCH_TASKS (10,000)
// CreateTask calls from 16 callers (rate, p50/p99, server CPU per call); ListTasks pages of 50
// (`status:open`, a text search for a common word, for a word no task has) at 1 and 16 callers
// (BENCH_LIST_CALLS, 2,000 per query at 16);
// memory under load; disk used.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { appNodeArgs, appNodeEnv } from "../scripts/app-node.mjs";
import { call, cpuSeconds, hey, memory, startApp as startAppWith } from "./lib.js";

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
// ListTasks calls per query at 16 callers (at 1 caller up to 300): fewer for a slow engine.
const LIST_CALLS = Number(process.env.BENCH_LIST_CALLS ?? 2_000);
// npm start's node options and environment (scripts/app-node.mjs); BENCH_NODE_ARGS adds to them (a later option wins).
const nodeArgs = [...appNodeArgs(), ...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean)];
const appRoot = process.env.BENCH_APP_ROOT;
const engine = `${process.env.DATABASE_URL ? "external PostgreSQL" : "own database"}${appRoot ? ` (${appRoot})` : ""}`;
const startApp = (dataDir: string) => startAppWith(dataDir, { nodeArgs, env: appNodeEnv(), root: appRoot });
const f = (n: number, digits = 1) => n.toFixed(digits);

async function measure(): Promise<Record<string, string>> {
  const parent = mkdtempSync(path.join(tmpdir(), "bench-embedded-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  // The machine may be shared: the load around a run says how far its figures compare.
  const out: Record<string, string> = { "load average (1 min) at start": f(loadavg()[0]!) };
  let app = await startApp(dataDir);
  // On a loaded machine the wall clock mostly waits for a core; the CPU the tree used is steadier.
  const ready = (label: string) => (out[`ready, ${label} (ms; CPU s)`] = `${f(app.readyMs, 0)}; ${f(cpuSeconds(app.proc.pid!), 1)}`);
  try {
    ready("new data folder");
    await app.proc.stop();
    app = await startApp(dataDir);
    ready("warm");
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
    // Reading every process's smaps takes CPU from what is measured: sampled every 2 s.
    const sampler = setInterval(() => {
      const m = memory(app.proc.pid!);
      if (m.rss > peak.rss) peak = m;
    }, 2_000);
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
      await timed(`ListTasks ${label}, c=1`, "taskmesh.tasks.v1.TaskService/ListTasks", list(query), Math.min(300, LIST_CALLS), 1);
      await timed(`ListTasks ${label}, c=16`, "taskmesh.tasks.v1.TaskService/ListTasks", list(query), LIST_CALLS, 16);
    }
    clearInterval(sampler);
    out["loaded peak RSS / PSS (MiB)"] = `${f(peak.rss, 0)} / ${f(peak.pss, 0)}`;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = memory(app.proc.pid!);
    out[`idle after, ${TASKS} tasks, RSS / PSS (MiB)`] = `${f(after.rss, 0)} / ${f(after.pss, 0)}`;
    out["disk used (MiB)"] = execFileSync("du", ["-sm", dataDir], { encoding: "utf8" }).split("\t")[0]!;
    await app.proc.stop();
    app = await startApp(dataDir);
    ready(`warm, ${TASKS} tasks`);
    out["load average (1 min) at the end"] = f(loadavg()[0]!);
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
