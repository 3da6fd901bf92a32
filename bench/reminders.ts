// Issues 4 and 6 benchmark: N reminders (default 10,000) due within a window (default 60 s),
// firing into the outbox and out on the embedded event log. Prints fires/s, lateness p50/p99/max
// (fire time − scheduled time, from the fires table), missed and duplicate fires (by the unique
// fires and by the published events), memory.
//   postgres (the default): the built-in scheduler (PostgresScheduler) on PostgreSQL;
//   dapr-jobs: the Dapr Jobs API scheduler (DaprJobsScheduler) on PostgreSQL, with a real daprd
//   sidecar and Dapr scheduler service; also counts Dapr's deliveries per job (at least once).
//   npm run bench -- reminders [postgres|dapr-jobs]   BENCH_REMINDERS=10000 BENCH_WINDOW_S=60
//   BENCH_LEAD_S (20; 60 for dapr-jobs, which arms one job per HTTP call)
import { readFileSync } from "node:fs";
import { isMessage } from "@bufbuild/protobuf";
import { openDatabase, type Database } from "@taskmesh/db";
import { openEmbeddedBus } from "@taskmesh/events";
import { createLogger, startServer, type RunningServer } from "@taskmesh/kit";
import { AppCallback, AppCallbackAlpha } from "@taskmesh/proto/dapr/proto/runtime/v1/appcallback_pb.js";
import { ReminderEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { startRemindersModule, type RemindersModuleOptions, type Scheduler } from "@taskmesh/reminders";
import { freePort } from "@taskmesh/infra/cache";
import { startDaprMesh, type DaprMesh } from "@taskmesh/infra/dapr";
import { migrations } from "../services/reminders/src/migrations/index.js";
import { DaprJobsScheduler, daprJobFiresMigration } from "../services/reminders/src/scheduler/dapr-jobs-scheduler.js";
import { benchDatabase, mb, summarize } from "./lib.js";

type Target = "postgres" | "dapr-jobs";
const COUNT = Number(process.env.BENCH_REMINDERS ?? 10_000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 60) * 1000;
// Time to arm everything before the first one is due (seeding, then the start-up reconcile).
const leadMs = (target: Target) => Number(process.env.BENCH_LEAD_S ?? (target === "dapr-jobs" ? 60 : 20)) * 1000;
// The Dapr backend's dedupe table (dapr_job_fires), in a schema of its own: the reminders
// service's migrations do not include it, and adding it there is not the benchmark's business.
const DAPR_SCHEMA = "reminders_dapr_jobs";
const logger = createLogger("bench-reminders");
logger.level = "warn";

/** Armed reminders as the task-events consumer leaves them: one task and one reminder per row. */
async function seed(url: string, firstDue: Date): Promise<void> {
  const db = await openDatabase({ url, schema: "reminders", entities: [], migrations });
  const em = db.em();
  await db.query(em, `INSERT INTO reminders.tasks (task_id, user_id, title, version) SELECT gen_random_uuid(), 'bench-user-' || (g % 100), 'task ' || g, 1 FROM generate_series(1, $1) g`, [COUNT]);
  await db.query(
    em,
    `INSERT INTO reminders.reminders (task_id, reminder_id, user_id, position, at, base_fire_at, fire_at, state)
     SELECT task_id, 'r', user_id, 0, due, due, due, 1
     FROM (SELECT task_id, user_id, $1::timestamptz + (row_number() OVER () - 1) * ($2::float8 / $3) * interval '1 millisecond' AS due FROM reminders.tasks) t`,
    [firstDue.toISOString(), WINDOW_MS, COUNT],
  );
  await db.close();
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Counts how many deliveries daprd has this app handle at once. */
function countingHandlers(inner: Scheduler, handling: { now: number; peak: number }): Scheduler {
  return {
    schedule: (jobs) => inner.schedule(jobs),
    cancel: (ids) => inner.cancel(ids),
    start: (onDue) =>
      inner.start(async (job) => {
        handling.peak = Math.max(handling.peak, ++handling.now);
        try {
          await onDue(job);
        } finally {
          handling.now--;
        }
      }),
    stop: () => inner.stop(),
  };
}

/**
 * The Dapr Jobs backend as a replica runs it (as test/dapr-jobs-scheduler.test.ts wires it): a daprd
 * sidecar connected to the Dapr scheduler, calling this process's AppCallback server (gRPC), which
 * serves the scheduler's OnJobEvent routes.
 */
async function daprJobsBackend(url: string) {
  let mesh: DaprMesh | undefined;
  let server: RunningServer | undefined;
  let db: Database | undefined;
  const stop = async () => {
    await mesh?.stop();
    await server?.drain();
    await db?.close();
  };
  try {
    mesh = await startDaprMesh({ scheduler: true });
    db = await openDatabase({ url, schema: DAPR_SCHEMA, entities: [], migrations: [daprJobFiresMigration(DAPR_SCHEMA)] });
    // the sidecar first, as in a pod: it waits for the app port while the app starts
    const port = await freePort();
    const sidecar = await mesh.sidecar({ appId: "reminders", appPort: port, appProtocol: "grpc", scheduler: true });
    const scheduler = new DaprJobsScheduler(db, { daprHttpUrl: `http://127.0.0.1:${sidecar.httpPort}`, schema: DAPR_SCHEMA, logger });
    server = await startServer({ logger, services: [AppCallback, AppCallbackAlpha], routes: scheduler.routes }, port, "127.0.0.1");
    const jobsDb = db;
    const handling = { now: 0, peak: 0 };
    const pids = { daprd: sidecar.proc.pid, scheduler: mesh.scheduler!.proc.pid };
    return {
      scheduler: (() => countingHandlers(scheduler, handling)) satisfies RemindersModuleOptions["scheduler"],
      /** RSS of daprd and the Dapr scheduler (its embedded etcd included). */
      rss: () => ({ daprd: rssOf(pids.daprd), scheduler: rssOf(pids.scheduler) }),
      handling,
      /** Dapr's deliveries: all, and jobs delivered more than once (each handled once). */
      async deliveries() {
        const [row] = await jobsDb.query<{ total: number; redelivered: number; unfinished: number }>(
          jobsDb.em(),
          `SELECT coalesce(sum(attempts), 0)::int AS total, count(*) FILTER (WHERE attempts > 1)::int AS redelivered,
                  count(*) FILTER (WHERE done_at IS NULL)::int AS unfinished FROM ${DAPR_SCHEMA}.dapr_job_fires`,
        );
        return row!;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function bench(target: Target): Promise<void> {
  const { url, cleanup } = await benchDatabase();
  let dapr: Awaited<ReturnType<typeof daprJobsBackend>> | undefined;
  try {
    if (target === "dapr-jobs") dapr = await daprJobsBackend(url);
    const firstDue = new Date(Date.now() + leadMs(target));
    const t0 = Date.now();
    await seed(url, firstDue);
    const seeded = Date.now();
    const bus = await openEmbeddedBus({ url, logger });
    const published = new Map<string, Set<string>>();
    const watcher = await bus.subscribe({
      group: "bench-watcher",
      topics: ["reminders"],
      async handler({ value }) {
        if (!isMessage(value, ReminderEventSchema) || value.event.case !== "fired") return;
        const ids = published.get(value.taskId) ?? new Set();
        ids.add(value.eventId);
        published.set(value.taskId, ids);
      },
    });
    let peakRss = 0;
    const peakDapr = { daprd: 0, scheduler: 0 };
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const d = dapr?.rss();
      if (d) for (const k of ["daprd", "scheduler"] as const) peakDapr[k] = Math.max(peakDapr[k], d[k]);
    }, 250);
    // Start-up schedules every armed reminder (reconcile), as after a restart.
    const reminders = await startRemindersModule({ databaseUrl: url, events: bus, logger, scheduler: dapr?.scheduler });
    const armed = Date.now();
    if (armed > firstDue.getTime()) console.warn(`warning: arming took past the first due by ${armed - firstDue.getTime()} ms (raise BENCH_LEAD_S)`);
    const deadline = firstDue.getTime() + WINDOW_MS + 120_000;
    const count = async () => (await reminders.db.query<{ n: number }>(reminders.db.em(), `SELECT count(*)::int AS n FROM reminders.fires`))[0]!.n;
    while ((await count()) < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    while (published.size < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    clearInterval(sampler);
    const fires = await reminders.db.query<{ late: number; fired: number }>(
      reminders.db.em(),
      `SELECT extract(epoch FROM fired_at - scheduled_for) * 1000 AS late, extract(epoch FROM fired_at) * 1000 AS fired FROM reminders.fires`,
    );
    const [dupes] = await reminders.db.query<{ n: number }>(reminders.db.em(), `SELECT count(*)::int AS n FROM (SELECT 1 FROM reminders.fires GROUP BY task_id, reminder_id HAVING count(*) > 1) d`);
    const firedTimes = fires.map((f) => Number(f.fired));
    const span = (Math.max(...firedTimes) - Math.min(...firedTimes)) / 1000;
    const lateness = summarize(
      fires.map((f) => Number(f.late)),
      span,
    );
    const early = fires.filter((f) => Number(f.late) < 0).length;
    const publishedTwice = [...published.values()].filter((ids) => ids.size > 1).length;
    console.log(`${target}: ${COUNT} reminders due within ${WINDOW_MS / 1000} s (seeded in ${((seeded - t0) / 1000).toFixed(1)} s, armed on start-up in ${((armed - seeded) / 1000).toFixed(1)} s)`);
    console.log(`  fired ${fires.length}/${COUNT}  missed ${COUNT - fires.length}  duplicates ${dupes!.n}  early ${early}  published ${published.size} (twice: ${publishedTwice})`);
    console.log(
      `  ${(fires.length / span).toFixed(0)} fires/s over ${span.toFixed(1)} s   lateness p50 ${lateness.p50.toFixed(1)} ms  p99 ${lateness.p99.toFixed(1)} ms  max ${lateness.max.toFixed(1)} ms   peak RSS ${mb(peakRss)}${
        dapr ? ` (+ daprd ${mb(peakDapr.daprd)}, Dapr scheduler ${mb(peakDapr.scheduler)})` : ""
      }`,
    );
    if (dapr) {
      const d = await dapr.deliveries();
      console.log(
        `  Dapr deliveries ${d.total} (jobs delivered more than once: ${d.redelivered}, deduped by dapr_job_fires; unfinished ${d.unfinished}; at most ${dapr.handling.peak} handled at once)`,
      );
    }
    await watcher.stop();
    await reminders.stop();
    await bus.close();
  } finally {
    await dapr?.stop();
    await cleanup();
  }
}

const target = (process.argv[2] ?? "postgres") as Target;
if (!["postgres", "dapr-jobs"].includes(target)) throw new Error(`unknown target ${target}: postgres or dapr-jobs`);
await bench(target);
