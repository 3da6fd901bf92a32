// `npm run bench -- list-queries [statements|gateway|gateway-postgres]…`: the ListTasks pages that depend most on
// query planning, for one user with 100,000 tasks (beside 1,000 users × 100, so the indexes also
// hold other users' words and tags): text searches for a word no task has, a word in one task,
// words in ~200, ~1,000, ~2,000, ~5,000 and ~15,000 tasks, terms with a symbol, a word with another term, a second
// page, and tag + priority + due range; each a page of 50 by due date.
//
// statements (default): the task service's handler in this process (Connect's router transport) on
// PostgreSQL as the tests run it (packages/infra/src/postgres.ts). Per shape: the page's p50/p99 over
// BENCH_CALLS (300) calls one after another, then the statement the store issued for it (captured
// from the store, not retyped) run on its own: EXPLAIN ANALYZE's execution + planning time (median
// of 30, TIMING OFF), the shared buffers it touched, and the scans that ran with their row counts
// (BENCH_PLANS=1 prints whole plans).
//
// gateway: the `npm start` app (compiled: `npm run build` first; BENCH_APP_ROOT runs another
// checkout's build) on its own PostgreSQL, through its gateway with Connect JSON over HTTP/1.1 and
// an API token (vegeta): p50/p99 at 1 caller (BENCH_CALLS) and 16 callers (4 × BENCH_CALLS).
// gateway-postgres: the same app on a PostgreSQL of the bench's own (DATABASE_URL; durable, as
// packages/infra/src/postgres.ts starts it, default memory settings).
//
// BENCH_SHAPES=<regular expression> runs the shapes whose label it matches (`character|symbol`).
//
// Figures are noisy on a shared machine: compare runs taken under the same load, interleaved.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { compileFilterToSql, parseFilter } from "@taskmesh/filter";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import pg from "pg";
import { startPostgres } from "@taskmesh/infra/postgres";
import { POSTGRES_FOLDER } from "@taskmesh/embedded";
import { startTasksModule } from "../services/tasks/src/index.js";
import { benchDatabase, call, SEED_WORDS, startApp, summarize, vegeta } from "./lib.js";

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
/** BENCH_SHAPES: a regular expression; only the shapes whose label it matches run, in every mode. */
const ONLY = process.env.BENCH_SHAPES ? new RegExp(process.env.BENCH_SHAPES) : undefined;
const chosen = (shape: Shape) => !ONLY || ONLY.test(shape.label);
const EXPLAINS = 30;
const modes = process.argv.slice(2).length ? process.argv.slice(2) : ["statements"];

// Words planted in a share of every user's tasks, beside the generated vocabulary.
const PLANTED: [word: string, share: number][] = [
  ["harbor", 0.05],
  ["kettle", 0.02],
  ["ferry", 0.01],
  ["lantern", 0.002],
];

/** A user with years of completed tasks and a few open ones, beside `user` (the statements mode). */
const VETERAN = "bench-veteran";

/**
 * 100,000 tasks of `user` and 1,000 × 100 of others, created a minute apart (about 70 days) and
 * each changed at a random time since; exactly one of the user's has "xylophone". With `veteran`,
 * also VETERAN's 100,000, 60 of them open, completed over time.
 */
async function seed(client: pg.Client, user: string, veteran = false): Promise<void> {
  const t0 = performance.now();
  const insert = (userExpr: string, count: number) => `
    ${SEED_WORDS}
    INSERT INTO tasks.tasks (id, user_id, title, notes, status, priority, tags, due_at, due_time, time_zone, created_at, updated_at)
    SELECT gen_random_uuid(), ${userExpr},
           initcap(w[1 + floor(random()*34)::int] || ' ' || w[1 + floor(random()*34)::int] || ' ' || w[1 + floor(random()*34)::int]),
           w[1 + floor(random()*34)::int] || ' ' || w[1 + floor(random()*34)::int] || ' notes ' || g
             ${PLANTED.map(([word, share]) => `|| CASE WHEN random() < ${share} THEN ' ${word}' ELSE '' END`).join(" ")},
           CASE WHEN random() < 0.33 THEN 2 ELSE 1 END,
           1 + floor(random()*4)::int,
           ARRAY[t[1 + i1]] || CASE WHEN random() < 0.4 THEN ARRAY[t[1 + (i1 + 1 + floor(random()*9)::int) % 10]] ELSE '{}' END,
           d, d, 'UTC', now() - g * interval '1 minute', now() - g * random() * interval '1 minute'
    FROM words, generate_series(1, ${count}) AS g,
         -- Correlated with g: an uncorrelated LATERAL runs once, giving every row the same values.
         LATERAL (SELECT CASE WHEN random() < 0.25 THEN NULL ELSE now() + (random()*120 - 60) * interval '1 day' END AS d,
                         floor(random()*10)::int AS i1 WHERE g > 0) AS r`;
  await client.query(insert("$1", 100_000), [user]);
  await client.query(insert(`'bench-user-' || (g % 1000)`, 100_000));
  await client.query(`UPDATE tasks.tasks SET notes = notes || ' xylophone' WHERE id = (SELECT id FROM tasks.tasks WHERE user_id = $1 ORDER BY created_at OFFSET 40000 LIMIT 1)`, [user]);
  if (veteran) {
    await client.query(
      `${SEED_WORDS}
    INSERT INTO tasks.tasks (id, user_id, title, notes, status, completed_at, priority, tags, due_at, due_time, time_zone, created_at, updated_at)
    SELECT gen_random_uuid(), $1, initcap(w[1 + floor(random()*34)::int]), '', CASE WHEN g % 1667 = 0 THEN 1 ELSE 2 END,
           CASE WHEN g % 1667 = 0 THEN NULL ELSE now() - g * interval '20 minutes' END, 1 + floor(random()*4)::int, '{}',
           now() - g * interval '20 minutes', now() - g * interval '20 minutes', 'UTC', now() - g * interval '21 minutes', now() - g * interval '20 minutes'
    FROM words, generate_series(1, 100000) AS g`,
      [VETERAN],
    );
  }
  await client.query("VACUUM (ANALYZE) tasks.tasks");
  console.log(`seeded ${veteran ? "300,000" : "200,000"} tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface Shape {
  label: string;
  query: string;
  /** Page 2 of the query, through its page token. */
  secondPage?: boolean;
  /** ListTasks order_by; "due" unless given. */
  orderBy?: string;
  /** Whose list: the veteran's (100,000 tasks, 60 of them open) instead of the user's. */
  veteran?: true;
}

const SHAPES: Shape[] = [
  { label: "text, no task: zebra", query: "zebra" },
  { label: "text, one task: xylophone", query: "xylophone" },
  { label: "text, ~200 tasks: lantern", query: "lantern" },
  { label: "text, ~1,000 tasks: ferry", query: "ferry" },
  { label: "text, ~2,000 tasks: kettle", query: "kettle" },
  { label: "text, ~5,000 tasks: harbor", query: "harbor" },
  { label: "text, ~15,000 tasks: groceries", query: "groceries" },
  { label: "text, page 2: harbor", query: "harbor", secondPage: true },
  { label: "text with a symbol, no task: c++", query: "c++" },
  { label: "text with a symbol, no task: 100%", query: "100%" },
  { label: "a symbol alone, no task: +", query: "+" },
  // The second keypress of a search typed in the web app.
  { label: "two characters, no task: qz", query: "qz" },
  { label: "two characters, one task: xy", query: "xy" },
  { label: "one character, no task: q", query: "q" },
  { label: "two characters, ~16,000 tasks: ke", query: "ke" },
  { label: "text + tag: lantern tag:home", query: "lantern tag:home" },
  { label: "text OR due: zebra OR due:today", query: "zebra OR due:today" },
  { label: "tag:home priority>=high due:next-7-days", query: "tag:home priority>=high due:next-7-days" },
  { label: "status:open", query: "status:open" },
  { label: "tag, ~14,000 tasks: tag:home", query: "tag:home" },
  { label: "tag, no task: tag:nothing", query: "tag:nothing" },
  { label: "tag wildcard, ~14,000 tasks: @hom*", query: "@hom*" },
  { label: "tag wildcard, no task: @noth*", query: "@noth*" },
  { label: "no tags, no task: tag:none", query: "tag:none" },
  { label: "no due, ~25,000 tasks: due:none", query: "due:none" },
  { label: "completed today, no task: completed:today", query: "completed:today" },
  { label: "a veteran's open tasks (60 of 100,000): status:open", query: "status:open", veteran: true },
  // The pages that read the index of updated_at (tasks_by_updated): the web app's "Recently changed"
  // order, and the filter language's `updated` field.
  { label: "Recently changed (updated desc)", query: "", orderBy: "updated desc" },
  { label: "status:open, updated desc", query: "status:open", orderBy: "updated desc" },
  { label: "status:open, updated desc, page 2", query: "status:open", orderBy: "updated desc", secondPage: true },
  { label: "updated:last-week", query: "updated:last-week" },
  { label: "status:completed updated:last-week", query: "status:completed updated:last-week" },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function statements(): Promise<void> {
  const USER = "bench-big";
  const { url, cleanup } = await benchDatabase();
  try {
    // Migrations first (the module runs them), then the rows, then the service on them.
    await (await startTasksModule({ databaseUrl: url })).stop();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await seed(raw, USER, true);
    const tasks = await startTasksModule({ databaseUrl: url });
    try {
      const { db } = tasks;
      let last: { sql: string; params: readonly unknown[] } | undefined;
      const query = db.query.bind(db);
      db.query = ((em, sql, params) => {
        if (/\bFROM tasks\.tasks\b/.test(sql) && /\bLIMIT\b/.test(sql)) last = { sql, params: params ?? [] };
        return query(em, sql, params);
      }) as typeof db.query;
      const client = createClient(TaskService, createRouterTransport(tasks.routes));
      const headers = { "x-user-id": USER, "x-time-zone": "UTC" };
      const version = (await raw.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      console.log(`\n## ListTasks statements, one user with 100,000 tasks (PostgreSQL ${version}), page of 50 by due\n`);
      console.log("| shape | matches | page p50 / p99 (ms) | statement: execution + planning (ms) | shared buffers | scans that ran → rows |");
      console.log("|---|---|---|---|---|---|");
      for (const shape of SHAPES.filter(chosen)) {
        const compiled = compileFilterToSql(parseFilter(shape.query), { now: new Date(), timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 2 });
        const who = shape.veteran ? VETERAN : USER;
        const matches = (await raw.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks.tasks WHERE user_id = $1 AND ${compiled.sql}`, [who, ...compiled.params])).rows[0]!.n;
        const orderBy = shape.orderBy ?? "due";
        const as = { headers: { ...headers, "x-user-id": who } };
        const pageToken = shape.secondPage ? (await client.listTasks({ query: shape.query, orderBy, pageSize: 50 }, as)).nextPageToken : "";
        const page = () => client.listTasks({ query: shape.query, orderBy, pageSize: 50, pageToken }, as);
        for (let i = 0; i < 20; i++) await page();
        const latencies: number[] = [];
        for (let i = 0; i < CALLS; i++) {
          const t0 = performance.now();
          await page();
          latencies.push(performance.now() - t0);
        }
        const stats = summarize(latencies, 1);
        const statement = last!;
        const plan = (await raw.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${statement.sql}`, [...statement.params])).rows.map((r) => String(r["QUERY PLAN"]));
        const exec: number[] = [];
        const planning: number[] = [];
        for (let i = 0; i < EXPLAINS; i++) {
          const text = (await raw.query(`EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) ${statement.sql}`, [...statement.params])).rows.map((r) => String(r["QUERY PLAN"])).join("\n");
          exec.push(Number(/Execution Time: ([\d.]+)/.exec(text)?.[1]));
          planning.push(Number(/Planning Time: ([\d.]+)/.exec(text)?.[1]));
        }
        const buffers = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(plan.find((l) => /Buffers: shared/.test(l)) ?? "");
        // The scans that ran, with the rows they returned and the rows their filter threw away.
        const scans = plan
          .map((l, i) => {
            const scan = /((?:Bitmap )?Index (?:Only )?Scan(?: Backward)?|Seq Scan) (?:using |on )(\w+).*\(actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+)/.exec(l);
            if (!scan) return undefined;
            const removed = /Rows Removed by Filter: (\d+)/.exec(plan.slice(i + 1, i + 4).join("\n"));
            return `${scan[1]} ${scan[2]} → ${Number(scan[3])}${removed ? ` (${removed[1]} filtered out)` : ""}`;
          })
          .filter(Boolean);
        console.log(
          `| ${shape.label} | ${matches} | ${stats.p50.toFixed(2)} / ${stats.p99.toFixed(2)} | ${median(exec).toFixed(2)} + ${median(planning).toFixed(2)} | ${buffers ? Number(buffers[1]) + Number(buffers[2] ?? 0) : "?"} | ${scans.join("; ")} |`,
        );
        if (process.env.BENCH_PLANS) console.log(`\n\`\`\`\n${plan.join("\n")}\n\`\`\`\n`);
      }
    } finally {
      await raw.end();
      await tasks.stop();
    }
  } finally {
    await cleanup();
  }
}

async function gateway(external: boolean): Promise<void> {
  const parent = mkdtempSync(path.join(tmpdir(), "bench-list-queries-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  const server = external ? await startPostgres({ settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on" } }) : undefined;
  const app = await startApp(dataDir, { nodeArgs: ["--max-old-space-size=256"], env: server ? { DATABASE_URL: server.url } : {}, root: process.env.BENCH_APP_ROOT });
  try {
    const { accessToken, user } = await call<{ accessToken: string; user: { id: string } }>(app.url, "taskmesh.auth.v1.AuthService/SignUp", {
      email: "bench@example.com",
      password: "correct horse battery staple",
      timeZone: "UTC",
    });
    const { secret: token } = await call<{ secret: string }>(app.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "bench" }, accessToken);
    const db = new pg.Client({ connectionString: server?.url ?? `postgres://taskmesh@localhost/taskmesh?host=${encodeURIComponent(path.join(dataDir, POSTGRES_FOLDER))}` });
    await db.connect();
    try {
      await seed(db, user.id);
    } finally {
      await db.end();
    }
    const method = "taskmesh.tasks.v1.TaskService/ListTasks";
    const engine = server ? "an external PostgreSQL" : "its own PostgreSQL";
    console.log(`\n## ListTasks through the gateway of npm start's app on ${engine} (Connect JSON, HTTP/1.1, API token), one user with 100,000 tasks, page of 50 by due\n`);
    console.log("| shape | 1 caller: p50 / p99 (ms) | 16 callers: calls/s, p50 / p99 (ms) |");
    console.log("|---|---|---|");
    for (const shape of SHAPES.filter((s) => !s.veteran && chosen(s))) {
      const orderBy = shape.orderBy ?? "due";
      const pageToken = shape.secondPage ? (await call<{ nextPageToken: string }>(app.url, method, { query: shape.query, orderBy, pageSize: 50 }, token)).nextPageToken : "";
      const requests = (n: number) => Array.from({ length: n }, () => ({ method, body: { query: shape.query, orderBy, pageSize: 50, pageToken } }));
      await vegeta(app.url, token, requests(50), 4);
      const one = await vegeta(app.url, token, requests(CALLS), 1);
      const many = await vegeta(app.url, token, requests(4 * CALLS), 16);
      const errors = one.errors + many.errors ? ` (${one.errors + many.errors} errors)` : "";
      console.log(`| ${shape.label} | ${one.p50.toFixed(2)} / ${one.p99.toFixed(2)} | ${many.perSecond.toFixed(0)}/s, ${many.p50.toFixed(2)} / ${many.p99.toFixed(2)}${errors} |`);
    }
  } finally {
    await app.proc.stop();
    await server?.stop();
    rmSync(parent, { recursive: true, force: true });
  }
}

for (const mode of modes) {
  if (mode === "statements") await statements();
  else if (mode === "gateway" || mode === "gateway-postgres") await gateway(mode === "gateway-postgres");
  else throw new Error(`unknown mode ${mode}: statements, gateway or gateway-postgres`);
}
