// Issue 4 benchmark: N reminders (default 10,000) due within a window (default 60 s) on the
// built-in scheduler, firing into the outbox and out on the embedded event log; on PostgreSQL and
// on PGlite. Prints fires/s, lateness p50/p99/max (fire time − scheduled time, from the fires
// table), missed and duplicate fires (by the unique fires and by the published events), memory.
//   npm run bench -- reminders [postgres|pglite]      BENCH_REMINDERS=10000 BENCH_WINDOW_S=60
import { isMessage } from "@bufbuild/protobuf";
import { openDatabase } from "@taskmesh/db";
import { openEmbeddedBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ReminderEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { startRemindersModule } from "@taskmesh/reminders";
import { migrations } from "../services/reminders/src/migrations/index.js";
import { benchDatabase, mb, summarize } from "./lib.js";

const COUNT = Number(process.env.BENCH_REMINDERS ?? 10_000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 60) * 1000;
// Time to arm everything before the first one is due (seeding, then the start-up reconcile).
const LEAD_MS = Number(process.env.BENCH_LEAD_S ?? 20) * 1000;
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

async function bench(target: "postgres" | "pglite"): Promise<void> {
  const { url, cleanup } = await benchDatabase(target, "reminders");
  try {
    const firstDue = new Date(Date.now() + LEAD_MS);
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
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    // Start-up schedules every armed reminder (reconcile), as after a restart.
    const reminders = await startRemindersModule({ databaseUrl: url, events: bus, logger });
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
    const [dupes] = await reminders.db.query<{ n: number }>(
      reminders.db.em(),
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM reminders.fires GROUP BY task_id, reminder_id HAVING count(*) > 1) d`,
    );
    const firedTimes = fires.map((f) => Number(f.fired));
    const span = (Math.max(...firedTimes) - Math.min(...firedTimes)) / 1000;
    const lateness = summarize(
      fires.map((f) => Number(f.late)),
      span,
    );
    const early = fires.filter((f) => Number(f.late) < 0).length;
    const publishedTwice = [...published.values()].filter((ids) => ids.size > 1).length;
    console.log(
      `${target}: ${COUNT} reminders due within ${WINDOW_MS / 1000} s (seeded in ${((seeded - t0) / 1000).toFixed(1)} s, armed on start-up in ${((armed - seeded) / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  fired ${fires.length}/${COUNT}  missed ${COUNT - fires.length}  duplicates ${dupes!.n}  early ${early}  published ${published.size} (twice: ${publishedTwice})`,
    );
    console.log(
      `  ${(fires.length / span).toFixed(0)} fires/s over ${span.toFixed(1)} s   lateness p50 ${lateness.p50.toFixed(1)} ms  p99 ${lateness.p99.toFixed(1)} ms  max ${lateness.max.toFixed(1)} ms   peak RSS ${mb(peakRss)}`,
    );
    await watcher.stop();
    await reminders.stop();
    await bus.close();
  } finally {
    await cleanup();
  }
}

const targets = (process.argv[2] ? [process.argv[2]] : ["postgres", "pglite"]) as ("postgres" | "pglite")[];
for (const target of targets) await bench(target);
