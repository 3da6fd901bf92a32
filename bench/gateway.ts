// `npm run bench -- gateway [embedded|postgres]…`: the hot calls through the door users use — the
// gateway of the `npm start` app (compiled, as npm start runs it), Connect JSON over HTTP/1.1 with an
// API token like the browser and curl — for one user with BENCH_GATEWAY_TASKS (100,000) tasks:
// CreateTask, UpdateTask, CompleteTask, GetTask, ListTasks `status:open` (first page of 50 by due),
// and a deep keyset page (page 21 of all tasks by due), each at 1 and 16 callers. vegeta (Go) is the
// load generator: one request per line, so updates and completes each name a task of their own.
//
// embedded: the app's own PostgreSQL (its child process); postgres: app mode on an external
// PostgreSQL (DATABASE_URL, a server of the bench's own, durable). There BENCH_STATEMENTS=1 lists
// each row's statements from pg_stat_statements (how many per call, the costliest; =40 the top 40), and BENCH_CEILING=1 adds the ceiling of each read:
// the statements one call issued (captured from the server's log, with their parameters) run
// straight through pg (Node) at the same concurrency, and the gateway's share of that rate.
//
// Per row: rate, p50/p99, and server CPU from /proc per 1,000 calls — the app's node process alone,
// PostgreSQL (postmaster, its backends, ended ones included) separately; for writes also the work
// left after the last response (outbox relay, live feed, audit, recurrence, reminders) until both
// are idle, as "+ background". Memory: the node process's RSS and PostgreSQL's PSS before, after
// and at the peak.
//
// The tasks are seeded with one INSERT … SELECT generate_series straight into tasks.tasks (no change
// feed or outbox rows: what the store would write for a task, without its events), in the user's
// Inbox, then VACUUM ANALYZE. Writes report how many of the task rows they updated were HOT.
//
// BENCH_APP_ROOT runs the app of another checkout (its dist/ built), to compare commits run after run.
// BENCH_CALLS (4,000) calls at 16 callers, a quarter of that at 1; BENCH_SCENARIOS (comma-separated
// of get, list-open, list-deep, create, update, complete, delete) runs a subset; the app runs with npm start's node options
// and environment (scripts/app-node.mjs), BENCH_NODE_ARGS added as for `embedded` (e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the app; the profile is
// written when it stops; `node --import tsx bench/tools/cpuprofile-top.ts <profile> <window>` lists its
// top frames in the window printed for each row).
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { DEFAULT_PREPARE_THRESHOLD, prepareRepeatedStatements } from "@taskmesh/db";
import { startPostgres } from "@taskmesh/infra/postgres";
import { POSTGRES_FOLDER } from "@taskmesh/embedded";
import { appNodeArgs, appNodeEnv } from "../scripts/app-node.mjs";
import { call, cpuSeconds, load, memory, ownCpuSeconds, peakRss, resetPeakRss, rssOf, startApp, vegeta, type CallRequest, type Stats } from "./lib.js";

const TASKS = Number(process.env.BENCH_GATEWAY_TASKS ?? 100_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 4_000);
const nodeArgs = [...appNodeArgs(), ...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean)];
const only = (process.env.BENCH_SCENARIOS ?? "").split(",").filter(Boolean);
/** BENCH_STATEMENTS=1 lists the 12 costliest statements of each row, a larger number that many. */
const TOP_STATEMENTS = Math.max(12, Number(process.env.BENCH_STATEMENTS) || 0);
const modes = process.argv.slice(2).length ? process.argv.slice(2) : ["embedded"];
const appRoot = process.env.BENCH_APP_ROOT;
const TASK_SERVICE = "taskmesh.tasks.v1.TaskService";

/**
 * Tasks for `userId` as the bench's SQL writes them: a word vocabulary for search, tags, priorities, dues over ±60 days (a quarter
 * without), a third completed; no tag twice (the service refuses duplicates). In the user's Inbox, each with an order key of its own
 * ("d" + 4 base-62 digits, as the order keys' migration numbers tasks), as the service places the tasks it creates: a task without a
 * project would be moved into the Inbox by its first update, which then looks for the last order key there.
 */
function seedSql(count: number): string {
  return `
    WITH words AS (SELECT ARRAY['buy','groceries','call','mum','file','taxes','renew','passport','book','dentist','fix','bike',
                                'plan','trip','rome','pay','rent','water','plants','write','report','review','budget','clean',
                                'garage','email','landlord','order','printer','ink','schedule','meeting','prepare','slides','harbor'] AS w,
                          ARRAY['home','work','errands','finance','health','travel','family','admin','garden','music'] AS t,
                          '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'::text AS k)
    INSERT INTO tasks.tasks (id, user_id, title, notes, status, priority, tags, due_at, due_time, time_zone, created_at, updated_at, completed_at,
                             project_id, order_key)
    SELECT gen_random_uuid(), $1,
           initcap(w[1 + (random()*34)::int] || ' ' || w[1 + (random()*34)::int] || ' ' || w[1 + (random()*34)::int]),
           w[1 + (random()*34)::int] || ' ' || w[1 + (random()*34)::int] || ' notes ' || g,
           CASE WHEN c THEN 2 ELSE 1 END,
           1 + (random()*3)::int,
           ARRAY[t[1 + i1]] || CASE WHEN random() < 0.4 THEN ARRAY[t[1 + (i1 + 1 + (random()*8)::int) % 10]] ELSE '{}' END,
           d, d, 'UTC', now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval,
           CASE WHEN c THEN now() - (g || ' seconds')::interval END,
           (SELECT id FROM tasks.projects WHERE owner_id = $1 AND inbox),
           'd' || substr(k, g / 238328 % 62 + 1, 1) || substr(k, g / 3844 % 62 + 1, 1) || substr(k, g / 62 % 62 + 1, 1) || substr(k, g % 62 + 1, 1)
    FROM words, generate_series(1, ${Number(count)}) AS g,
         -- Correlated with g: an uncorrelated LATERAL runs once, giving every row the same values.
         LATERAL (SELECT CASE WHEN random() < 0.25 THEN NULL ELSE now() + (random()*120 - 60) * interval '1 day' END AS d,
                         random() < 0.33 AS c, (random()*9)::int AS i1 WHERE g > 0) AS r`;
}

const f = (n: number, digits = 1) => n.toFixed(digits);

interface Scenario {
  /** BENCH_SCENARIOS names it so. */
  key: string;
  label: string;
  write: boolean;
  requests: (n: number) => CallRequest[];
}

async function measure(mode: string): Promise<string[]> {
  const parent = mkdtempSync(path.join(tmpdir(), "bench-gateway-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  // Durable like the app's own server (the test servers' defaults are not), with pg_stat_statements:
  // BENCH_STATEMENTS=1 lists each scenario's statements.
  const external =
    mode === "postgres"
      ? await startPostgres({
          settings: {
            fsync: "on",
            synchronous_commit: "on",
            full_page_writes: "on",
            shared_preload_libraries: "pg_stat_statements",
            "pg_stat_statements.track": "all",
            "pg_stat_statements.track_planning": "on",
            // The statements a call issued, with their parameters, for the ceiling (see captured()).
            logging_collector: "on",
            log_destination: "jsonlog",
            log_filename: "bench",
          },
        })
      : undefined;
  const lines: string[] = [];
  try {
    const app = await startApp(dataDir, { nodeArgs, env: { ...appNodeEnv(), ...(external ? { DATABASE_URL: external.url } : {}) }, root: appRoot });
    const pid = app.proc.pid!;
    const pgData = external?.dataDir ?? path.join(dataDir, POSTGRES_FOLDER);
    const postmaster = Number(readFileSync(path.join(pgData, "postmaster.pid"), "utf8").split("\n")[0]);
    const databaseUrl = external?.url ?? `postgres://taskmesh@localhost/taskmesh?host=${encodeURIComponent(pgData)}`;
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const usage = () => ({ node: rssOf(pid) / 2 ** 20, pg: memory(postmaster).pss });
      const before = usage();
      resetPeakRss(pid);
      let peakPg = before.pg;
      // PostgreSQL's PSS walks every backend's page tables: sampled seldom, so that measuring does
      // not take CPU from what is measured (the app's peak is the kernel's, see peakRss).
      const sampler = setInterval(() => {
        peakPg = Math.max(peakPg, memory(postmaster).pss);
      }, 2_000);

      const { accessToken, user } = await call<{ accessToken: string; user: { id: string } }>(app.url, "taskmesh.auth.v1.AuthService/SignUp", {
        email: "bench@example.com",
        password: "correct horse battery staple",
        timeZone: "Europe/Berlin",
      });
      const { secret: token } = await call<{ secret: string }>(app.url, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "bench" }, accessToken);

      // The user's Inbox, which the service makes on first use.
      await call(app.url, `${TASK_SERVICE}/CreateTask`, { title: "First" }, token);
      const t0 = Date.now();
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      await db.query(seedSql(TASKS), [user.id]);
      // What autovacuum would do a minute later, done before anything is timed.
      await db.query("VACUUM ANALYZE tasks.tasks");
      const small = Math.max(1, Math.floor(CALLS / 4));
      const open = (await db.query<{ id: string }>(`SELECT id FROM tasks.tasks WHERE user_id = $1 AND status = 1 LIMIT ${3 * (small + CALLS)}`, [user.id])).rows.map((r) => r.id);
      await db.end();
      // Updates of tasks.tasks and how many were HOT (no index entries, the new version on the same page).
      const stats = new pg.Client({ connectionString: databaseUrl });
      await stats.connect();
      const tupleUpdates = async () =>
        (await stats.query<{ upd: string; hot: string }>(`SELECT n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot FROM pg_stat_user_tables WHERE relid = 'tasks.tasks'::regclass`)).rows[0]!;
      let statements: pg.Client | undefined;
      if (external && process.env.BENCH_STATEMENTS) {
        statements = new pg.Client({ connectionString: databaseUrl });
        await statements.connect();
        await statements.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      }
      lines.push(`seeded ${TASKS} tasks of one user in ${f((Date.now() - t0) / 1000)} s (INSERT … SELECT generate_series, VACUUM ANALYZE)`);

      let pageToken = "";
      for (let p = 0; p < 20; p++) {
        pageToken = (await call<{ nextPageToken: string }>(app.url, `${TASK_SERVICE}/ListTasks`, { orderBy: "due", pageSize: 50, pageToken }, token)).nextPageToken;
      }
      // Updates, completes and deletes each take tasks of their own: the first ones for c=1, the next for c=16.
      const takes = (part: number) => {
        const ids = open.slice(part * (small + CALLS), (part + 1) * (small + CALLS));
        return (n: number) => ids.splice(0, n);
      };
      const [toUpdate, toComplete, toDelete] = [takes(0), takes(1), takes(2)];
      const fixed = (method: string, body: unknown) => (n: number) => Array.from({ length: n }, () => ({ method: `${TASK_SERVICE}/${method}`, body }));
      const scenarios: Scenario[] = [
        { key: "get", label: "GetTask", write: false, requests: fixed("GetTask", { id: open[0] }) },
        { key: "list-open", label: "ListTasks status:open, first page of 50 by due", write: false, requests: fixed("ListTasks", { query: "status:open", orderBy: "due", pageSize: 50 }) },
        { key: "list-deep", label: "ListTasks page 21 of 50 by due (keyset token)", write: false, requests: fixed("ListTasks", { orderBy: "due", pageSize: 50, pageToken }) },
        {
          key: "create",
          label: "CreateTask",
          write: true,
          requests: fixed("CreateTask", { title: "Harbor inspection notes", notes: "check the harbor crane", priority: "PRIORITY_HIGH", tags: ["work"], dueDate: "2027-01-15" }),
        },
        {
          key: "update",
          label: "UpdateTask (title)",
          write: true,
          requests: (n) => toUpdate(n).map((id, i) => ({ method: `${TASK_SERVICE}/UpdateTask`, body: { task: { id, title: `Renamed ${i}` }, updateMask: "title", expectedVersion: "1" } })),
        },
        {
          key: "complete",
          label: "CompleteTask",
          write: true,
          requests: (n) => toComplete(n).map((id) => ({ method: `${TASK_SERVICE}/CompleteTask`, body: { id } })),
        },
        {
          // A deletion also keeps the task and its comments for RestoreTask.
          key: "delete",
          label: "DeleteTask",
          write: true,
          requests: (n) => toDelete(n).map((id) => ({ method: `${TASK_SERVICE}/DeleteTask`, body: { id } })),
        },
      ];

      // Warm-up: connections, plans, JIT.
      await vegeta(app.url, token, scenarios[1]!.requests(300), 16);
      await settle(pid, postmaster);

      // The ceiling of each read: the statements one call issued, captured at the server, run
      // straight through pg at the same concurrency.
      const raw = new Map<string, Captured[]>();
      if (external && process.env.BENCH_CEILING) {
        for (const scenario of scenarios.filter((sc) => !sc.write && (!only.length || only.includes(sc.key)))) {
          const [request] = scenario.requests(1);
          raw.set(scenario.key, await captured(external.dataDir, databaseUrl, () => call(app.url, request!.method, request!.body, token)));
          process.stderr.write(
            `  ${scenario.key} issues: ${raw
              .get(scenario.key)!
              .map((st) => st.sql.replace(/\s+/g, " ").slice(0, 90))
              .join(" | ")}\n`,
          );
        }
      }
      const ceilingHeader = raw.size ? " its statements through pg (share) |" : "";
      lines.push(
        "",
        `| call (${mode === "postgres" ? "app on an external PostgreSQL" : "npm start's app, its own PostgreSQL"}, ${TASKS} tasks) | callers | calls/s | p50 ms | p99 ms | app CPU s / 1,000 calls | PostgreSQL CPU s / 1,000 calls |${ceilingHeader}`,
        `|---|---|---|---|---|---|---|${raw.size ? "---|" : ""}`,
      );
      for (const scenario of scenarios) {
        if (only.length && !only.includes(scenario.key)) continue;
        for (const c of [1, 16]) {
          const n = c === 1 ? small : CALLS;
          const requests = scenario.requests(n);
          if (statements) await statements.query("SELECT pg_stat_statements_reset()");
          const updates0 = scenario.write ? await tupleUpdates() : undefined;
          const node0 = ownCpuSeconds(pid);
          const pg0 = cpuSeconds(postmaster);
          // CLOCK_MONOTONIC in µs, the clock of a --cpu-prof profile's timestamps.
          const from = process.hrtime.bigint() / 1000n;
          const r: Stats = await vegeta(app.url, token, requests, c);
          process.stderr.write(`  ${scenario.key} c=${c}: profile window ${from}-${process.hrtime.bigint() / 1000n}\n`);
          const node = (ownCpuSeconds(pid) - node0) / n;
          const pgCpu = (cpuSeconds(postmaster) - pg0) / n;
          let cpu = `${f(node * 1000, 2)}`;
          let pgText = `${f(pgCpu * 1000, 2)}`;
          if (scenario.write) {
            const bg = await settle(pid, postmaster);
            cpu += ` + ${f((bg.node * 1000) / n, 2)} background`;
            pgText += ` + ${f((bg.pg * 1000) / n, 2)} background`;
            // An idle backend reports its table counters up to 10 s after its last transaction.
            await new Promise((resolve) => setTimeout(resolve, 11_000));
            const updates1 = await tupleUpdates();
            const upd = Number(updates1.upd) - Number(updates0!.upd);
            if (upd > 0) pgText += `; ${upd} task rows updated, ${f((100 * (Number(updates1.hot) - Number(updates0!.hot))) / upd, 0)} % HOT`;
          }
          if (statements) {
            const top = await statements.query<{ calls: string; ms: number; plan: number; query: string }>(
              `SELECT calls::text, total_exec_time + total_plan_time AS ms, total_plan_time AS plan, regexp_replace(query, '\\s+', ' ', 'g') AS query
                 FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`,
              [TOP_STATEMENTS],
            );
            const [all] = (await statements.query<{ calls: string }>("SELECT sum(calls)::text AS calls FROM pg_stat_statements")).rows;
            process.stderr.write(
              `  statements of ${scenario.key} c=${c}: ${f(Number(all?.calls ?? 0) / n, 1)} per call, BEGIN and COMMIT included; the top ${TOP_STATEMENTS} (ms per call of the scenario, of which planning, calls):\n`,
            );
            for (const t of top.rows) process.stderr.write(`    ${f(t.ms / n, 3).padStart(7)} ${f(t.plan / n, 3).padStart(7)}  ${t.calls.padStart(6)}  ${t.query.slice(0, 160)}\n`);
          }
          let ceiling = "";
          if (raw.has(scenario.key)) {
            const sql = await rawLoad(databaseUrl, raw.get(scenario.key)!, n, c);
            ceiling = ` ${f(sql.perSecond, 0)}/s, p50 ${f(sql.p50, 2)} ms (${f((100 * r.perSecond) / sql.perSecond, 0)} %) |`;
          }
          lines.push(`| ${scenario.label} | ${c} | ${f(r.perSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${cpu} | ${pgText} |${ceiling}${r.errors ? ` ${r.errors} errors` : ""}`);
          process.stderr.write(`${lines[lines.length - 1]}\n`);
        }
      }
      clearInterval(sampler);
      await stats.end();
      await statements?.end();
      const after = usage();
      const peak = { node: peakRss(pid), pg: Math.max(peakPg, after.pg) };
      lines.push(
        "",
        `memory (MiB): app node RSS ${f(before.node, 0)} before, ${f(after.node, 0)} after, ${f(peak.node, 0)} peak; PostgreSQL PSS ${f(before.pg, 0)} / ${f(after.pg, 0)} / ${f(peak.pg, 0)}`,
      );
    } finally {
      await app.proc.stop();
    }
  } finally {
    await external?.stop();
    rmSync(parent, { recursive: true, force: true });
  }
  return lines;
}

interface Captured {
  sql: string;
  params: (string | null)[];
}

/**
 * The statements the app's sessions executed while `act` ran, from the server's JSON log with
 * log_statement = 'all' switched on around it, with their parameters (as text, which PostgreSQL
 * casts as it did for the app). Background work of those moments (relay and consumer polls) is
 * left out by what it reads: a read call touches auth.* and tasks.tasks only.
 */
async function captured(pgData: string, url: string, act: () => Promise<unknown>): Promise<Captured[]> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const logDir = path.join(pgData, "log");
  const file = () => path.join(logDir, readdirSync(logDir).find((name) => name.endsWith(".json"))!);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
  try {
    const { rows } = await admin.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await admin.query("ALTER SYSTEM SET log_statement = 'all'");
    await admin.query("SELECT pg_reload_conf()");
    await pause();
    const from = statSync(file()).size;
    await act();
    await pause();
    await admin.query("ALTER SYSTEM RESET log_statement");
    await admin.query("SELECT pg_reload_conf()");
    const text = readFileSync(file()).subarray(from).toString("utf8");
    const out: Captured[] = [];
    for (const line of text.split("\n").filter(Boolean)) {
      const record = JSON.parse(line) as { pid: number; message?: string; detail?: string };
      const sql = /^execute [^:]*: ([\s\S]*)$/.exec(record.message ?? "")?.[1];
      if (!sql || record.pid === rows[0]!.pid || !/\b(auth\.|tasks\.tasks\b)/.test(sql)) continue;
      const params: (string | null)[] = [];
      for (const m of (record.detail ?? "").matchAll(/\$(\d+) = (NULL|'((?:[^']|'')*)')/g)) params[Number(m[1]) - 1] = m[2] === "NULL" ? null : m[3]!.replaceAll("''", "'");
      out.push({ sql, params });
    }
    return out;
  } finally {
    await admin.end();
  }
}

/**
 * `n` runs of the statements on a pool of `c` sessions, each run on one session, in order; those the
 * app prepares prepared the same way (@taskmesh/db).
 */
async function rawLoad(url: string, statements: Captured[], n: number, c: number): Promise<Stats> {
  const pool = new pg.Pool({ connectionString: url, max: c });
  pool.on("connect", (client) => prepareRepeatedStatements(client, DEFAULT_PREPARE_THRESHOLD));
  try {
    const run = async () => {
      const client = await pool.connect();
      try {
        for (const st of statements) await client.query(st.sql, st.params);
      } finally {
        client.release();
      }
    };
    await load(c * 4, c, run); // sessions opened, plans warm
    return await load(n, c, run);
  } finally {
    await pool.end();
  }
}

/** Waits until the app and PostgreSQL are idle; the CPU seconds each used meanwhile. */
async function settle(pid: number, postmaster: number): Promise<{ node: number; pg: number }> {
  const node0 = ownCpuSeconds(pid);
  const pg0 = cpuSeconds(postmaster);
  const started = Date.now();
  for (let last = node0 + pg0; Date.now() - started < 300_000; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = ownCpuSeconds(pid) + cpuSeconds(postmaster);
    if (now - last <= 0.02) break;
    last = now;
  }
  return { node: ownCpuSeconds(pid) - node0, pg: cpuSeconds(postmaster) - pg0 };
}

for (const mode of modes) {
  if (mode !== "embedded" && mode !== "postgres") throw new Error(`unknown mode "${mode}": embedded or postgres`);
  process.stderr.write(`\n▶ gateway, ${mode}${appRoot ? ` (the app of ${appRoot})` : ""}: ${TASKS} tasks of one user, ${CALLS} calls at c=16…\n`);
  const lines = await measure(mode);
  console.log(`\n${lines.join("\n")}`);
}
