// Faults under load, then proof that nothing was lost or done twice. Cluster mode from processes:
// the task, reminders, recurrence and audit services and the gateway (each from its main.ts, as its
// image runs it), PostgreSQL, Kafka (KRaft) and Apicurio, with Toxiproxy on every link between them
// (each service has its own path to PostgreSQL, to the broker — a listener of its own advertising
// its proxy — and to the registry; each call between services and the clients' way into the gateway
// go through a proxy too). Under a steady load of writes, completions of recurring tasks, reminders
// coming due and live devices on the gateway's socket, it injects, in turn: the registry down while
// the services start; kill -9 of each service (restarted); kill -9 of the broker and of PostgreSQL
// (restarted); latency on every link; connections that stall then close on every link; a partition
// between a service and the broker. Then it checks:
//   writes      every acknowledged write stored, each once (a create is retried with its request id
//               until acknowledged, as clients do)
//   events      per task, one task-events record per change (versions 1…stored, none twice under
//               different ids, first deliveries in version order)
//   reminders   every reminder due in the window fired once: one fire stored, one ReminderFired
//   recurrence  every completed occurrence spawned exactly one next occurrence, an open one none
//   live        every live device's view (id → version) equals the server's
//   deadletters no event parked on a dead-letter topic (every fault here passes)
// It prints what was injected and each check's result, and exits 1 on any loss or duplicate. Every
// service's log of the run (all its restarts, at LOG_LEVEL info) and PostgreSQL's and the broker's
// are kept in a folder of the OS temp dir that it names first; a failed check prints the tail of
// the logs of the services behind it.
//
//   npm run bench -- chaos            # 10 s per fault, 30 s partitions, every link and service in turn
//   npm run bench -- chaos --short    # the npm test version (deploy/test/chaos.test.ts): a few minutes
//   BENCH_CHAOS_PARTITION=reminders,gateway   which services are cut off from the broker (short: tasks; full: all)
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { AUDIT_GROUP, AUDIT_TOPICS } from "@taskmesh/audit";
import { confluentSchemaRegistry, connectKafkaBus, DLQ_HEADERS, registerSchemas, TOPIC, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ReminderEventSchema, TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { Kafka, logLevel } from "kafkajs";
import { RECURRENCE_GROUP } from "@taskmesh/recurrence";
import { REMINDERS_GROUP } from "@taskmesh/reminders";
import pg from "pg";
import { WebSocket } from "ws";
import { freePorts } from "@taskmesh/infra/cache";
import type { ApicurioHandle } from "@taskmesh/infra/apicurio";
import type { KafkaHandle } from "@taskmesh/infra/kafka";
import type { PostgresHandle } from "@taskmesh/infra/postgres";
import { startToxiproxy, type ToxiproxyHandle } from "@taskmesh/infra/toxiproxy";
import { CLUSTER_SERVICES, startClusterInfra, startClusterService, type ClusterServiceName, type ServiceProcess } from "./lib.js";
import { cursorOf, hello, PONG, readFrame } from "./live-frames.js";

const SHORT = process.argv.includes("--short");
const T = SHORT ? { registryDownMs: 5_000, holdMs: 4_000, partitionMs: 8_000, settleMs: 2_000, users: 2 } : { registryDownMs: 15_000, holdMs: 10_000, partitionMs: 30_000, settleMs: 5_000, users: 4 };
process.env.LOG_LEVEL ??= "error";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
// A loss that shows once in several runs can only be explained from that run's logs.
const logDir = mkdtempSync(path.join(tmpdir(), "taskmesh-chaos-"));
const logOf = (name: string) => path.join(logDir, `${name}.log`);

type Name = ClusterServiceName;
const SERVICES = CLUSTER_SERVICES;
/** Proxies in front of a service, named `<callee>-from-<caller>`, plus the clients' `edge` to the gateway. */
const callers = (callee: Name) => SERVICES.filter((s) => s.calls.includes(callee)).map((s) => `${callee}-from-${s.name}`);
const linksOf = (s: (typeof SERVICES)[number]) => [...(s.db ? [`pg-${s.name}`] : []), `kafka-${s.name}`, `registry-${s.name}`, ...s.calls.map((c) => `${c}-from-${s.name}`)];

// ---------------------------------------------------------------------------
// the system

let toxi!: ToxiproxyHandle;
let postgres!: PostgresHandle;
let kafka!: KafkaHandle;
let registry!: ApicurioHandle;
const running = new Map<Name, ServiceProcess>();
const envOf = new Map<Name, Record<string, string>>();
let edgeUrl = "";
const injected: string[] = [];
const logFault = (line: string) => {
  injected.push(line);
  say(`injected: ${line}`);
};

async function startInfra(): Promise<void> {
  toxi = await startToxiproxy();
  // the broker listens once per service; each listener advertises that service's proxy
  const ports = await freePorts(SERVICES.length * 2);
  const kafkaLinks = SERVICES.map((s, i) => ({ name: `SVC_${s.name.toUpperCase()}`, port: ports[2 * i]!, proxy: ports[2 * i + 1]!, service: s.name }));
  ({ postgres, kafka, registry } = await startClusterInfra(kafkaLinks.map((l) => ({ name: l.name, port: l.port, advertised: `127.0.0.1:${l.proxy}` }))));
  const registryHostPort = new URL(registry.url).host;
  const ccompatPath = new URL(registry.ccompatUrl).pathname;
  for (const s of SERVICES) {
    const link = kafkaLinks.find((l) => l.service === s.name)!;
    await toxi.create(`kafka-${s.name}`, `127.0.0.1:${link.port}`, link.proxy);
    const env: Record<string, string> = {
      KAFKA_BROKERS: `127.0.0.1:${link.proxy}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${await toxi.create(`registry-${s.name}`, registryHostPort)}${ccompatPath}`,
    };
    if (s.db) env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await toxi.create(`pg-${s.name}`, `127.0.0.1:${postgres.port}`)}/${postgres.database}`;
    // callees are not up yet: the proxies point nowhere until they are
    for (const callee of s.calls) env[`${callee.toUpperCase()}_URL`] = `http://127.0.0.1:${await toxi.create(`${callee}-from-${s.name}`, "127.0.0.1:9")}`;
    envOf.set(s.name, env);
  }
  edgeUrl = `http://127.0.0.1:${await toxi.create("edge", "127.0.0.1:9")}`;
}

async function startService(name: Name): Promise<void> {
  const service = await startClusterService(name, envOf.get(name)!, logOf(name));
  running.set(name, service);
  for (const proxy of name === "gateway" ? ["edge"] : callers(name)) await toxi.retarget(proxy, `127.0.0.1:${service.port}`);
}

/** Every service started while no registry answers; it comes back after registryDownMs. */
async function startServicesWithoutRegistry(): Promise<void> {
  for (const s of SERVICES) await toxi.setEnabled(`registry-${s.name}`, false);
  const t0 = Date.now();
  let readyEarly = 0;
  const starting = Promise.all(SERVICES.map((s) => startService(s.name).then(() => void (Date.now() - t0 < T.registryDownMs && readyEarly++))));
  await sleep(T.registryDownMs);
  for (const s of SERVICES) await toxi.setEnabled(`registry-${s.name}`, true);
  await starting;
  logFault(`registry down for the first ${T.registryDownMs / 1000} s of start-up: ${readyEarly} services ready without it, all ${((Date.now() - t0) / 1000).toFixed(1)} s after their start`);
}

// ---------------------------------------------------------------------------
// the load

interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: string;
}
const failures = new Map<string, number>();

async function rpc<T>(method: string, body: unknown, token: string, base = edgeUrl): Promise<Outcome<T>> {
  try {
    const res = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.ok) return { ok: true, value: JSON.parse(text) as T };
    return fail(`${method.split("/")[1]} HTTP ${res.status} ${(JSON.parse(text) as { code?: string }).code ?? ""}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return fail(`${method.split("/")[1]} ${cause?.code ?? (err as Error).name}`);
  }
}

function fail<T>(what: string): Outcome<T> {
  failures.set(what, (failures.get(what) ?? 0) + 1);
  return { ok: false, error: what };
}

interface ApiTask {
  id: string;
  version: string;
  reminders?: { id: string; absoluteTime?: string }[];
}

/** A create retried with the same request id until acknowledged (the task service stores it once). */
async function createTask(user: User, body: Record<string, unknown>): Promise<ApiTask | undefined> {
  const requestId = randomUUID();
  for (let attempt = 0; attempt < 40 && !stopping; attempt++) {
    const r = await rpc<{ task: ApiTask }>("taskmesh.tasks.v1.TaskService/CreateTask", { ...body, requestId }, user.token);
    if (r.ok) return r.value!.task;
    await sleep(250);
  }
  user.unacknowledged++;
  return undefined;
}

/** A live device: keeps its view of the user's tasks from the socket, resuming from its cursor. */
class Device {
  readonly tasks = new Map<string, string>();
  connects = 0;
  refetches = 0;
  #cursor = "";
  #ws: WebSocket | undefined;
  #stopped = false;
  #connected!: () => void;
  /** The first cursor arrived: from here on, every change of the user reaches this device. */
  readonly connected = new Promise<void>((resolve) => (this.#connected = resolve));
  constructor(private readonly token: string) {}

  start(): void {
    this.connects++;
    const ws = new WebSocket(`${edgeUrl.replace("http", "ws")}/live`);
    this.#ws = ws;
    ws.on("open", () => ws.send(hello(this.token, this.#cursor)));
    ws.on("message", (data) => {
      const frame = readFrame(data.toString());
      if (frame.case === "ping") ws.send(PONG);
      if (frame.case === "task" && frame.value.task) this.tasks.set(frame.value.task.id, String(frame.value.task.version));
      if (frame.case === "deleted") this.tasks.delete(frame.value.taskId);
      const cursor = cursorOf(frame);
      if (frame.case === "refetch") void this.#refetch(frame.value.cursor);
      else if (cursor) this.#cursor = cursor;
      if (cursor) this.#connected();
    });
    ws.on("error", () => {});
    ws.on("close", () => void (!this.#stopped && setTimeout(() => this.start(), 200)));
  }

  /** As the web app does when told its cursor is too old: the whole list again, then on from the new cursor. */
  async #refetch(cursor: string): Promise<void> {
    this.refetches++;
    const all = await listAll(this.token);
    if (!all) return void this.#ws?.close(); // the reconnect asks again
    this.tasks.clear();
    for (const [id, version] of all) this.tasks.set(id, version);
    this.#cursor = cursor;
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.close();
  }
}

async function listAll(token: string, base = edgeUrl): Promise<Map<string, string> | undefined> {
  const out = new Map<string, string>();
  let pageToken = "";
  do {
    const r = await rpc<{ tasks?: ApiTask[]; nextPageToken?: string }>("taskmesh.tasks.v1.TaskService/ListTasks", { query: "status:all", pageSize: 500, pageToken }, token, base);
    if (!r.ok) return undefined;
    for (const t of r.value!.tasks ?? []) out.set(t.id, t.version);
    pageToken = r.value!.nextPageToken ?? "";
  } while (pageToken);
  return out;
}

interface User {
  id: string;
  token: string;
  device: Device;
  /** acknowledged writes: task id → the versions acknowledged */
  acked: Map<string, number[]>;
  titles: string[];
  unacknowledged: number;
  /** recurring tasks created; completion acknowledged or not */
  series: { id: string; completed: boolean }[];
  reminders: { taskId: string; reminderId: string; at: number }[];
}

let stopping = false;

function ack(user: User, task: ApiTask): void {
  user.acked.set(task.id, [...(user.acked.get(task.id) ?? []), Number(task.version)]);
}

async function writer(user: User, w: number): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const title = `u${user.id.slice(0, 6)}-w${w}-${i}`;
    const task = await createTask(user, { title });
    if (task) {
      ack(user, task);
      user.titles.push(title);
      if (i % 3 === 0) {
        const r = await rpc<{ task: ApiTask }>(
          "taskmesh.tasks.v1.TaskService/UpdateTask",
          { task: { id: task.id, title: `${title} edited` }, updateMask: "title", expectedVersion: task.version },
          user.token,
        );
        if (r.ok) ack(user, r.value!.task);
      }
    }
    await sleep(100);
  }
}

async function recurring(user: User): Promise<void> {
  while (!stopping) {
    const task = await createTask(user, { title: "daily", dueTime: new Date(Date.now() + 86_400_000).toISOString(), recurrence: { rrule: "FREQ=DAILY" } });
    if (task) {
      ack(user, task);
      const entry = { id: task.id, completed: false };
      user.series.push(entry);
      const r = await rpc<{ task: ApiTask }>("taskmesh.tasks.v1.TaskService/CompleteTask", { id: task.id, expectedVersion: task.version }, user.token);
      if (r.ok) {
        ack(user, r.value!.task);
        entry.completed = true;
      }
    }
    await sleep(400);
  }
}

async function reminding(user: User): Promise<void> {
  while (!stopping) {
    const at = Date.now() + 3_000 + Math.random() * 4_000;
    const task = await createTask(user, { title: "remind me", reminders: [{ id: "r1", absoluteTime: new Date(at).toISOString() }] });
    if (task) {
      ack(user, task);
      user.reminders.push({ taskId: task.id, reminderId: "r1", at });
    }
    await sleep(1_000);
  }
}

// ---------------------------------------------------------------------------
// the faults

async function hold(what: string, on: () => Promise<void>, off: () => Promise<void>, ms = T.holdMs): Promise<void> {
  const t0 = Date.now();
  await on();
  await sleep(ms);
  await off();
  logFault(`${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  await sleep(T.settleMs);
}

async function killService(name: Name): Promise<void> {
  const t0 = Date.now();
  await running.get(name)!.proc.stop({ signal: "SIGKILL" });
  await sleep(1_000);
  await startService(name);
  logFault(`kill -9 ${name}, restarted: back in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(T.settleMs);
}

async function restartInfra(what: string, restart: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  await restart();
  logFault(`kill -9 ${what}, restarted: back in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(T.settleMs);
}

const ALL_LINKS = () => [...SERVICES.flatMap(linksOf), "edge"];

async function inject(): Promise<void> {
  for (const s of SERVICES) await killService(s.name);
  await restartInfra("the broker", () => kafka.restart({ signal: "SIGKILL" }));
  await restartInfra("PostgreSQL", () => postgres.restart({ signal: "SIGKILL" }));
  const latency = { type: "latency", attributes: { latency: 300, jitter: 100 } } as const;
  // stalls, then closes the connection after 3 s
  const timeout = { type: "timeout", attributes: { timeout: 3_000 } } as const;
  const groups = SHORT
    ? [{ label: "every link", links: ALL_LINKS() }]
    : [...SERVICES.map((s) => ({ label: `the ${s.name} service's links`, links: linksOf(s) })), { label: "the clients' link to the gateway", links: ["edge"] }];
  for (const [kind, toxic] of [
    ["latency 300 ± 100 ms", latency],
    ["stall-then-close after 3 s", timeout],
  ] as const) {
    for (const g of groups) {
      await hold(
        `${kind} on ${g.label}`,
        async () => {
          for (const l of g.links) await toxi.addToxic(l, "fault", toxic);
        },
        () => toxi.reset(),
      );
    }
  }
  // a partition: nothing passes either way and nothing is closed, until it heals
  const blackhole = { type: "timeout", attributes: { timeout: 0 } } as const;
  const cutOff = process.env.BENCH_CHAOS_PARTITION?.split(",") ?? (SHORT ? ["tasks"] : SERVICES.map((x) => x.name));
  for (const s of SERVICES.filter((x) => cutOff.includes(x.name))) {
    await hold(
      `partition between ${s.name} and the broker`,
      () => toxi.addToxic(`kafka-${s.name}`, "partition", blackhole),
      () => toxi.reset(),
      T.partitionMs,
    );
  }
}

// ---------------------------------------------------------------------------
// the checks

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The services whose work each check verifies: their logs say why it failed. */
const BEHIND: Record<string, Name[]> = {
  writes: ["gateway", "tasks"],
  events: ["tasks"],
  reminders: ["reminders"],
  recurrence: ["recurrence", "tasks"],
  live: ["gateway"],
  deadletters: ["reminders", "recurrence", "audit"],
};

function logTail(name: Name, lines: number): string {
  try {
    return readFileSync(logOf(name), "utf8")
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((l) => `  ${l}`)
      .join("\n");
  } catch {
    return "  (no log)";
  }
}

/** Everything the bus carries for the run, read straight from the broker (no proxy). */
class Recorder {
  readonly taskEvents = new Map<string, { eventId: string; version: number }[]>();
  readonly fired = new Map<string, string[]>();
  deliveries = 0;
  last = Date.now();
  #bus: EventBus | undefined;
  #sub: Subscription | undefined;

  async start(): Promise<void> {
    const logger = createLogger("chaos-recorder");
    logger.level = "silent"; // the broker's restart is expected; its connection errors are not news
    this.#bus = await connectKafkaBus({ brokers: [kafka.bootstrap], schemaIds: await registerSchemas({ registry: confluentSchemaRegistry(registry.ccompatUrl) }), logger });
    this.#sub = await this.#bus.subscribe({
      group: `chaos-${randomUUID()}`,
      topics: ["task-events", "reminders"],
      handler: async ({ value, eventId }) => {
        this.deliveries++;
        this.last = Date.now();
        if (isMessage(value, TaskEventSchema)) this.taskEvents.set(value.taskId, [...(this.taskEvents.get(value.taskId) ?? []), { eventId, version: Number(value.version) }]);
        if (isMessage(value, ReminderEventSchema) && value.event.case === "fired") {
          const key = `${value.taskId}/${value.reminderId}`;
          this.fired.set(key, [...(this.fired.get(key) ?? []), eventId]);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.#sub?.stop();
    await this.#bus?.close();
  }
}

async function check(users: User[], recorder: Recorder, db: pg.Client): Promise<Check[]> {
  const ids = users.map((u) => u.id);
  const checks: Check[] = [];

  const { rows: stored } = await db.query<{ id: string; user_id: string; title: string; version: number; series_id: string | null; completed: boolean; created_at: Date }>(
    "SELECT id, user_id, title, version, series_id::text, completed_at IS NOT NULL AS completed, created_at FROM tasks.tasks WHERE user_id = ANY($1)",
    [ids],
  );
  const byId = new Map(stored.map((r) => [r.id, r]));
  const acked = users.flatMap((u) => [...u.acked].map(([id, versions]) => ({ id, versions })));
  const lost = acked.filter((a) => !byId.has(a.id) || byId.get(a.id)!.version < Math.max(...a.versions));
  const titleCounts = new Map<string, number>();
  for (const r of stored) titleCounts.set(r.title.replace(/ edited$/, ""), (titleCounts.get(r.title.replace(/ edited$/, "")) ?? 0) + 1);
  const twice = users.flatMap((u) => u.titles).filter((t) => titleCounts.get(t) !== 1);
  checks.push({
    name: "writes",
    ok: lost.length === 0 && twice.length === 0,
    detail: `${acked.length} tasks with acknowledged writes (${acked.reduce((n, a) => n + a.versions.length, 0)} writes; ${users.reduce((n, u) => n + u.unacknowledged, 0)} creates never acknowledged); lost ${lost.length}, stored twice ${twice.length}${
      lost.length
        ? `: ${lost
            .slice(0, 3)
            .map((a) => a.id)
            .join(", ")}`
        : ""
    }`,
  });

  let missing = 0;
  let duplicated = 0;
  let disordered = 0;
  let redelivered = 0;
  for (const r of stored) {
    const events = recorder.taskEvents.get(r.id) ?? [];
    const first = new Map<string, number>();
    for (const e of events) if (!first.has(e.eventId)) first.set(e.eventId, e.version);
    redelivered += events.length - first.size;
    const versions = [...first.values()];
    if (versions.some((v, i) => i > 0 && v <= versions[i - 1]!)) disordered++;
    if (new Set(versions).size !== versions.length) duplicated++;
    for (let v = 1; v <= r.version; v++) if (!versions.includes(v)) missing++;
  }
  checks.push({
    name: "events",
    ok: missing === 0 && duplicated === 0 && disordered === 0,
    detail: `${stored.length} tasks, ${stored.reduce((n, r) => n + r.version, 0)} changes; events missing ${missing}, a change with two events ${duplicated}, out of order ${disordered}; redelivered under the same id ${redelivered} (consumers apply those once)`,
  });

  // A reminder saved more than a minute after its time is cancelled as passed, by design (arming.ts):
  // only those whose task was stored before that are due.
  const due = users.flatMap((u) => u.reminders).filter((r) => r.at > (byId.get(r.taskId)?.created_at.getTime() ?? Infinity) - 60_000);
  const { rows: fires } = await db.query<{ task_id: string; reminder_id: string; n: number }>(
    "SELECT task_id::text, reminder_id, count(*)::int AS n FROM reminders.fires WHERE user_id = ANY($1) GROUP BY 1, 2",
    [ids],
  );
  const fireCount = new Map(fires.map((f) => [`${f.task_id}/${f.reminder_id}`, f.n]));
  const notFired = due.filter((r) => !fireCount.has(`${r.taskId}/${r.reminderId}`));
  // what the reminders service made of each one that did not fire, when its task was stored, and
  // whether its timer is still waiting to be claimed (ready_at) or was claimed again and again
  const { rows: why } = await db.query<{ task_id: string; state: number | null; cancel_reason: string | null; created_at: Date; ready_at: Date | null; attempts: number | null }>(
    `SELECT t.id::text AS task_id, r.state, r.cancel_reason, t.created_at, j.ready_at, j.attempts FROM tasks.tasks t
       LEFT JOIN reminders.reminders r ON r.task_id = t.id AND r.reminder_id = 'r1'
       LEFT JOIN reminders.scheduler_jobs j ON j.id = 'reminder/' || t.id::text || '/r1' WHERE t.id = ANY($1::uuid[])`,
    [notFired.map((r) => r.taskId)],
  );
  const whyOf = new Map(why.map((w) => [w.task_id, w]));
  const describeNotFired = notFired.slice(0, 3).map((r) => {
    const w = whyOf.get(r.taskId);
    const timer = w?.ready_at ? `timer ready ${w.ready_at.toISOString().slice(11, 23)} after ${w.attempts} claims` : "no timer";
    return `${r.taskId} due ${new Date(r.at).toISOString().slice(11, 23)}, stored ${w?.created_at.toISOString().slice(11, 23)}, state ${w?.state ?? "not armed"} ${w?.cancel_reason ?? ""}, ${timer}`;
  });
  const firedTwice = [...fireCount].filter(([key, n]) => n > 1 || new Set(recorder.fired.get(key) ?? []).size > 1);
  const eventMissing = due.filter((r) => !recorder.fired.has(`${r.taskId}/${r.reminderId}`));
  checks.push({
    name: "reminders",
    ok: notFired.length === 0 && firedTwice.length === 0 && eventMissing.length === 0,
    detail: `${due.length} due in the window; not fired ${notFired.length}, fired twice ${firedTwice.length}, no ReminderFired event ${eventMissing.length}${describeNotFired.length ? `: ${describeNotFired.join("; ")}` : ""}`,
  });

  const occurrences = new Map<string, number>();
  for (const r of stored) if (r.series_id && r.series_id !== r.id) occurrences.set(r.series_id, (occurrences.get(r.series_id) ?? 0) + 1);
  const series = users.flatMap((u) => u.series);
  const completedInDb = series.filter((s) => byId.get(s.id)?.completed);
  const spawnedWrong = series.filter((s) => (occurrences.get(s.id) ?? 0) !== (byId.get(s.id)?.completed ? 1 : 0));
  checks.push({
    name: "recurrence",
    ok: spawnedWrong.length === 0 && series.filter((s) => s.completed).every((s) => byId.get(s.id)?.completed),
    detail: `${series.length} recurring tasks, ${series.filter((s) => s.completed).length} completions acknowledged, ${completedInDb.length} completed; next occurrences missing or doubled ${spawnedWrong.length}`,
  });

  let diverged = 0;
  const samples: string[] = [];
  for (const u of users) {
    const server = await listAll(u.token, running.get("gateway")!.url);
    const view = u.device.tasks;
    for (const id of new Set([...(server?.keys() ?? []), ...view.keys()])) {
      if (server?.get(id) === view.get(id)) continue;
      diverged++;
      if (samples.length < 3) samples.push(`${id} (stored ${byId.get(id)?.created_at.toISOString().slice(11, 23)}): server v${server?.get(id)}, device v${view.get(id)}`);
    }
  }
  checks.push({
    name: "live",
    ok: diverged === 0,
    detail: `${users.length} devices, ${users.reduce((n, u) => n + u.device.tasks.size, 0)} tasks seen, ${users.reduce((n, u) => n + u.device.connects - 1, 0)} reconnects, ${users.reduce((n, u) => n + u.device.refetches, 0)} refetches; diverged ${diverged}${samples.length ? `: ${samples.join("; ")}` : ""}`,
  });
  // Every fault here passes: an event parked on a dead-letter topic was given up on too early.
  const admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const parked: string[] = [];
  try {
    for (const topic of (await admin.listTopics()).filter((t) => t.endsWith(".dlq"))) {
      const count = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      if (count > 0) parked.push(`${topic} ${count}`);
    }
  } finally {
    await admin.disconnect();
  }
  checks.push({ name: "deadletters", ok: parked.length === 0, detail: parked.length === 0 ? "none" : `${parked.join(", ")}: ${(await deadLetterErrors()).join("; ")}` });
  return checks;
}

/**
 * The services' consumer groups that have not read to the end of what they consume. A quiet bus
 * is not enough: a member started after a kill -9 waits out the dead member's session before the
 * group lets it read, and meanwhile nothing moves.
 */
async function consumersBehind(): Promise<string[]> {
  const admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const behind: string[] = [];
    for (const [group, topics] of [
      [REMINDERS_GROUP, [TOPIC.taskEvents]],
      [RECURRENCE_GROUP, [TOPIC.taskEvents]],
      [AUDIT_GROUP, AUDIT_TOPICS],
    ] as const) {
      for (const topic of topics) {
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const lag = (committed?.partitions ?? []).reduce((n, p) => n + (ends.get(p.partition) ?? 0n) - (p.offset === "-1" ? 0n : BigInt(p.offset)), 0n);
        if (lag > 0n) behind.push(`${group} ${lag} behind on ${topic}`);
      }
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}

/** Which group gave up on what, and why, for the first few dead letters (from their headers). */
async function deadLetterErrors(): Promise<string[]> {
  const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.endsWith(".dlq"));
  await admin.disconnect();
  const consumer = client.consumer({ groupId: `chaos-dlq-${randomUUID()}` });
  const errors: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const header = (name: string) => message.headers?.[name]?.toString() ?? "?";
        if (errors.length < 3) errors.push(`${topic} from group ${header(DLQ_HEADERS.group)} after ${header(DLQ_HEADERS.attempts)} attempts: ${header(DLQ_HEADERS.error).slice(0, 300)}`);
      },
    });
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(100);
  } finally {
    await consumer.disconnect();
  }
  return errors;
}

/** Waits until the bus has been quiet for a while, every consumer has caught up and every device agrees, or the deadline. */
async function settle(users: User[], recorder: Recorder, lastDue: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(1_000);
    if (Date.now() < lastDue + 15_000 || Date.now() - recorder.last < 5_000) continue;
    if ((await consumersBehind().catch(() => ["unknown"])).length > 0) continue;
    let agree = true;
    for (const u of users) {
      const server = await listAll(u.token, running.get("gateway")!.url);
      if (!server || server.size !== u.device.tasks.size || [...server].some(([id, v]) => u.device.tasks.get(id) !== v)) agree = false;
    }
    if (agree) return;
  }
}

// ---------------------------------------------------------------------------

const t0 = Date.now();
let recorder: Recorder | undefined;
let db: pg.Client | undefined;
const users: User[] = [];
let passed = false;
try {
  say(`logs of this run: ${logDir}`);
  await startInfra();
  await startServicesWithoutRegistry();
  recorder = new Recorder();
  await recorder.start();
  for (let i = 0; i < T.users; i++) {
    const signUp = await rpc<{ accessToken: string; user: { id: string } }>(
      "taskmesh.auth.v1.AuthService/SignUp",
      { email: `chaos-${randomUUID()}@example.com`, password: randomUUID(), timeZone: "UTC" },
      "",
    );
    if (!signUp.ok) throw new Error(`sign-up: ${signUp.error}`);
    const token = await rpc<{ secret: string }>("taskmesh.auth.v1.AuthService/CreateApiToken", { name: "chaos" }, signUp.value!.accessToken);
    if (!token.ok) throw new Error(`api token: ${token.error}`);
    users.push({ id: signUp.value!.user.id, token: token.value!.secret, device: new Device(token.value!.secret), acked: new Map(), titles: [], unacknowledged: 0, series: [], reminders: [] });
  }
  for (const u of users) u.device.start();
  // A change stored before a device's first cursor is not its to receive (the web app lists the tasks first).
  await Promise.all(users.map((u) => u.device.connected));
  say(`up in ${((Date.now() - t0) / 1000).toFixed(0)} s; load: ${T.users} users × (2 writers, 1 recurring completer, 1 reminder setter), 1 live device each`);
  const load = users.flatMap((u) => [writer(u, 0), writer(u, 1), recurring(u), reminding(u)]);
  await sleep(T.settleMs);
  const faultsStart = Date.now();
  await inject();
  stopping = true;
  await Promise.all(load);
  say(`injected, in this order:\n${injected.map((l) => `  ${l}`).join("\n")}`);
  say(`faults took ${((Date.now() - faultsStart) / 1000).toFixed(0)} s; request failures seen by clients: ${[...failures].map(([k, n]) => `${k} ×${n}`).join(", ") || "none"}`);
  await settle(users, recorder, Math.max(0, ...users.flatMap((u) => u.reminders.map((r) => r.at))));
  const behind = await consumersBehind().catch((err: unknown) => [`unknown (${(err as Error).message})`]);
  if (behind.length > 0) say(`consumers still behind after the settling time: ${behind.join(", ")}`);
  db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const checks = await check(users, recorder, db);
  for (const c of checks) say(`${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(10)} ${c.detail}`);
  for (const c of checks.filter((x) => !x.ok)) for (const name of BEHIND[c.name] ?? []) say(`${c.name} failed: the end of ${logOf(name)}\n${logTail(name, 40)}`);
  passed = checks.every((c) => c.ok);
  say(`${passed ? "passed" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} catch (err) {
  console.error(`chaos: FAILED\n${(err as Error).stack}`);
} finally {
  say(`logs of this run: ${logDir}`);
  stopping = true;
  for (const u of users) u.device.stop();
  await recorder?.stop().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await Promise.allSettled([...running.values()].map((s) => s.proc.stop()));
  for (const [name, handle] of [
    ["postgres", postgres],
    ["kafka", kafka],
  ] as const) {
    try {
      if (handle) copyFileSync(handle.logFile, logOf(name));
    } catch {
      // its log is lost with its folder; the services' logs are what explain a loss
    }
  }
  await Promise.allSettled([kafka?.stop(), postgres?.stop(), registry?.stop(), toxi?.stop()]);
}
// the bus's and the sockets' timers would keep the process alive
process.exit(passed ? 0 : 1);
