// `npm run bench -- startup`: the embedded app (`npm start`) started the way it was before and the
// way it is now, each on a fresh data directory then again on the same one (warm):
//
//   before: npm start = npm → sh → tsx's CLI → node + esbuild, on the machine's node (npm exec tsx)
//   after:  npm start = npm → sh → scripts/launch.mjs → node apps/embedded/dist/main.js (Node 24)
//   and the command alone, as an image runs it: compiled, and tsx loaded in-process (the old image)
//
// For each: time from spawning the command to GET /readyz answering 200, and the CPU time its
// processes used until then (steadier than the wall clock on a busy machine); RSS (and PSS) of every
// process the command started, summed, after 5 s idle, and after BENCH_STARTUP_TASKS (2,000)
// CreateTask calls through the gateway by one user (8 callers, first round only).
// BENCH_STARTUP_ROUNDS (3) rounds per command; the table has the median (min–max). BENCH_APP_ROOT
// compares the compiled app of another checkout (its dist/ built) with this one's instead: the image's
// command of each, the launchers left out.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, sleep, spawnServer, type ServerProcess } from "@taskmesh/infra/cache";
import { load, mb } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const TASKS = Number(process.env.BENCH_STARTUP_TASKS ?? 2000);
const node24 = process.execPath; // bench/run.ts runs on the project's Node (scripts/launch.mjs)
const machineNode = process.env.TASKMESH_MACHINE_NODE ?? node24;

/** The environment as a shell on this machine has it: the machine's node first, no npm script variables. */
function machineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("npm_") && !["NODE", "TASKMESH_NODE_NOTED", "TASKMESH_MACHINE_NODE", "NODE_OPTIONS"].includes(k)) env[k] = v;
  env.PATH = [path.dirname(machineNode), ...(process.env.PATH ?? "").split(path.delimiter).filter((p) => p !== path.dirname(node24))].join(path.delimiter);
  return env;
}

interface Variant {
  label: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The checkout it runs in (this one unless BENCH_APP_ROOT). */
  cwd?: string;
}

const version = (bin: string) => execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
const image = (cwd: string): Variant => ({
  label: `node dist/main.js (image), ${version(node24)}${cwd === root ? "" : `, ${cwd}`}`,
  command: node24,
  args: ["--conditions=taskmesh-dist", "--enable-source-maps", "apps/embedded/dist/main.js"],
  env: { ...process.env, NODE_OPTIONS: "" },
  cwd,
});
const appRoot = process.env.BENCH_APP_ROOT;
const variants: Variant[] = appRoot
  ? [image(path.resolve(appRoot)), image(root)]
  : [
      { label: `before: npm start (tsx, ${version(machineNode)})`, command: "npm", args: ["exec", "--offline", "--", "tsx", "apps/embedded/src/main.ts"], env: machineEnv() },
      { label: `after: npm start (compiled, ${version(node24)})`, command: "npm", args: ["start"], env: machineEnv() },
      { label: `node --import=tsx src/main.ts (old image), ${version(node24)}`, command: node24, args: ["--import=tsx", "apps/embedded/src/main.ts"], env: { ...process.env, NODE_OPTIONS: "" } },
      image(root),
    ];

interface Proc {
  pid: number;
  rss: number;
  /** proportional set size: shared pages divided among the processes sharing them (Linux) */
  pss: number;
  args: string;
}

function pssOf(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The process and all its descendants, with their RSS (bytes). */
function tree(pid: number): Proc[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid=,rss=,args="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]) * 1024, args: m[4]! }));
  const out: Proc[] = [];
  const visit = (p: number) => {
    const row = rows.find((r) => r.pid === p);
    if (row) out.push({ ...row, pss: pssOf(row.pid) });
    for (const child of rows.filter((r) => r.ppid === p)) visit(child.pid);
  };
  visit(pid);
  return out;
}

/** CPU seconds used by the process tree so far, its reaped children (npm ci, tsc, vite) included. */
function cpuSeconds(pid: number): number {
  const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  let sum = 0;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
      sum += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    } catch {
      /* exited meanwhile */
    }
  }
  return sum / ticks;
}

const total = (procs: Proc[]) => procs.reduce((sum, p) => sum + p.rss, 0);
const totalPss = (procs: Proc[]) => procs.reduce((sum, p) => sum + p.pss, 0);
const short = (args: string) =>
  args
    .replace(`${root}/`, "")
    .replace(/\/\S*\/node_modules\//g, "…/node_modules/")
    .slice(0, 90);

async function start(v: Variant, dataDir: string, logName: string): Promise<{ proc: ServerProcess; port: number; readyMs: number; cpu: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawnServer({
    name: "startup",
    command: v.command,
    args: v.args,
    cwd: v.cwd ?? root,
    env: { ...v.env, PORT: String(port), TASKMESH_DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    logFile: path.join(dataDir, "..", `${logName}.log`),
  });
  for (;;) {
    if (proc.exited) throw new Error(`${v.label}: exited before ready (${proc.exitDescription()})\n${proc.logTail(20)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (performance.now() - t0 > 180_000) throw new Error(`${v.label}: not ready after 180 s\n${proc.logTail(20)}`);
    await sleep(25);
  }
  const readyMs = performance.now() - t0;
  return { proc, port, readyMs, cpu: cpuSeconds(proc.pid) };
}

/** Stops the command as a terminal would (SIGTERM to its process group), waiting for its drain. */
async function stop(proc: ServerProcess): Promise<void> {
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {
    /* gone */
  }
  await proc.stop({ timeoutMs: 30_000 });
}

async function createTasks(port: number): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  const call = async (rpc: string, body: unknown, token?: string) => {
    const res = await fetch(`${base}/${rpc}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${rpc}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const { accessToken } = (await call("taskmesh.auth.v1.AuthService/SignUp", {
    email: `bench-${Date.now()}@example.com`,
    password: "correct horse battery staple",
    displayName: "Bench",
    timeZone: "Europe/Berlin",
  })) as { accessToken: string };
  const s = await load(TASKS, 8, (i) => call("taskmesh.tasks.v1.TaskService/CreateTask", { title: `Task ${i} groceries`, tags: ["home"], priority: "PRIORITY_MEDIUM" }, accessToken));
  return `${s.count} created, ${s.perSecond.toFixed(0)}/s${s.errors ? `, ${s.errors} errors` : ""}`;
}

const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 3);
const range = (xs: number[], fmt: (x: number) => string) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return sorted.length === 1 ? fmt(median) : `${fmt(median)} (${fmt(sorted[0]!)}–${fmt(sorted.at(-1)!)})`;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const cpu = (s: number) => `${s.toFixed(1)} s`;
const mib = (bytes: number) => mb(bytes).replace(" MiB", "");

const results: string[] = [];
for (const v of variants) {
  console.log(`\n## ${v.label}\n   ${[v.command, ...v.args].join(" ")}`);
  const m = {
    coldCpu: [] as number[],
    warmCpu: [] as number[],
    cold: [] as number[],
    warm: [] as number[],
    idle: [] as number[],
    idlePss: [] as number[],
    warmIdle: [] as number[],
    loaded: 0,
    processes: 0,
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = mkdtempSync(path.join(tmpdir(), "taskmesh-bench-startup-"));
    chmodSync(dir, 0o755); // a database server started as another user must be able to enter it
    const dataDir = path.join(dir, "data");
    try {
      const cold = await start(v, dataDir, "cold");
      await sleep(5000);
      const idle = tree(cold.proc.pid);
      if (round === 1) for (const p of idle) console.log(`     ${mb(p.rss).padStart(8)} RSS ${mb(p.pss).padStart(8)} PSS  ${short(p.args)}`);
      m.cold.push(cold.readyMs);
      m.coldCpu.push(cold.cpu);
      m.idle.push(total(idle));
      m.processes = idle.length;
      m.idlePss.push(totalPss(idle));
      let line = `   round ${round}: ready in ${seconds(cold.readyMs)} (CPU ${cold.cpu.toFixed(1)} s, empty data directory), idle ${mb(total(idle))} (PSS ${mb(totalPss(idle))})`;
      if (round === 1) {
        const created = await createTasks(cold.port);
        m.loaded = total(tree(cold.proc.pid));
        line += `; after CreateTask ×${TASKS} (${created}) ${mb(m.loaded)}`;
      }
      await stop(cold.proc);
      const warm = await start(v, dataDir, "warm");
      await sleep(5000);
      const warmIdle = tree(warm.proc.pid);
      await stop(warm.proc);
      m.warm.push(warm.readyMs);
      m.warmCpu.push(warm.cpu);
      m.warmIdle.push(total(warmIdle));
      console.log(`${line}; warm start ${seconds(warm.readyMs)} (CPU ${warm.cpu.toFixed(1)} s), idle ${mb(total(warmIdle))}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  results.push(
    `| ${v.label} | ${range(m.cold, seconds)}, CPU ${range(m.coldCpu, cpu)} | ${range(m.warm, seconds)}, CPU ${range(m.warmCpu, cpu)} | ${range(m.idle, mib)} (${m.processes}) | ${range(m.idlePss, mib)} | ${range(m.warmIdle, mib)} | ${mib(m.loaded)} |`,
  );
}
console.log(`\nmedian (min–max) of ${ROUNDS} rounds; MiB summed over every process the command started (RSS counts shared pages in each process, PSS divides them)`);
console.log(`| command | ready, empty data dir | ready, warm | idle RSS after 5 s (processes) | idle PSS | idle RSS, warm | RSS after ${TASKS.toLocaleString("en")} creates |`);
console.log("|---|---|---|---|---|---|---|");
for (const r of results) console.log(r);
