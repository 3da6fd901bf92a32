// Shared by the benchmarks: latency percentiles, a fixed-concurrency load loop, service processes
// and databases.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { ensureKafkaTopics } from "@taskmesh/events";
import { startApicurio, type ApicurioHandle } from "@taskmesh/infra/apicurio";
import { freePort, run, serviceDir, spawnServer, waitFor, type ServerProcess } from "@taskmesh/infra/cache";
import { ensureGoTool } from "@taskmesh/infra/go-tools";
import { startKafka, type KafkaHandle } from "@taskmesh/infra/kafka";
import { startPostgres, type PostgresHandle } from "@taskmesh/infra/postgres";

const root = path.resolve(import.meta.dirname, "..");

/** A benchmark setting from the environment: a positive integer, or `fallback` when unset. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export interface Stats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** Runs `op` `total` times with `concurrency` callers in flight; latencies in ms. */
export async function load(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        try {
          await op(i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (firstError) console.error("first error:", firstError);
  return summarize(latencies, seconds, errors);
}

export function summarize(latencies: number[], seconds: number, errors = 0): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { count: sorted.length, seconds, perSecond: sorted.length / seconds, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN, errors };
}

export function row(label: string, s: Stats): string {
  return `${label.padEnd(48)} ${s.perSecond.toFixed(0).padStart(7)}/s  p50 ${s.p50.toFixed(2).padStart(7)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms  max ${s.max.toFixed(1).padStart(7)} ms  n=${s.count}${s.errors ? `  errors=${s.errors}` : ""}`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export interface ServiceProcess {
  port: number;
  url: string;
  proc: ServerProcess;
}

/**
 * Starts a deployable from its main.ts with node + tsx, as its image's ENTRYPOINT does, on a free
 * port, and waits until /readyz answers. Its output is appended to `logFile` (a restart appends to
 * the same file after a line naming the start); LOG_LEVEL is warn unless `env` says otherwise.
 */
export async function startServiceProcess(name: string, entry: string, env: Record<string, string>, stopTimeoutMs = 20_000, logFile = path.join(serviceDir(name), "out.log")): Promise<ServiceProcess> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proc = spawnServer({
    name,
    command: process.execPath,
    args: [...nodeArgs, "--import=tsx", entry],
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env, PORT: String(port) },
    logFile,
    stopTimeoutMs,
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 180_000, what: `${name} ready`, proc, intervalMs: 250 });
  return { port, url: `http://127.0.0.1:${port}`, proc };
}

/** A process's resident memory, in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * A process's peak resident memory since `resetPeakRss` (or its start), in MiB: the kernel's own
 * high-water mark, exact where a sampler would miss a spike and free where walking smaps every
 * fraction of a second costs the machine a tenth of a core.
 */
export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** The vocabulary of seeded tasks, as a WITH clause: `w`, 34 words for titles and notes, and `t`, 10 tags. */
export const SEED_WORDS = `WITH words AS (SELECT ARRAY['buy','groceries','call','mum','file','taxes','renew','passport','book','dentist','fix','bike',
                                'plan','trip','rome','pay','rent','water','plants','write','report','review','budget','clean',
                                'garage','email','landlord','order','printer','ink','schedule','meeting','prepare','slides'] AS w,
                          ARRAY['home','work','errands','finance','health','travel','family','admin','garden','music'] AS t)`;

export type ClusterServiceName = "tasks" | "reminders" | "recurrence" | "audit" | "gateway";

/** Cluster mode's services, each run from its main.ts as its image runs it; a service comes after those it calls. */
export const CLUSTER_SERVICES: { name: ClusterServiceName; entry: string; db: boolean; calls: ClusterServiceName[] }[] = [
  { name: "tasks", entry: "services/tasks/src/main.ts", db: true, calls: [] },
  { name: "reminders", entry: "services/reminders/src/main.ts", db: true, calls: ["tasks"] },
  { name: "recurrence", entry: "services/recurrence/src/main.ts", db: false, calls: ["tasks"] },
  { name: "audit", entry: "services/audit/src/main.ts", db: true, calls: [] },
  { name: "gateway", entry: "gateway/src/main.ts", db: true, calls: ["tasks", "recurrence", "reminders", "audit"] },
];

/** What every cluster-mode service is given besides its links: calls straight to the other services, the gateway's replica id and secret, a short scheduler lease. */
export const CLUSTER_ENV: Readonly<Record<string, string>> = {
  TASKMESH_TRANSPORT: "direct",
  GATEWAY_REPLICA_ID: "gateway-bench",
  TASKMESH_JWT_SECRET: "cluster-".repeat(6),
  SCHEDULER_LEASE_MS: "5000",
};

export interface ClusterInfra {
  postgres: PostgresHandle;
  kafka: KafkaHandle;
  registry: ApicurioHandle;
}

/**
 * Cluster mode's infrastructure: PostgreSQL (a commit acknowledged once in the WAL, so a kill -9
 * does not undo it), Kafka (KRaft; `kafkaListeners` adds listeners, each advertising its own
 * address) and Apicurio; then the topics, and, as the chart's prepare hook does before the pods
 * start, the migrations and the schemas' registration.
 */
export async function startClusterInfra(kafkaListeners: { name: string; port: number; advertised: string }[] = []): Promise<ClusterInfra> {
  const [postgres, kafka, registry] = await Promise.all([startPostgres({ settings: { synchronous_commit: "on" } }), startKafka({ listeners: kafkaListeners }), startApicurio()]);
  await ensureKafkaTopics({ brokers: [kafka.bootstrap] });
  const prepare = spawnSync(process.execPath, ["--import=tsx", "deploy/src/prepare.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: postgres.url, KAFKA_BROKERS: kafka.bootstrap, SCHEMA_REGISTRY_URL: registry.ccompatUrl },
    encoding: "utf8",
  });
  if (prepare.status !== 0) throw new Error(`prepare failed: ${prepare.stdout}${prepare.stderr}`);
  return { postgres, kafka, registry };
}

/** One cluster-mode service with its links in `env` (plus CLUSTER_ENV), logging to `logFile` (at info unless `env` says otherwise). */
export function startClusterService(name: ClusterServiceName, env: Record<string, string>, logFile: string): Promise<ServiceProcess> {
  const entry = CLUSTER_SERVICES.find((s) => s.name === name)!.entry;
  return startServiceProcess(name, entry, { ...CLUSTER_ENV, LOG_LEVEL: "info", ...env }, 20_000, logFile);
}

/** A database for one run: a PostgreSQL server of its own, stopped by `cleanup`. */
export async function benchDatabase(): Promise<{ url: string; cleanup(): Promise<void> }> {
  const pg = await startPostgres();
  return { url: pg.url, cleanup: () => pg.stop() };
}

const CLOCK_TICK = 100; // USER_HZ: /proc's CPU times are in 1/100 s on Linux

interface Proc {
  pid: number;
  ppid: number;
}

function parseProcesses(ps: string): Proc[] {
  return ps
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .map(([pid, ppid]) => ({ pid: pid!, ppid: ppid! }));
}

const PS_ARGS = ["-e", "-o", "pid=,ppid="];

/** The processes in `roots` and everything they started. */
function descendants(all: Proc[], roots: number[]): number[] {
  const out = [...roots];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i]) out.push(p.pid);
  return out;
}

/** A process and everything it started. */
export function tree(pid: number): number[] {
  return descendants(parseProcesses(execFileSync("ps", PS_ARGS, { encoding: "utf8" })), [pid]);
}

/**
 * The processes in `roots` and everything they started, from one `ps` that does not block the
 * event loop (a sampler in a process that also takes timestamps: a sync `ps` takes ~0.1 s on a
 * loaded machine).
 */
export async function trees(roots: number[]): Promise<number[]> {
  const { stdout } = await promisify(execFile)("ps", PS_ARGS, { encoding: "utf8" });
  return descendants(parseProcesses(stdout), roots);
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the process ended meanwhile
  }
}

/** CPU ticks of one process: its own (utime, stime) and its children's that already ended (cutime, cstime). */
function ticks(pid: number): { own: number; ended: number } {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return { own: 0, ended: 0 };
  // utime, stime, cutime, cstime (fields 14–17 of proc(5), counted from the state field here)
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { own: Number(fields[11]) + Number(fields[12]), ended: Number(fields[13]) + Number(fields[14]) };
}

/** CPU seconds (user + system) of the tree (or of `pids`), children that already ended included. */
export function cpuSeconds(pid: number, pids = tree(pid)): number {
  let sum = 0;
  for (const p of pids) {
    const t = ticks(p);
    sum += t.own + t.ended;
  }
  return sum / CLOCK_TICK;
}

/** CPU seconds of the process alone, without anything it started. */
export function ownCpuSeconds(pid: number): number {
  return ticks(pid).own / CLOCK_TICK;
}

/** RSS and PSS in MiB of the tree: RSS counts shared pages once per process, PSS shares them out. */
export function memory(pid: number, pids = tree(pid)): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    const rollup = read(`/proc/${p}/smaps_rollup`) ?? "";
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

export interface App {
  proc: ServerProcess;
  url: string;
  readyMs: number;
}

/**
 * The `npm start` app (apps/embedded/dist/main.js, compiled: run `npm run build` first) on a free
 * port with its data under `dataDir`, started as scripts/launch.mjs starts it; `env` adds variables
 * (DATABASE_URL for another PostgreSQL); `root` runs another checkout's build (to compare commits).
 */
export async function startApp(dataDir: string, options: { nodeArgs: string[]; env?: Record<string, string>; root?: string }): Promise<App> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawnServer({
    name: "embedded",
    command: process.execPath,
    args: [...options.nodeArgs, "--conditions=taskmesh-dist", "--enable-source-maps", "apps/embedded/dist/main.js"],
    cwd: options.root ?? root,
    env: {
      ...process.env,
      ...options.env,
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

/** One Connect JSON call. */
export async function call<T>(url: string, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${url}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface HeyResult {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `requests` Connect JSON calls of one body from `concurrency` callers, by hey (Go), over HTTP/1.1. */
export async function hey(url: string, token: string, method: string, body: unknown, requests: number, concurrency: number): Promise<HeyResult> {
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

export interface CallRequest {
  method: string;
  body: unknown;
}

/**
 * Connect JSON calls from `concurrency` callers by vegeta (Go) over HTTP/1.1 with keep-alive, each
 * request with a body of its own (hey sends one body over and over), in the order given.
 */
export async function vegeta(url: string, token: string, requests: CallRequest[], concurrency: number): Promise<Stats> {
  const bin = await ensureGoTool("vegeta");
  const dir = mkdtempSync(path.join(tmpdir(), "bench-vegeta-"));
  try {
    const targets = path.join(dir, "targets.jsonl");
    const header = { "Content-Type": ["application/json"], Authorization: [`Bearer ${token}`] };
    writeFileSync(targets, `${requests.map((r) => JSON.stringify({ method: "POST", url: `${url}/${r.method}`, body: Buffer.from(JSON.stringify(r.body)).toString("base64"), header })).join("\n")}\n`);
    const results = path.join(dir, "results.bin");
    // rate 0 with a fixed number of workers: each sends its next request when the last one returned.
    // -lazy: the attack ends when the targets do.
    await run(bin, [
      "attack",
      "-format=json",
      `-targets=${targets}`,
      "-lazy",
      "-rate=0",
      `-workers=${concurrency}`,
      `-max-workers=${concurrency}`,
      "-max-body=0",
      "-http2=false",
      `-output=${results}`,
    ]);
    const lines = execFileSync(bin, ["encode", "-to", "json", results], { encoding: "utf8", maxBuffer: 256 << 20 })
      .trim()
      .split("\n");
    const done = lines.map((l) => JSON.parse(l) as { code: number; timestamp: string; latency: number; error: string }).filter((r) => r.error !== "no targets to attack");
    const ok = done.filter((r) => r.code === 200);
    const failed = done.filter((r) => r.code !== 200);
    if (failed.length) process.stderr.write(`  ${requests[0]?.method}: ${failed.length} failed, first: ${failed[0]!.code} ${failed[0]!.error}\n`);
    const start = done.reduce((first, r) => Math.min(first, Date.parse(r.timestamp)), Infinity);
    const end = done.reduce((last, r) => Math.max(last, Date.parse(r.timestamp) + r.latency / 1e6), -Infinity);
    return summarize(
      ok.map((r) => r.latency / 1e6),
      (end - start) / 1000,
      failed.length,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
