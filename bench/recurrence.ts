// Issue 4 benchmark: recurrence spawn latency — from the CompleteTask response on a recurring task
// to its next occurrence being visible to the user (target p99 < 200 ms).
//   npm run bench -- recurrence [embedded|kafka]
//   BENCH_RECURRENCE_COUNT=1000 BENCH_RECURRENCE_CONCURRENCY=8 BENCH_RECURRENCE_USERS=50
//   BENCH_RECURRENCE_PROBE=watch|poll (watch)
//
// embedded: the app's embedded wiring in this process — tasks and recurrence modules on a PostgreSQL
//   server of their own with the embedded event bus, the consumer calling the task service
//   in-process; the task service is served on a local port and called over gRPC (h2c).
// kafka: the cluster path — PostgreSQL, Kafka and Apicurio (packages/infra/src/stack.ts), the task
//   service and the recurrence service each its own process from its main.ts (the recurrence
//   service calling the task service directly, TASKMESH_TRANSPORT=direct).
//
// N daily recurring tasks (FREQ=DAILY, due 09:00 UTC) are created for BENCH_RECURRENCE_USERS users;
// then BENCH_RECURRENCE_CONCURRENCY callers each complete one, wait until its next occurrence is
// visible, and complete the next (a closed loop: the spawn pipeline is never more than that many
// completions behind, so what is measured is latency, not a growing backlog).
//
// How "visible" is observed: the next occurrence's id is known in advance — the consumer creates it
// with request_id nextOccurrenceKey(task) ("recurrence:next-of:<id>") and the task service derives
// the id from (user, request_id) with idForRequest — so nothing has to be searched for.
//   watch (default): one WatchTasks stream per user, opened before the run; the spawn time is when
//     the stream delivers the upsert of that id. The change-feed row commits in the task's own
//     transaction, so from then on GetTask returns it; the stream adds its own delivery (NOTIFY,
//     feed read, HTTP/2 frame), so this is an upper bound, and it puts no load on the service.
//   poll: GetTask(next id) every 3 ms until it succeeds (exactly "GetTask returns it", to within
//     3 ms, but the polling itself is load on the same two cores).
// Either way, after the run every next occurrence is fetched with GetTask (missing must be 0) and
// the database is counted per series (exactly 2 tasks each: duplicates must be 0).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { isMessage } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { openDatabase, type Database } from "@taskmesh/db";
import { confluentSchemaRegistry, connectKafkaBus, ensureKafkaTopics, openEmbeddedBus, registerSchemas, type EventBus } from "@taskmesh/events";
import { inProcessUpstream } from "@taskmesh/gateway";
import { createLogger, idForRequest, startServer } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { RecurrenceMode, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { nextOccurrenceKey, startRecurrenceModule } from "@taskmesh/recurrence";
import { startTasksModule } from "@taskmesh/tasks";
import { migrations } from "../services/tasks/src/migrations/index.js";
import { freePort, type ServerProcess } from "@taskmesh/infra/cache";
import { startStack } from "@taskmesh/infra/stack";
import { benchDatabase, load, mb, startServiceProcess, summarize } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const COUNT = Number(process.env.BENCH_RECURRENCE_COUNT ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_RECURRENCE_CONCURRENCY ?? 8);
const USERS = Number(process.env.BENCH_RECURRENCE_USERS ?? 50);
const PROBE = (process.env.BENCH_RECURRENCE_PROBE ?? "watch") as "watch" | "poll";
const WARMUP = 5 * CONCURRENCY;
// A next occurrence not visible within this long counts as missing.
const SPAWN_TIMEOUT_MS = 15_000;
const POLL_MS = 3;
const TARGET_P99_MS = 200;
process.env.LOG_LEVEL ??= "warn";
const logger = createLogger("bench-recurrence");
logger.level = "warn";

const userOf = (i: number) => `bench-rec-${i % USERS}`;
const as = (user: string) => ({ headers: { "x-user-id": user } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded task and its owner (Task carries no user id). */
interface Seeded {
  task: Task;
  user: string;
}

interface System {
  /** gRPC (h2c) endpoint of the task service. */
  baseUrl: string;
  db: Database;
  /** The bus the services use, for the bench's own subscription (where the time goes). */
  bus: EventBus;
  /** Resident memory of each part, sampled during the run. */
  rss(): Record<string, number>;
  stop(): Promise<void>;
}

async function embedded(): Promise<System> {
  const { url, cleanup } = await benchDatabase();
  try {
    // as apps/embedded/src/embedded.ts wires them, minus audit, reminders and the gateway
    const bus = await openEmbeddedBus({ url, logger });
    const tasks = await startTasksModule({ databaseUrl: url, events: { send: (records) => bus.publish(records) }, logger });
    const recurrence = await startRecurrenceModule({ events: bus, tasks: createClient(TaskService, inProcessUpstream(tasks).transport) });
    const port = await freePort();
    const server = await startServer({ logger, services: tasks.services, routes: tasks.routes }, port, "127.0.0.1");
    return {
      baseUrl: `http://127.0.0.1:${server.port}`,
      db: tasks.db,
      bus,
      rss: () => ({ "embedded (this process)": process.memoryUsage().rss }),
      async stop() {
        await server.drain();
        await recurrence.stop();
        await tasks.stop();
        await bus.close();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function kafka(): Promise<System> {
  const stack = await startStack();
  const procs: ServerProcess[] = [];
  let db: Database | undefined;
  let bus: EventBus | undefined;
  try {
    const env = { DATABASE_URL: stack.env.DATABASE_URL!, KAFKA_BROKERS: stack.env.KAFKA_BROKERS!, SCHEMA_REGISTRY_URL: stack.env.SCHEMA_REGISTRY_URL! };
    await ensureKafkaTopics({ brokers: env.KAFKA_BROKERS.split(",") });
    // as the chart's prepare hook: migrations and schema registration once, before the services start
    const prepare = spawnSync(process.execPath, ["--import=tsx", "deploy/src/prepare.ts"], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
    if (prepare.status !== 0) throw new Error(`prepare failed: ${prepare.stdout}${prepare.stderr}`);
    const start = async (name: string, entry: string, extra: Record<string, string> = {}) => {
      const service = await startServiceProcess(name, entry, { ...env, ...extra });
      procs.push(service.proc);
      return service;
    };
    const tasks = await start("bench-tasks", "services/tasks/src/main.ts");
    const recurrence = await start("bench-recurrence", "services/recurrence/src/main.ts", { TASKMESH_TRANSPORT: "direct", TASKS_URL: tasks.url });
    db = await openDatabase({ url: env.DATABASE_URL, schema: "tasks", entities: [], migrations, poolSize: 2 });
    const opened = db;
    const registry = confluentSchemaRegistry(env.SCHEMA_REGISTRY_URL);
    const connected = await connectKafkaBus({ brokers: env.KAFKA_BROKERS.split(","), schemaIds: await registerSchemas({ registry }), logger });
    bus = connected;
    return {
      baseUrl: tasks.url,
      db: opened,
      bus: connected,
      rss: () => ({ "tasks service": rssOf(tasks.proc.pid), "recurrence service": rssOf(recurrence.proc.pid) }),
      async stop() {
        await connected.close();
        await opened.close();
        await Promise.allSettled(procs.map((p) => p.stop()));
        await stack.stopAll();
      },
    };
  } catch (err) {
    await bus?.close();
    await db?.close();
    await Promise.allSettled(procs.map((p) => p.stop()));
    await stack.stopAll();
    throw err;
  }
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Arrival times (performance.now()) of watched task ids, delivered by one WatchTasks stream per user. */
class Watcher {
  readonly #arrived = new Map<string, number>();
  readonly #waiting = new Map<string, (at: number) => void>();
  readonly #abort = new AbortController();
  readonly #streams: Promise<void>[] = [];

  async start(client: Client<typeof TaskService>, users: string[]): Promise<void> {
    setMaxListeners(0, this.#abort.signal); // one listener per stream
    const ready = users.map(
      (user) =>
        new Promise<void>((resolve, reject) => {
          this.#streams.push(
            (async () => {
              try {
                for await (const res of client.watchTasks({}, { ...as(user), signal: this.#abort.signal })) {
                  if (res.change.case === "caughtUp") resolve();
                  else if (res.change.case === "upserted") this.#arrive(res.change.value.id, performance.now());
                }
              } catch (err) {
                if (!this.#abort.signal.aborted) reject(err);
              }
            })(),
          );
        }),
    );
    await Promise.all(ready);
  }

  #arrive(id: string, at: number): void {
    if (this.#arrived.has(id)) return;
    this.#arrived.set(id, at);
    this.#waiting.get(id)?.(at);
  }

  /** When `id` arrived (or arrives), or undefined after the timeout. */
  until(id: string, timeoutMs: number): Promise<number | undefined> {
    const seen = this.#arrived.get(id);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(id, (at) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(at);
      });
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled(this.#streams);
  }
}

/** When GetTask(id) first succeeds, polling every POLL_MS, or undefined after the timeout. */
async function pollUntil(client: Client<typeof TaskService>, user: string, id: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      await client.getTask({ id }, as(user));
      return performance.now();
    } catch (err) {
      if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
    }
    await sleep(POLL_MS);
  }
  return undefined;
}

async function bench(mode: "embedded" | "kafka"): Promise<void> {
  const t0 = Date.now();
  const system = mode === "embedded" ? await embedded() : await kafka();
  try {
    const client = createClient(TaskService, createGrpcTransport({ baseUrl: system.baseUrl }));
    const users = Array.from({ length: USERS }, (_, i) => userOf(i));
    console.log(`\n## ${mode}: ${COUNT} daily recurring tasks for ${USERS} users, ${CONCURRENCY} callers, probe: ${PROBE} (started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    // Seed: every task due today at 09:00 UTC, repeating daily on schedule.
    const total = WARMUP + COUNT;
    const due = new Date();
    due.setUTCHours(9, 0, 0, 0);
    const seeded: Seeded[] = new Array(total);
    const seed = await load(total, 16, async (i) => {
      const { task } = await client.createTask(
        {
          title: `Water the plants ${i}`,
          tags: ["bench"],
          due: { case: "dueTime", value: timestampFromDate(due) },
          timeZone: "UTC",
          recurrence: { rrule: "FREQ=DAILY", mode: RecurrenceMode.SCHEDULE },
          requestId: `bench-recurrence-${i}`,
        },
        as(userOf(i)),
      );
      seeded[i] = { task: task!, user: userOf(i) };
    });
    if (seed.errors) throw new Error(`seeding failed for ${seed.errors} tasks`);
    console.log(`seeded ${total} tasks in ${seed.seconds.toFixed(1)} s (${seed.perSecond.toFixed(0)}/s)`);

    const watcher = new Watcher();
    if (PROBE === "watch") await watcher.start(client, users);
    // Where the time goes: when a group of the bench's own sees each "completed" event on the bus
    // the services use (outbox relay + broker + fetch), as the recurrence consumer could at best.
    const completedSeen = new Map<string, number>();
    const trace = await system.bus.subscribe({
      group: `bench-recurrence-trace-${Date.now()}`,
      topics: ["task-events"],
      async handler({ value }) {
        if (isMessage(value, TaskEventSchema) && value.event.case === "completed" && !completedSeen.has(value.taskId)) completedSeen.set(value.taskId, performance.now());
      },
    });
    const nextIdOf = ({ task, user }: Seeded) => idForRequest(user, nextOccurrenceKey(task));
    const visible = (s: Seeded, timeoutMs: number) => (PROBE === "watch" ? watcher.until(nextIdOf(s), timeoutMs) : pollUntil(client, s.user, nextIdOf(s), timeoutMs));

    let peak: Record<string, number> = {};
    const sample = () => {
      for (const [part, bytes] of Object.entries(system.rss())) peak[part] = Math.max(peak[part] ?? 0, bytes);
    };
    const sampler = setInterval(sample, 250);

    // One completion and the wait for its next occurrence; the latency is from the response.
    const toEvent: number[] = [];
    const eventToVisible: number[] = [];
    const spawns: number[] = [];
    const fromCall: number[] = [];
    const completes: number[] = [];
    let missing = 0;
    let beforeResponse = 0;
    const cycle = async (s: Seeded, record: boolean) => {
      const pending = PROBE === "watch" ? visible(s, SPAWN_TIMEOUT_MS) : undefined;
      const start = performance.now();
      await client.completeTask({ id: s.task.id }, as(s.user));
      const answered = performance.now();
      const at = await (pending ?? visible(s, SPAWN_TIMEOUT_MS));
      if (!record) return;
      completes.push(answered - start);
      if (at === undefined) return void missing++;
      if (at < answered) beforeResponse++;
      spawns.push(Math.max(0, at - answered));
      fromCall.push(at - start);
      const seen = completedSeen.get(s.task.id);
      if (seen !== undefined) {
        toEvent.push(seen - answered);
        eventToVisible.push(at - seen);
      }
    };

    // Warm-up (not counted): connections, plans, the Kafka consumer group's first assignment.
    const warm = performance.now();
    for (let i = 0; i < WARMUP; i += CONCURRENCY) {
      await Promise.all(seeded.slice(i, i + CONCURRENCY).map((s) => cycle(s, false)));
    }
    // the trace group must be assigned and caught up too, or its times would be a backlog's
    for (let waited = 0; seeded.slice(0, WARMUP).some((s) => !completedSeen.has(s.task.id)) && waited < 60_000; waited += 100) await sleep(100);
    console.log(`warm-up: ${WARMUP} completions in ${((performance.now() - warm) / 1000).toFixed(1)} s`);
    peak = {};

    const run = await load(COUNT, CONCURRENCY, (i) => cycle(seeded[WARMUP + i]!, true));
    clearInterval(sampler);
    sample();
    if (run.errors) console.log(`  errors: ${run.errors} cycles failed (first error above)`);
    await watcher.stop();
    await trace.stop();

    // Verification: every next occurrence by GetTask, and every series counted in the database
    // after a pause, so that a late duplicate has time to land.
    await sleep(2_000);
    let notFound = 0;
    let wrongDue = 0;
    await load(total, 16, async (i) => {
      const { task, user } = seeded[i]!;
      try {
        const { task: next } = await client.getTask({ id: nextIdOf(seeded[i]!) }, as(user));
        const expected = due.getTime() + 86_400_000;
        if (next?.due.case !== "dueTime" || Number(next.due.value.seconds) * 1000 !== expected || next.seriesId !== task.seriesId) wrongDue++;
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) notFound++;
        else throw err;
      }
    });
    const perSeries = await system.db.query<{ n: number; series: number }>(
      system.db.em(),
      `SELECT n, count(*)::int AS series FROM (SELECT count(*)::int AS n FROM tasks.tasks WHERE user_id LIKE 'bench-rec-%' GROUP BY series_id) s GROUP BY n ORDER BY n`,
    );
    const seriesCounts = Object.fromEntries(perSeries.map((r) => [r.n, r.series]));
    const duplicates = perSeries.filter((r) => r.n > 2).reduce((sum, r) => sum + r.series * (r.n - 2), 0);

    const spawn = summarize(spawns, run.seconds);
    const sinceCall = summarize(fromCall, run.seconds);
    const complete = summarize(completes, run.seconds);
    console.log(`  completions: ${(COUNT / run.seconds).toFixed(0)}/s over ${run.seconds.toFixed(1)} s; CompleteTask p50 ${complete.p50.toFixed(1)} ms, p99 ${complete.p99.toFixed(1)} ms`);
    console.log(
      `  spawn latency (CompleteTask response → next occurrence visible): p50 ${spawn.p50.toFixed(1)} ms  p99 ${spawn.p99.toFixed(1)} ms  max ${spawn.max.toFixed(1)} ms  n=${spawn.count}` +
        `  → target p99 < ${TARGET_P99_MS} ms: ${spawn.p99 < TARGET_P99_MS ? "met" : "MISSED"}` +
        (beforeResponse ? `  (${beforeResponse} visible before the response arrived, counted as 0)` : ""),
    );
    const a = summarize(toEvent, run.seconds);
    const b = summarize(eventToVisible, run.seconds);
    console.log(
      `  where the time goes (n=${a.count}): response → "completed" event seen on the bus p50 ${a.p50.toFixed(1)} / p99 ${a.p99.toFixed(1)} ms;` +
        ` that event → next occurrence visible (consumer, CreateTask, feed) p50 ${b.p50.toFixed(1)} / p99 ${b.p99.toFixed(1)} ms`,
    );
    console.log(`  from the CompleteTask call (request sent → visible): p50 ${sinceCall.p50.toFixed(1)} ms  p99 ${sinceCall.p99.toFixed(1)} ms  max ${sinceCall.max.toFixed(1)} ms`);
    console.log(
      `  missing: ${missing} not visible within ${SPAWN_TIMEOUT_MS / 1000} s, ${notFound} not found by GetTask afterwards; wrong due/series: ${wrongDue}` +
        `; tasks per series: ${JSON.stringify(seriesCounts)} → duplicates ${duplicates}`,
    );
    console.log(
      `  peak RSS: ${Object.entries(peak)
        .map(([part, bytes]) => `${part} ${mb(bytes)}`)
        .join(", ")}`,
    );
    if (missing || notFound || duplicates || wrongDue || Object.keys(seriesCounts).some((n) => n !== "2")) process.exitCode = 1;
  } finally {
    await system.stop();
  }
}

const modes = (process.argv[2] ? [process.argv[2]] : ["embedded", "kafka"]) as ("embedded" | "kafka")[];
for (const mode of modes) {
  if (mode !== "embedded" && mode !== "kafka") throw new Error(`usage: npm run bench -- recurrence [embedded|kafka]`);
  await bench(mode);
}
