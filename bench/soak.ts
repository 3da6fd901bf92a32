// `npm run bench -- soak [minutes]` (default 30): the `npm start` app (compiled: `npm run build`
// first) under steady writes for that long, printing table sizes and memory as it goes, to show that
// storage levels off once retention prunes. The retentions are shortened to fit the run
// (BENCH_RETENTION_MINUTES, default a fifth of it; pruning every BENCH_PRUNE_SECONDS, 30): the change
// feed, the embedded event log and processed_events. Tasks are created, changed, completed and
// deleted again, so what stays is only what retention keeps (and the activity history, kept 90
// days by design). BENCH_RATE writes per second (default 20), BENCH_USERS (10).
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { call, memory, startApp } from "./lib.js";

const minutes = Number(process.argv[2] ?? process.env.BENCH_SOAK_MINUTES ?? 30);
const retentionMinutes = Number(process.env.BENCH_RETENTION_MINUTES ?? Math.max(1, minutes / 5));
const pruneSeconds = Number(process.env.BENCH_PRUNE_SECONDS ?? 30);
const rate = Number(process.env.BENCH_RATE ?? 20);
const users = Number(process.env.BENCH_USERS ?? 10);
const samples = 12;
const TABLES = ["tasks.task_changes", "tasks.outbox", "events.log", "reminders.processed_events", "audit.processed_events", "audit.activity", "tasks.tasks"];

const days = (m: number) => String(m / (24 * 60));
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const parent = mkdtempSync(path.join(tmpdir(), "bench-soak-"));
chmodSync(parent, 0o755);
const dataDir = path.join(parent, "data");
const app = await startApp(dataDir, {
  nodeArgs: ["--max-old-space-size=256"],
  env: {
    TASKMESH_FEED_RETENTION_DAYS: days(retentionMinutes),
    TASKMESH_EVENT_LOG_RETENTION_DAYS: days(retentionMinutes),
    TASKMESH_PROCESSED_EVENTS_RETENTION_DAYS: days(retentionMinutes),
    TASKMESH_PRUNE_INTERVAL_SECONDS: String(pruneSeconds),
  },
});
// The app's own PostgreSQL listens on a socket in its data folder.
const db = new pg.Client({ connectionString: `postgres://taskmesh@localhost/taskmesh?host=${encodeURIComponent(path.join(dataDir, "postgres"))}` });
let stopping = false;
try {
  await db.connect();
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const res = await call<{ accessToken: string }>(app.url, "taskmesh.auth.v1.AuthService/SignUp", { email: `soak-${i}@example.com`, password: "correct horse battery staple" });
    tokens.push((await call<{ secret: string }>(app.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "soak" }, res.accessToken)).secret);
  }
  console.log(`soak: ${minutes} min, ${rate} writes/s from ${users} users; retention ${retentionMinutes} min, pruned every ${pruneSeconds} s (app pid ${app.proc.pid})`);
  console.log(["min", "writes", "errors", ...TABLES.map((t) => `${t} MiB/rows`), "RSS/PSS MiB"].join("\t"));

  let writes = 0;
  let errors = 0;
  // One task's life: created, retitled, completed, deleted — four writes, nothing left behind.
  const life = async (token: string) => {
    const m = "taskmesh.tasks.v1.TaskService/";
    const { task } = await call<{ task: { id: string; version: string } }>(app.url, `${m}CreateTask`, { title: "soak", tags: ["soak"] }, token);
    const updated = await call<{ task: { version: string } }>(app.url, `${m}UpdateTask`, { task: { id: task.id, title: "soaked" }, updateMask: "title", expectedVersion: task.version }, token);
    await call(app.url, `${m}CompleteTask`, { id: task.id, expectedVersion: updated.task.version }, token);
    await call(app.url, `${m}DeleteTask`, { id: task.id }, token);
    writes += 4;
  };
  const writer = (async () => {
    let next = performance.now();
    for (let i = 0; !stopping; i++) {
      next += 4000 / rate;
      life(tokens[i % users]!).catch(() => errors++);
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();

  const sample = async (elapsedMin: number) => {
    const cells: string[] = [];
    for (const table of TABLES) {
      const { rows } = await db.query<{ bytes: string; n: string }>(`SELECT pg_total_relation_size($1::regclass)::text AS bytes, (SELECT count(*) FROM ${table})::text AS n`, [table]);
      cells.push(`${mib(Number(rows[0]!.bytes))}/${rows[0]!.n}`);
    }
    const mem = memory(app.proc.pid!);
    console.log([elapsedMin.toFixed(1), writes, errors, ...cells, `${mem.rss.toFixed(0)}/${mem.pss.toFixed(0)}`].join("\t"));
  };
  await sample(0);
  for (let s = 1; s <= samples; s++) {
    await new Promise((r) => setTimeout(r, (minutes * 60_000) / samples));
    await sample((minutes * s) / samples);
  }
  stopping = true;
  await writer;
} finally {
  stopping = true;
  await db.end().catch(() => undefined);
  await app.proc.stop();
  rmSync(parent, { recursive: true, force: true });
}
