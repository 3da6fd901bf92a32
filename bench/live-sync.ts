// Live sync at scale: thousands of WebSocket devices on one gateway process, under a steady rate of
// changes. For every change it measures the delay from the writer receiving the CreateTask /
// UpdateTask response (the change is committed) to the change's frame arriving at EVERY device of
// that user, counts misses, duplicates and frames delivered to another user's devices, and reads the
// gateway process's memory before and after the connections are opened.
//
//   npm run bench -- live-sync
//
// Sizes (environment): BENCH_LIVE_CONNECTIONS (5000) devices spread round robin over
// BENCH_LIVE_USERS (1000) users, BENCH_LIVE_RATE (50) changes/s for BENCH_LIVE_SECONDS (30),
// BENCH_LIVE_CONNECT_CONCURRENCY (50) handshakes in flight while connecting.
//
// PostgreSQL, Kafka and Apicurio are started here; the task service and the gateway each run as
// their own `node --import=tsx <main.ts>` process (as their images do), so the gateway's memory is
// its own: RSS from /proc/<pid>/status, heap from its /metrics. The devices and the writer share
// this one process (the `ws` client, no per-message compression). Exits 1 if a delivery is missed,
// duplicated or goes to the wrong user, a device fails to connect or the gateway closes one.
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { ensureKafkaTopics } from "@taskmesh/events";
import { POSTGRES_ENV, freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { WebSocket } from "ws";
import { AccessTokens } from "../gateway/src/auth/access-tokens.js";
import { startStack, type Stack } from "@taskmesh/infra/stack";
import { intEnv, load, mb, startServiceProcess, summarize, type ServiceProcess, type Stats } from "./lib.js";
import { hello, PONG, readFrame } from "./live-frames.js";
import { freePort } from "@taskmesh/infra/cache";

const root = path.resolve(import.meta.dirname, "..");
process.env.LOG_LEVEL ??= "error";

const CONNECTIONS = intEnv("BENCH_LIVE_CONNECTIONS", 5000);
const USERS = Math.min(intEnv("BENCH_LIVE_USERS", 1000), CONNECTIONS);
const RATE = intEnv("BENCH_LIVE_RATE", 50);
const SECONDS = intEnv("BENCH_LIVE_SECONDS", 30);
const CONNECT_CONCURRENCY = intEnv("BENCH_LIVE_CONNECT_CONCURRENCY", 50);
/** How long after the last write the devices may still receive before a pair counts as missed. */
const SETTLE_MS = 20_000;
const DEVICES_PER_USER = Math.ceil(CONNECTIONS / USERS);
const CHANGES = RATE * SECONDS;
const TITLE = /^live (\d+)$/;

// ---------------------------------------------------------------------------
// file descriptors: every device is a socket here and another one in the gateway

/** The soft "Max open files" of a process (Node raises its own soft limit to the hard one at start). */
function openFilesLimit(pid: number | "self"): number {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
}

function checkOpenFiles(who: string, pid: number | "self"): number {
  const limit = openFilesLimit(pid);
  const needed = CONNECTIONS + 500; // the sockets plus the process's own files, DB/Kafka connections
  if (limit < needed) {
    throw new Error(
      `${who} may open ${limit} files, but ${CONNECTIONS} connections need about ${needed}: ` +
        `raise the limit (\`ulimit -n ${needed}\` in this shell; the hard limit is in /etc/security/limits.conf or the container's --ulimit nofile) ` +
        `or lower BENCH_LIVE_CONNECTIONS`,
    );
  }
  return limit;
}

// ---------------------------------------------------------------------------
// the processes

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  cpuSeconds: number;
}

/** The gateway serves /metrics on a port of its own (METRICS_PORT), never on its public one. */
type GatewayProcess = ServiceProcess & { metricsPort: number };

/** The gateway's RSS from the kernel, its heap and CPU time from its prom-client default metrics. */
async function gatewayMemory(gateway: GatewayProcess): Promise<Memory> {
  const status = readFileSync(`/proc/${gateway.proc.pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  const metrics = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(metrics);
    if (!m) throw new Error(`the gateway's /metrics has no ${name}`);
    return Number(m[1]);
  };
  return { rss: rssKb * 1024, heapUsed: metric("nodejs_heap_size_used_bytes"), heapTotal: metric("nodejs_heap_size_total_bytes"), cpuSeconds: metric("process_cpu_seconds_total") };
}

/** Memory once the gateway has been idle a moment (timers and GC settle; no way to force a GC from here). */
async function settledMemory(gateway: GatewayProcess): Promise<Memory> {
  await new Promise((r) => setTimeout(r, 3_000));
  return gatewayMemory(gateway);
}

// ---------------------------------------------------------------------------
// the devices and the writer

interface Change {
  user: number;
  /** performance.now() when the writer sent the request. */
  sentAt: number;
  /** performance.now() when the writer had the response (NaN: not acknowledged). */
  committedAt: number;
}

const changes: Change[] = [];
/** First arrival of change `seq` at device slot `d` of its user: arrivals[seq * DEVICES_PER_USER + d]. */
const arrivals = new Float64Array(CHANGES * DEVICES_PER_USER).fill(NaN);
let duplicates = 0;
let wrongUser = 0;
let framesReceived = 0;
const unexpectedCloses = new Map<string, number>();
let running = true;
let updates = 0;

class Device {
  readonly user: number;
  readonly slot: number;
  ready = false;
  /** Closed by the other side during the run (its misses are counted apart). */
  closed = false;
  #ws: WebSocket | undefined;

  constructor(readonly index: number) {
    this.user = index % USERS;
    this.slot = Math.floor(index / USERS);
  }

  /** Resolves with the time to `ready` (ms). */
  connect(url: string, token: string): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      this.#ws = ws;
      ws.on("open", () => ws.send(hello(token)));
      ws.on("message", (data) =>
        this.#frame(data.toString(), () => {
          this.ready = true;
          resolve(performance.now() - t0);
        }),
      );
      ws.on("error", (err) => (this.ready ? undefined : reject(err)));
      ws.on("close", (code, reason) => {
        if (!this.ready) return reject(new Error(`closed before ready: ${code} ${reason.toString()}`));
        if (running) {
          this.closed = true;
          const key = `${code} ${reason.toString()}`;
          unexpectedCloses.set(key, (unexpectedCloses.get(key) ?? 0) + 1);
        }
      });
    });
  }

  #frame(text: string, onReady: () => void): void {
    const now = performance.now();
    framesReceived++;
    const frame = readFrame(text);
    if (frame.case === "ready") {
      onReady();
      return;
    }
    if (frame.case === "ping") {
      this.#ws!.send(PONG);
      return;
    }
    if (frame.case !== "task") return;
    const seq = Number(TITLE.exec(frame.value.task?.title ?? "")?.[1] ?? NaN);
    const change = changes[seq];
    if (!change) return;
    if (change.user !== this.user) {
      wrongUser++;
      return;
    }
    const at = seq * DEVICES_PER_USER + this.slot;
    if (Number.isNaN(arrivals[at]!)) arrivals[at] = now;
    else duplicates++;
  }

  close(): void {
    this.#ws?.terminate();
  }
}

interface User {
  id: string;
  token: string;
  /** The user's latest task and its version (for UpdateTask), and whether a write is in flight. */
  task?: { id: string; version: string };
  busy: boolean;
}

async function rpc<T>(gatewayPort: number, method: string, body: unknown, token: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/taskmesh.tasks.v1.TaskService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

type TaskResponse = { task: { id: string; title: string; version: string } };

/** One change: a new task, or a new title for the user's latest task; the title names the change. */
async function write(gatewayPort: number, user: User, seq: number, latencies: number[]): Promise<void> {
  const title = `live ${seq}`;
  const t0 = performance.now();
  changes[seq]!.sentAt = t0;
  // every other change of a user edits its latest task (not while a write of its is in flight: versions)
  const previous = user.busy || Math.floor(seq / USERS) % 2 === 0 ? undefined : user.task;
  user.busy = true;
  if (previous) updates++;
  try {
    const res = previous
      ? await rpc<TaskResponse>(gatewayPort, "UpdateTask", { task: { id: previous.id, title }, updateMask: "title", expectedVersion: previous.version }, user.token)
      : await rpc<TaskResponse>(gatewayPort, "CreateTask", { title, requestId: randomUUID() }, user.token);
    changes[seq]!.committedAt = performance.now();
    latencies.push(changes[seq]!.committedAt - t0);
    user.task = { id: res.task.id, version: res.task.version };
  } finally {
    user.busy = false;
  }
}

// ---------------------------------------------------------------------------

function fmt(s: Stats): string {
  return `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (n=${s.count})`;
}

function memoryLine(label: string, m: Memory): string {
  return `  gateway ${label.padEnd(26)} RSS ${mb(m.rss).padStart(8)}, heap used ${mb(m.heapUsed).padStart(7)} (of ${mb(m.heapTotal)})`;
}

async function run(gateway: GatewayProcess, secret: Uint8Array): Promise<boolean> {
  const url = `ws://127.0.0.1:${gateway.port}/live`;
  // Access tokens minted with the gateway's secret: it verifies the signature and claims only (no
  // account lookup), and the task service trusts the user id the gateway forwards, so no sign-ups.
  const tokens = new AccessTokens(secret);
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) {
    const id = randomUUID();
    users.push({ id, token: (await tokens.issue(id, "UTC")).token, busy: false });
  }
  for (let seq = 0; seq < CHANGES; seq++) changes.push({ user: seq % USERS, sentAt: NaN, committedAt: NaN });

  const before = await settledMemory(gateway);

  // connect: CONNECT_CONCURRENCY handshakes (TCP + upgrade + hello + the catch-up read) in flight
  const devices = Array.from({ length: CONNECTIONS }, (_, i) => new Device(i));
  const connect = await load(devices.length, CONNECT_CONCURRENCY, (i) => devices[i]!.connect(url, users[devices[i]!.user]!.token));
  const connected = await settledMemory(gateway);

  // the changes: an open loop at RATE/s (a slow response does not slow the next write down)
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const writeLatencies: number[] = [];
  const writes: Promise<void>[] = [];
  let writeErrors = 0;
  let firstWriteError: unknown;
  const tRun = performance.now();
  for (let seq = 0; seq < CHANGES; seq++) {
    const due = tRun + (seq * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const user = users[changes[seq]!.user]!;
    writes.push(
      write(gateway.port, user, seq, writeLatencies).catch((err: unknown) => {
        writeErrors++;
        firstWriteError ??= err;
      }),
    );
  }
  await Promise.all(writes);
  const writeSeconds = (performance.now() - tRun) / 1000;
  if (firstWriteError) console.error("first write error:", firstWriteError);

  // wait for the stragglers: every (acknowledged change, connected device of its user) pair, or SETTLE_MS
  const expected: number[] = []; // indexes into arrivals
  const deviceAt = (at: number) => devices[(at % DEVICES_PER_USER) * USERS + changes[Math.floor(at / DEVICES_PER_USER)]!.user]!;
  for (let seq = 0; seq < CHANGES; seq++) {
    const { user, committedAt } = changes[seq]!;
    if (Number.isNaN(committedAt)) continue;
    for (let slot = 0; slot * USERS + user < CONNECTIONS; slot++) if (devices[slot * USERS + user]!.ready) expected.push(seq * DEVICES_PER_USER + slot);
  }
  const missing = () => expected.filter((at) => Number.isNaN(arrivals[at]!) && !deviceAt(at).closed).length;
  for (let waited = 0; missing() > 0 && waited < SETTLE_MS; waited += 250) await new Promise((r) => setTimeout(r, 250));
  const runSeconds = (performance.now() - tRun) / 1000;
  const clientCpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  const after = await gatewayMemory(gateway);
  running = false;

  const delays: number[] = [];
  const fromRequest: number[] = [];
  let early = 0;
  for (const at of expected) {
    const arrived = arrivals[at]!;
    if (Number.isNaN(arrived)) continue;
    const { committedAt, sentAt } = changes[Math.floor(at / DEVICES_PER_USER)]!;
    fromRequest.push(arrived - sentAt);
    // a frame can beat the HTTP response to the writer: that counts as 0, and is reported
    if (arrived < committedAt) early++;
    delays.push(Math.max(0, arrived - committedAt));
  }
  const delivery = summarize(delays, runSeconds);
  const missed = missing();
  // which changes: all of a user's devices missing one points upstream (outbox, Kafka, consumer), some of them at the gateway's fan-out
  const missedAtClosed = expected.filter((at) => Number.isNaN(arrivals[at]!) && deviceAt(at).closed).length;
  const missedBySeq = new Map<number, number>();
  for (const at of expected) if (Number.isNaN(arrivals[at]!) && !deviceAt(at).closed) missedBySeq.set(Math.floor(at / DEVICES_PER_USER), (missedBySeq.get(Math.floor(at / DEVICES_PER_USER)) ?? 0) + 1);
  const devicesOf = (user: number) => devices.filter((d) => d.user === user && d.ready && !d.closed).length;
  const wholly = [...missedBySeq].filter(([seq, n]) => n === devicesOf(changes[seq]!.user)).map(([seq]) => seq);
  const missedDetail = missed
    ? ` (${wholly.length} changes missed by all their user's open devices${wholly.length ? `, seq ${wholly.slice(0, 12).join(" ")}${wholly.length > 12 ? " …" : ""}` : ""}; ${missedBySeq.size - wholly.length} by some)`
    : "";
  const acknowledged = CHANGES - writeErrors;
  const perConnection = (connected.rss - before.rss) / connect.count;
  const heapPerConnection = (connected.heapUsed - before.heapUsed) / connect.count;
  const closes = [...unexpectedCloses].map(([k, n]) => `${n}× ${k}`).join(", ") || "none";

  console.log(
    [
      `live sync: ${CONNECTIONS} devices (${USERS} users × ~${(CONNECTIONS / USERS).toFixed(1)}), ${RATE} changes/s for ${SECONDS} s, one gateway process (pid ${gateway.proc.pid})`,
      `  connect          ${connect.count} ready in ${connect.seconds.toFixed(1)} s = ${connect.perSecond.toFixed(0)} connections/s (${CONNECT_CONCURRENCY} in flight); time to ready ${fmt(connect)}${connect.errors ? `; ${connect.errors} FAILED` : ""}`,
      `  writes           ${acknowledged} acknowledged of ${CHANGES} in ${writeSeconds.toFixed(1)} s (${(acknowledged / writeSeconds).toFixed(1)}/s; ${updates} UpdateTask, the rest CreateTask); response ${fmt(summarize(writeLatencies, writeSeconds))}${writeErrors ? `; ${writeErrors} FAILED` : ""}`,
      `  delivery         response → every device of the user: ${fmt(delivery)}${early ? `; ${early} frames beat the response (counted as 0)` : ""}`,
      `                   request sent → every device (includes the write itself): ${fmt(summarize(fromRequest, runSeconds))}`,
      `  pairs            ${expected.length} (change, device) expected, ${delays.length} delivered, missed ${missed} at open devices${missedDetail} and ${missedAtClosed} at devices closed during the run, duplicates ${duplicates}, to another user ${wrongUser}; frames received ${framesReceived}; closed during the run: ${closes}`,
      memoryLine("before connections", before),
      memoryLine(`with ${connect.count} connections`, connected),
      memoryLine("after the changes", after),
      `  per connection   RSS ${(perConnection / 1024).toFixed(1)} KiB, heap ${(heapPerConnection / 1024).toFixed(1)} KiB ((with − before) / connections)`,
      `  CPU              gateway ${(((after.cpuSeconds - connected.cpuSeconds) / runSeconds) * 100).toFixed(0)} % of a core, bench client ${(((clientCpu.user + clientCpu.system) / 1e6 / runSeconds) * 100).toFixed(0)} % while changing; client event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
      `  target           delivery p99 < 200 ms: ${delivery.p99 < 200 ? "met" : delivery.p99 < 2000 ? "missed (within the brief's 2 s)" : "MISSED (over 2 s)"}`,
    ].join("\n"),
  );

  for (const d of devices) d.close();
  return missed === 0 && duplicates === 0 && wrongUser === 0 && connect.errors === 0 && unexpectedCloses.size === 0;
}

let stack: Stack | undefined;
let database: FreshDatabase | undefined;
const servers: ServiceProcess[] = [];
try {
  checkOpenFiles("this process", "self");
  stack = await startStack();
  process.env[POSTGRES_ENV] = stack.env.DATABASE_URL;
  database = await freshDatabase();
  const brokers = stack.env.KAFKA_BROKERS!;
  await ensureKafkaTopics({ brokers: brokers.split(",") });
  const common = { DATABASE_URL: database.url, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: stack.env.SCHEMA_REGISTRY_URL! };
  // as the chart's hook does before the pods start: migrations and schema registration, once
  const prepare = spawnSync(process.execPath, ["--import=tsx", "deploy/src/prepare.ts"], { cwd: root, env: { ...process.env, ...common }, encoding: "utf8" });
  if (prepare.status !== 0) throw new Error(`prepare failed: ${prepare.stdout}${prepare.stderr}`);
  const tasks = await startServiceProcess("tasks", "services/tasks/src/main.ts", common);
  servers.push(tasks);
  const secret = randomUUID() + randomUUID();
  const metricsPort = await freePort();
  const gatewayProcess = await startServiceProcess("gateway", "gateway/src/main.ts", {
    ...common,
    TASKS_URL: `http://127.0.0.1:${tasks.port}`,
    TASKMESH_JWT_SECRET: secret,
    GATEWAY_REPLICA_ID: "bench",
    METRICS_PORT: String(metricsPort),
  });
  const gateway = { ...gatewayProcess, metricsPort };
  servers.push(gateway);
  checkOpenFiles("the gateway", gateway.proc.pid);
  const ok = await run(gateway, Buffer.from(secret, "utf8"));
  console.log(ok ? "live-sync: passed (every change reached every device of its user, once)" : "live-sync: FAILED (see the counts above)");
  if (!ok) process.exitCode = 1;
} catch (err) {
  console.error(`live-sync: FAILED\n${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await Promise.allSettled(servers.reverse().map((s) => s.proc.stop()));
  await database?.drop().catch(() => undefined);
  await stack?.stopAll();
}
