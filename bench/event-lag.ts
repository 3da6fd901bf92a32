// Do events keep up with sustained writes? `npm run bench -- event-lag [embedded|cluster]`
//
// embedded (default): npm start's app (compiled: `npm run build` first, its own PostgreSQL);
// cluster: the task, reminders, recurrence and audit services and the gateway, each its own
// process from its main.ts, on PostgreSQL + Kafka + Apicurio (chaos's start-up without faults).
//
// Load, through the gateway (Connect JSON, an API token): first the sustainable create rate is
// found — BENCH_LAG_PROBE_SECONDS (30) of CreateTask from 16 callers in a closed loop, the rate the
// gateway answered in its second half (the first warms up); the drive runs at 90 % of it (BENCH_LAG_RATE sets it instead).
// Then, after the probe's events have drained, CreateTask at that fixed rate (an open loop: a slow
// response does not delay the next request) for BENCH_LAG_SECONDS (300); one create in ten is a
// daily recurring task, completed (CompleteTask) half a second after its create was answered. The
// generator is a Node loop in this process (it needs the responses: the ids to complete); its CPU
// and event-loop delay are printed. BENCH_NODE_ARGS (embedded) adds node flags to the app, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof": the drive's and the drain's windows are printed for
// bench/tools/cpuprofile-top.ts.
//
// Measured, per 30 s bucket of commit time and overall (p50/p99/max, count):
//   live        commit → live frame: a second device of the same user (another API token) on the
//               gateway's /live socket; each `task` frame of a load task, arrival − the task's
//               update_time in the frame (the server's clock is this machine's)
//   audit       commit → audit row: audit.activity's recorded_at of each TaskCreated − the task's
//               created_at (both read from the database after the run; recorded_at is the audit
//               transaction's start, so the row's commit comes a little after)
//   recurrence  completion → next occurrence: the next occurrence's created_at − the completed
//               task's completed_at
// and the server's CPU (every server process's tree from /proc: the app and its PostgreSQL; in
// cluster mode the services, PostgreSQL, the broker's and the registry's JVMs) per 1,000 creates
// during the drive and after it, RSS before, after, BENCH_LAG_SETTLE_SECONDS (30) later and at the
// peak (embedded: the app's node alone too, run with npm start's options), and after the last response: the time
// until the server's CPU stops moving (within 2 % of a core of what it used idle before, over 1 s)
// and until each backlog is zero (frames not
// yet at the device, created tasks without their audit row, completions without their next
// occurrence; BENCH_LAG_DRAIN_SECONDS, 600, at most). Targets (the issue's): each p99 < 1 s in the
// first minute as in the last, the server idle within 2 s of the last call.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { WebSocket } from "ws";
import { POSTGRES_FOLDER } from "@taskmesh/embedded";
import {
  call,
  CLUSTER_SERVICES,
  cpuSeconds,
  intEnv,
  memory,
  startApp,
  startClusterInfra,
  startClusterService,
  summarize,
  trees,
  type ClusterServiceName,
  type ServiceProcess,
  type Stats,
} from "./lib.js";
import { hello, PONG, readFrame } from "./live-frames.js";
import { appNodeArgs, appNodeEnv } from "../scripts/app-node.mjs";

const SECONDS = intEnv("BENCH_LAG_SECONDS", 300);
const PROBE_SECONDS = intEnv("BENCH_LAG_PROBE_SECONDS", 30);
/** How long after the drain the server's RSS is read again, idle. */
const SETTLE_SECONDS = intEnv("BENCH_LAG_SETTLE_SECONDS", 30);
const FIXED_RATE = process.env.BENCH_LAG_RATE ? intEnv("BENCH_LAG_RATE", 1) : undefined;
const DRAIN_SECONDS = intEnv("BENCH_LAG_DRAIN_SECONDS", 600);
const RECURRING_EVERY = 10;
const COMPLETE_AFTER_MS = 500;
const BUCKET_S = 30;
const TARGET_MS = 1_000;
const IDLE_TARGET_MS = 2_000;
/** Requests in flight at most: beyond it the gateway is not keeping up, and the send is counted late. */
const MAX_IN_FLIGHT = 1_024;
const TASK_SERVICE = "taskmesh.tasks.v1.TaskService";
const TITLE = "lag ";
const mode = process.argv[2] ?? "embedded";
if (mode !== "embedded" && mode !== "cluster") throw new Error(`unknown mode "${mode}": embedded or cluster`);
process.env.LOG_LEVEL ??= "error";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock ms with sub-ms precision: comparable with the server's timestamps (same machine). */
const wallNow = () => performance.timeOrigin + performance.now();
const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const say = (line: string) => process.stderr.write(`[event-lag ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** What a mode starts: the gateway's URL, the database the services write, the server processes. */
interface System {
  url: string;
  databaseUrl: string;
  /** The root of every server process tree (CPU and memory are summed over their trees). */
  pids(): number[];
  /** embedded: the app's node process, whose RSS is also reported alone (without its PostgreSQL). */
  app?: number;
  stop(): Promise<void>;
}

async function embedded(): Promise<System> {
  const parent = mkdtempSync(path.join(tmpdir(), "bench-event-lag-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  // npm start's node options and environment (scripts/app-node.mjs); BENCH_NODE_ARGS adds to them (a later option wins).
  const nodeArgs = [...appNodeArgs(), ...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean)];
  const app = await startApp(dataDir, { nodeArgs, env: appNodeEnv() });
  const pgData = path.join(dataDir, POSTGRES_FOLDER);
  return {
    url: app.url,
    databaseUrl: `postgres://taskmesh@localhost/taskmesh?host=${encodeURIComponent(pgData)}`,
    pids: () => [app.proc.pid],
    app: app.proc.pid,
    stop: async () => {
      await app.proc.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** The processes whose command line holds `text` (the JVMs of the broker and the registry hold their folders). */
function pidsWith(text: string): number[] {
  return execFileSync("ps", ["-e", "-o", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(text))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function cluster(): Promise<System> {
  const logDir = mkdtempSync(path.join(tmpdir(), "bench-event-lag-"));
  say(`services' logs: ${logDir}`);
  const infra = await startClusterInfra();
  const started = new Map<ClusterServiceName, ServiceProcess>();
  const stop = async () => {
    await Promise.allSettled([...started.values()].reverse().map((s) => s.proc.stop()));
    await Promise.allSettled([infra.kafka.stop(), infra.postgres.stop(), infra.registry.stop()]);
  };
  try {
    for (const s of CLUSTER_SERVICES) {
      const env: Record<string, string> = { KAFKA_BROKERS: infra.kafka.bootstrap, SCHEMA_REGISTRY_URL: infra.registry.ccompatUrl, LOG_LEVEL: "warn" };
      if (s.db) env.DATABASE_URL = infra.postgres.url;
      for (const callee of s.calls) env[`${callee.toUpperCase()}_URL`] = started.get(callee)!.url;
      started.set(s.name, await startClusterService(s.name, env, path.join(logDir, `${s.name}.log`)));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const postmaster = Number(readFileSync(path.join(infra.postgres.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const jvms = [...pidsWith(path.join(path.dirname(infra.kafka.dataDir), "server.properties")), ...pidsWith(path.dirname(infra.registry.logFile))];
  return {
    url: started.get("gateway")!.url,
    databaseUrl: infra.postgres.url,
    pids: () => [...[...started.values()].map((s) => s.proc.pid), postmaster, ...jvms],
    stop,
  };
}

/** CPU seconds and RSS (MiB) of every server process (and of the app's node alone), the process table read without blocking the device's timestamps. */
async function usage(system: System): Promise<{ cpu: number; rss: number; appRss: number }> {
  const pids = await trees(system.pids());
  return { cpu: cpuSeconds(pids[0]!, pids), rss: memory(pids[0]!, pids).rss, appRss: system.app ? memory(system.app, [system.app]).rss : Number.NaN };
}
const serverCpu = async (system: System) => (await usage(system)).cpu;

// ---------------------------------------------------------------------------
// the load

interface Created {
  id: string;
  version: string;
  recurring: boolean;
  /** The server's create_time (ms). */
  committedAt: number;
}

interface Load {
  creates: Created[];
  completions: { id: string; committedAt: number }[];
  errors: Map<string, number>;
  firstError?: string;
  lateSends: number;
  startedAt: number;
  lastResponseAt: number;
  generatorCpu: number;
  loopDelayP99: number;
  createLatency: Stats;
}

async function rpc<T>(url: string, method: string, body: unknown, token: string, errors: Map<string, number>): Promise<T | undefined> {
  try {
    const res = await fetch(`${url}/${TASK_SERVICE}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    const key = `${method} HTTP ${res.status} ${(JSON.parse(text) as { code?: string }).code ?? ""}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  } catch (err) {
    const key = `${method} ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }
  return undefined;
}

type TaskJson = { task: { id: string; version: string; createTime: string; updateTime: string } };

/**
 * The create rate the gateway answers from 16 callers in a closed loop, over the second half of
 * PROBE_SECONDS (the first half warms the app up: connections, plans, JIT).
 */
async function probe(url: string, token: string): Promise<{ rate: number; errors: number; stats: Stats }> {
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  const t0 = performance.now();
  const half = t0 + (PROBE_SECONDS * 1000) / 2;
  const end = t0 + PROBE_SECONDS * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const ok = await rpc(url, "CreateTask", { title: `probe ${i++}` }, token, errors);
        if (ok && s >= half) latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - half) / 1000;
  return { rate: latencies.length / seconds, errors: [...errors.values()].reduce((a, b) => a + b, 0), stats: summarize(latencies, seconds) };
}

/** CreateTask at `rate`/s for SECONDS, every RECURRING_EVERY-th a daily task completed COMPLETE_AFTER_MS after its response. */
async function drive(url: string, token: string, rate: number): Promise<Load> {
  const load: Load = {
    creates: [],
    completions: [],
    errors: new Map(),
    lateSends: 0,
    startedAt: wallNow(),
    lastResponseAt: 0,
    generatorCpu: 0,
    loopDelayP99: 0,
    createLatency: summarize([], 1),
  };
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const responded = () => {
    load.lastResponseAt = wallNow();
  };
  const complete = async (created: Created) => {
    await sleep(COMPLETE_AFTER_MS);
    const r = await rpc<TaskJson>(url, "CompleteTask", { id: created.id, expectedVersion: created.version }, token, load.errors);
    responded();
    if (r) load.completions.push({ id: r.task.id, committedAt: Date.parse(r.task.updateTime) });
  };
  const create = async (i: number) => {
    const recurring = i % RECURRING_EVERY === 0;
    const body = recurring ? { title: `${TITLE}${i}`, dueTime: new Date(Date.now() + 86_400_000).toISOString(), recurrence: { rrule: "FREQ=DAILY" } } : { title: `${TITLE}${i}` };
    const s = performance.now();
    const r = await rpc<TaskJson>(url, "CreateTask", { ...body, requestId: randomUUID() }, token, load.errors);
    responded();
    if (!r) return;
    latencies.push(performance.now() - s);
    const created = { id: r.task.id, version: r.task.version, recurring, committedAt: Date.parse(r.task.createTime) };
    load.creates.push(created);
    if (recurring) track(complete(created));
  };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  load.startedAt = wallNow();
  const total = rate * SECONDS;
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      if (pending.size >= MAX_IN_FLIGHT) {
        load.lateSends++;
        await Promise.race(pending);
      }
      track(create(sent));
    }
    await sleep(5);
  }
  while (pending.size) await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  load.generatorCpu = (cpu.user + cpu.system) / 1e6;
  load.loopDelayP99 = loopDelay.percentile(99) / 1e6;
  load.createLatency = summarize(latencies, (performance.now() - t0) / 1000);
  return load;
}

// ---------------------------------------------------------------------------
// the other device

class Device {
  /** `${id}/${version}` → arrival (wall ms) and the version's update_time (ms), first arrival only. */
  readonly frames = new Map<string, { arrival: number; committedAt: number }>();
  /** Highest version seen per task. */
  readonly seen = new Map<string, number>();
  closes: string[] = [];
  refetches = 0;
  #cursor = "";
  #ws: WebSocket | undefined;
  #stopped = false;
  #ready!: () => void;
  readonly ready = new Promise<void>((resolve) => {
    this.#ready = resolve;
  });

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  start(): void {
    const ws = new WebSocket(`${this.url.replace("http", "ws")}/live`, { perMessageDeflate: false });
    this.#ws = ws;
    ws.on("open", () => ws.send(hello(this.token, this.#cursor)));
    ws.on("message", (data) => {
      const arrival = wallNow();
      const frame = readFrame(data.toString());
      switch (frame.case) {
        case "ping":
          ws.send(PONG);
          return;
        case "ready":
          this.#cursor = frame.value.cursor;
          this.#ready();
          return;
        case "refetch":
          // the device fell too far behind for the feed: the web app would list everything again
          this.refetches++;
          this.#cursor = frame.value.cursor;
          return;
        case "deleted":
          this.#cursor = frame.value.cursor;
          return;
        case "task": {
          this.#cursor = frame.value.cursor;
          const task = frame.value.task;
          if (!task?.title.startsWith(TITLE) || !task.updateTime) return;
          const key = `${task.id}/${task.version}`;
          if (!this.frames.has(key)) this.frames.set(key, { arrival, committedAt: timestampMs(task.updateTime) });
          this.seen.set(task.id, Math.max(this.seen.get(task.id) ?? 0, Number(task.version)));
          return;
        }
        default:
          return;
      }
    });
    ws.on("error", () => {});
    ws.on("close", (code, reason) => {
      if (this.#stopped) return;
      this.closes.push(`${code} ${reason.toString()}`);
      setTimeout(() => this.start(), 100);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.close();
  }
}

// ---------------------------------------------------------------------------
// backlogs and lags

interface Backlog {
  live: number;
  audit: number;
  recurrence: number;
}

async function backlog(db: pg.Client, userId: string, since: Date, load: Pick<Load, "creates" | "completions">, device: Device): Promise<Backlog> {
  let live = 0;
  for (const c of load.creates) if ((device.seen.get(c.id) ?? 0) < 1) live++;
  for (const c of load.completions) if ((device.seen.get(c.id) ?? 0) < 2) live++;
  const { rows } = await db.query<{ audit: number; recurrence: number }>(
    `SELECT (SELECT count(*) FROM tasks.tasks WHERE user_id = $1 AND created_at >= $2)
          - (SELECT count(*) FROM audit.activity WHERE user_id = $1::text AND kind = 1 AND occurred_at >= $2) AS audit,
            $3::int - (SELECT count(*) FROM tasks.tasks WHERE user_id = $1 AND created_at >= $2 AND series_id <> id) AS recurrence`,
    [userId, since, load.completions.length],
  );
  return { live, audit: Number(rows[0]!.audit), recurrence: Number(rows[0]!.recurrence) };
}

interface Lag {
  /** ms since the drive started, by the server's commit time */
  at: number;
  ms: number;
}

async function lags(db: pg.Client, userId: string, since: Date, startedAt: number, device: Device): Promise<Record<"live" | "audit" | "recurrence", Lag[]>> {
  const live = [...device.frames.values()].filter((x) => x.committedAt >= since.getTime()).map((x) => ({ at: x.committedAt - startedAt, ms: x.arrival - x.committedAt }));
  const epoch = (column: string) => `extract(epoch FROM ${column}) * 1000`;
  const audit = await db.query<{ committed: number; recorded: number }>(
    `SELECT ${epoch("t.created_at")} AS committed, ${epoch("a.recorded_at")} AS recorded
       FROM audit.activity a JOIN tasks.tasks t ON t.id::text = a.task_id
      WHERE a.user_id = $1::text AND a.kind = 1 AND t.user_id = $1 AND t.created_at >= $2`,
    [userId, since],
  );
  const next = await db.query<{ completed: number; created: number }>(
    `SELECT ${epoch("c.completed_at")} AS completed, ${epoch("n.created_at")} AS created
       FROM tasks.tasks n JOIN tasks.tasks c ON c.id = n.series_id
      WHERE n.user_id = $1 AND n.created_at >= $2 AND n.series_id <> n.id AND c.completed_at IS NOT NULL`,
    [userId, since],
  );
  return {
    live,
    audit: audit.rows.map((r) => ({ at: Number(r.committed) - startedAt, ms: Number(r.recorded) - Number(r.committed) })),
    recurrence: next.rows.map((r) => ({ at: Number(r.completed) - startedAt, ms: Number(r.created) - Number(r.completed) })),
  };
}

const stats = (xs: Lag[]) =>
  summarize(
    xs.map((x) => x.ms),
    1,
  );

function bucketTable(name: string, xs: Lag[]): string[] {
  const lines = [`| ${name}: commit time (s) | n | p50 ms | p99 ms | max ms |`, "|---|---|---|---|---|"];
  // reduce, not a spread: a run records a sample per create, beyond what a call's arguments hold.
  const last = xs.reduce((most, x) => Math.max(most, Math.ceil(x.at / 1000)), SECONDS);
  for (let from = 0; from < last; from += BUCKET_S) {
    const s = stats(xs.filter((x) => x.at >= from * 1000 && x.at < (from + BUCKET_S) * 1000));
    if (s.count) lines.push(`| ${from}–${from + BUCKET_S} | ${s.count} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} |`);
  }
  const all = stats(xs);
  lines.push(`| all | ${all.count} | ${f(all.p50)} | ${f(all.p99)} | ${f(all.max)} |`);
  return lines;
}

/** The most events per second in any `windowMs` window of these times (ms). */
function peakRate(times: number[], windowMs = 10_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return (most * 1000) / windowMs;
}

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  say(`${mode}: starting (load average ${loadAverage()})`);
  const system = mode === "cluster" ? await cluster() : await embedded();
  let device: Device | undefined;
  const db = new pg.Client({ connectionString: system.databaseUrl });
  try {
    await db.connect();
    const { accessToken, user } = await call<{ accessToken: string; user: { id: string } }>(system.url, "taskmesh.auth.v1.AuthService/SignUp", {
      email: `lag-${randomUUID()}@example.com`,
      password: "correct horse battery staple",
      timeZone: "UTC",
    });
    const token = async (name: string) => (await call<{ secret: string }>(system.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name }, accessToken)).secret;
    const writer = await token("writer");
    device = new Device(system.url, await token("other device"));
    device.start();
    await device.ready;

    const baselineAtStart = await quiet(system);
    say(`quiet after start-up: ${f(100 * baselineAtStart, 1)} % of a core`);
    const probeSince = new Date(Math.floor(wallNow()) - 1);
    const probed = await probe(system.url, writer);
    const rate = FIXED_RATE ?? Math.max(1, Math.floor(probed.rate * 0.9));
    const probeLine = `probe: CreateTask from 16 callers (closed loop), the last ${PROBE_SECONDS / 2} s of ${PROBE_SECONDS}: ${f(probed.rate)}/s, p50 ${f(probed.stats.p50, 1)} ms, p99 ${f(probed.stats.p99, 1)} ms, ${probed.errors} errors; drive at ${rate}/s${FIXED_RATE ? " (BENCH_LAG_RATE)" : " (90 %)"}`;
    say(probeLine);
    const probeEnd = wallNow();
    const probeDrained = await idleAfter(system, probeEnd, Infinity, async () => {
      const b = await backlog(db, user.id, probeSince, { creates: [], completions: [] }, device!);
      return b.audit === 0 ? true : b;
    });
    say(`the probe's creates all in the audit log ${f(((probeDrained.doneAt ?? Number.NaN) - probeEnd) / 1000, 1)} s after its end`);
    // What the server uses with nothing to do (timers, polls, the broker's JVM) once the probe's
    // events have drained: "idle" is within 2 % of a core of it.
    const baseline = await quiet(system);
    const idleBelow = baseline + 0.02;
    say(`quiet after the probe: ${f(100 * baseline, 1)} % of a core`);

    const { rss: rss0, appRss: appRss0 } = await usage(system);
    let rssPeak = rss0;
    let appRssPeak = appRss0;
    let sampling = true;
    const sampler = (async () => {
      for (; sampling; await sleep(1_000)) {
        const now = await usage(system);
        rssPeak = Math.max(rssPeak, now.rss);
        appRssPeak = Math.max(appRssPeak, now.appRss);
      }
    })();
    const load0 = loadAverage();
    const since = new Date(Math.floor(wallNow()) - 1);
    const cpu0 = await serverCpu(system);
    say(`drive: ${rate} creates/s for ${SECONDS} s (load average ${load0})`);
    const load = await drive(system.url, writer, rate);
    const cpuDrive = (await serverCpu(system)) - cpu0;
    const load1 = loadAverage();
    say(`drive done: ${load.creates.length} creates, ${load.completions.length} completions answered; draining`);
    const drained = await idleAfter(system, load.lastResponseAt, idleBelow, async () => {
      const b = await backlog(db, user.id, since, load, device!);
      return b.live + b.audit + b.recurrence === 0 ? true : b;
    });
    // CLOCK_MONOTONIC in µs, the clock of a --cpu-prof profile (BENCH_NODE_ARGS) for bench/tools/cpuprofile-top.ts
    const mono = (wall: number) => process.hrtime.bigint() / 1000n - BigInt(Math.round((wallNow() - wall) * 1000));
    say(`profile windows: drive ${mono(load.startedAt)}-${mono(load.lastResponseAt)}, after it ${mono(load.lastResponseAt)}-${mono(drained.doneAt ?? wallNow())}`);
    sampling = false;
    await sampler;
    const after = await usage(system);
    const cpuAfter = after.cpu - cpu0 - cpuDrive;
    const rss1 = after.rss;
    const appRss1 = after.appRss;
    // What the server gives back once idle: V8 shrinks its young generation and compacts some
    // seconds after allocation stops (its memory reducer); glibc keeps what it does not trim.
    await sleep(SETTLE_SECONDS * 1000);
    const settled = await usage(system);
    const lag = await lags(db, user.id, since, load.startedAt, device);
    const driveSeconds = (load.lastResponseAt - load.startedAt) / 1000;
    const creates = load.creates.length;
    const errors = [...load.errors].map(([k, n]) => `${k} ×${n}`).join(", ") || "none";

    const out: string[] = [
      `event-lag, ${mode}: load average ${load0} at the start of the drive, ${load1} at its end`,
      probeLine,
      `drive: ${creates} creates (${load.creates.filter((c) => c.recurring).length} recurring) and ${load.completions.length} completions answered in ${f(driveSeconds, 1)} s = ${f(creates / driveSeconds)} creates/s; CreateTask p50 ${f(load.createLatency.p50, 1)} ms, p99 ${f(load.createLatency.p99, 1)} ms, max ${f(load.createLatency.max)} ms; errors: ${errors}; sends delayed by ${MAX_IN_FLIGHT} in flight: ${load.lateSends}`,
      `generator (this process): ${f((100 * load.generatorCpu) / driveSeconds)} % of a core, event-loop delay p99 ${f(load.loopDelayP99, 1)} ms`,
      `server CPU: ${f((1000 * cpuDrive) / creates, 2)} s per 1,000 creates during the drive (${f((100 * cpuDrive) / driveSeconds)} % of a core) + ${f((1000 * cpuAfter) / creates, 2)} s per 1,000 after the last response (${f(cpuAfter, 1)} s)`,
      `server RSS: ${f(rss0)} MiB before, ${f(rss1)} MiB after, ${f(settled.rss)} MiB ${SETTLE_SECONDS} s later, ${f(rssPeak)} MiB peak${system.app ? `; the app's node alone ${f(appRss0)} / ${f(appRss1)} / ${f(settled.appRss)} / ${f(appRssPeak)} MiB` : ""}`,
      `after the last response: CPU idle (within 2 % of a core of the idle baseline, ${f(100 * baseline, 1)} %, over 1 s) in ${f((drained.cpuIdleAt - load.lastResponseAt) / 1000, 1)} s; backlogs zero in ${drained.doneAt ? `${f((drained.doneAt - load.lastResponseAt) / 1000, 1)} s` : `– (still ${JSON.stringify(drained.last)} after ${DRAIN_SECONDS} s)`}; backlog at the first look after it ${drained.first ? JSON.stringify(drained.first) : "none"}`,
      `throughput (most in any 10 s): creates committed ${f(peakRate(load.creates.map((c) => c.committedAt)))}/s, audit rows recorded ${f(peakRate(lag.audit.map((x) => x.at + x.ms)))}/s, live frames arrived ${f(peakRate(lag.live.map((x) => x.at + x.ms)))}/s, next occurrences created ${f(peakRate(lag.recurrence.map((x) => x.at + x.ms)))}/s`,
      `live device: ${device.frames.size} frames of load tasks, ${device.closes.length} closes by the server (${device.closes.slice(0, 3).join("; ") || "none"}), ${device.refetches} refetch frames`,
      "",
    ];
    const verdicts: string[] = [];
    const summary = ["| metric | first 60 s p99 ms | last 60 s p99 ms | all p50 / p99 / max ms | n |", "|---|---|---|---|---|"];
    for (const [name, label] of [
      ["live", "commit → live frame at another device"],
      ["audit", "commit → audit row (TaskCreated)"],
      ["recurrence", "completion → next occurrence"],
    ] as const) {
      const xs = lag[name];
      const first = stats(xs.filter((x) => x.at < 60_000));
      const last = stats(xs.filter((x) => x.at >= (SECONDS - 60) * 1000 && x.at < SECONDS * 1000));
      const all = stats(xs);
      summary.push(`| ${label} | ${f(first.p99)} | ${f(last.p99)} | ${f(all.p50)} / ${f(all.p99)} / ${f(all.max)} | ${all.count} |`);
      const met = first.p99 < TARGET_MS && last.p99 < TARGET_MS;
      verdicts.push(`target ${label}: p99 < 1 s in the first and the last minute: ${met ? "met" : "MISSED"} (${f(first.p99)} ms, ${f(last.p99)} ms)`);
      out.push(...bucketTable(label, xs), "");
    }
    const idleMs = drained.cpuIdleAt - load.lastResponseAt;
    verdicts.push(`target server idle within 2 s of the last call: ${idleMs <= IDLE_TARGET_MS ? "met" : "MISSED"} (${f(idleMs / 1000, 1)} s)`);
    out.push(...summary, "", ...verdicts);
    console.log(out.join("\n"));
    return 0;
  } finally {
    device?.stop();
    await db.end().catch(() => undefined);
    await system.stop();
  }
}

/**
 * Waits until the server's CPU use is steady — two 5 s windows within 3 % of a core of each other
 * (start-up's compilation, a backlog's drain have ended), 180 s at most — and returns it (cores).
 */
async function quiet(system: System): Promise<number> {
  const rate = async () => {
    const cpu0 = await serverCpu(system);
    const t0 = performance.now();
    await sleep(5_000);
    return ((await serverCpu(system)) - cpu0) / ((performance.now() - t0) / 1000);
  };
  let last = await rate();
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; ) {
    const now = await rate();
    if (Math.abs(now - last) < 0.03) return Math.min(now, last);
    last = now;
  }
  return last;
}

/**
 * From `from` (wall ms) on: when the server's CPU first moved less than `below` cores over 1 s, and when
 * `done` first said true (its other answers: the backlog then, the first and the last kept).
 */
async function idleAfter(system: System, from: number, below: number, done: () => Promise<true | Backlog>): Promise<{ cpuIdleAt: number; doneAt?: number; first?: Backlog; last?: Backlog }> {
  const cpu0 = await serverCpu(system);
  const samples: { at: number; cpu: number }[] = [{ at: wallNow(), cpu: cpu0 }];
  let cpuIdleAt: number | undefined;
  let doneAt: number | undefined;
  let first: Backlog | undefined;
  let last: Backlog | undefined;
  const deadline = from + DRAIN_SECONDS * 1000;
  let asked = 0;
  while (wallNow() < deadline && (cpuIdleAt === undefined || doneAt === undefined)) {
    // once a second: the counts are queries of the server measured
    if (doneAt === undefined && wallNow() - asked >= 1_000) {
      asked = wallNow();
      const d = await done();
      if (d === true) doneAt = wallNow();
      else {
        first ??= d;
        last = d;
      }
    }
    await sleep(250);
    const cpu = await serverCpu(system);
    const now = { at: wallNow(), cpu };
    samples.push(now);
    const before = samples.findLast((s) => now.at - s.at >= 1_000);
    if (cpuIdleAt === undefined && before && (now.cpu - before.cpu) / ((now.at - before.at) / 1000) < below) cpuIdleAt = before.at;
  }
  return { cpuIdleAt: cpuIdleAt ?? Number.NaN, doneAt, first, last };
}

process.exitCode = await main();
