// Issue 2 benchmark: CreateTask and ListTasks over real HTTP/2 (gRPC) against a task service
// process on PostgreSQL, with 100,000 tasks for one user and 1,000 users × 100.
//   npm run bench -- tasks
//   npm run bench -- tasks tracing   the same service with tracing off, at 1 % and at 100 %
//                                    (spans exported to a real Jaeger), interleaved rounds, ratios
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { openDatabase } from "@taskmesh/db";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { migrations } from "../services/tasks/src/migrations/index.js";
import { run } from "@taskmesh/infra/cache";
import { ensureGoTool } from "@taskmesh/infra/go-tools";
import { startJaeger } from "@taskmesh/infra/jaeger";
import { benchDatabase, load, mb, ownCpuSeconds, row, rssOf, SEED_WORDS, startServiceProcess, type ServiceProcess, type Stats } from "./lib.js";

const BIG_USER = "bench-big";
// Throughput is measured at saturation (16 callers); latency under light load (2 callers), where
// queueing behind the other callers on two shared cores does not dominate what is measured.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const LATENCY_CONCURRENCY = Number(process.env.BENCH_LATENCY_CONCURRENCY ?? 2);

async function seed(url: string): Promise<void> {
  const t0 = Date.now();
  const db = await openDatabase({ url, schema: "tasks", entities: [], migrations });
  const em = db.em();
  // Realistic-looking rows generated in SQL: a word vocabulary for search, a tag set, priorities,
  // dues spread over ±60 days (a quarter without), a third completed.
  const insert = (userExpr: string, count: number) => `
    ${SEED_WORDS}
    INSERT INTO tasks.tasks (id, user_id, title, notes, status, priority, tags, due_at, due_time, time_zone, created_at, updated_at, completed_at)
    SELECT gen_random_uuid(), ${userExpr},
           initcap(w[1 + (random()*33)::int] || ' ' || w[1 + (random()*33)::int] || ' ' || w[1 + (random()*33)::int]),
           w[1 + (random()*33)::int] || ' ' || w[1 + (random()*33)::int] || ' notes ' || g,
           CASE WHEN random() < 0.33 THEN 2 ELSE 1 END,
           1 + (random()*3)::int,
           ARRAY[t[1 + (random()*9)::int]] || CASE WHEN random() < 0.4 THEN ARRAY[t[1 + (random()*9)::int]] ELSE '{}' END,
           d, d, 'UTC', now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, NULL
    FROM words, generate_series(1, ${count}) AS g,
         -- Correlated with g (WHERE g > 0): an uncorrelated LATERAL runs once, giving every row one due.
         LATERAL (SELECT CASE WHEN random() < 0.25 THEN NULL ELSE now() + (random()*120 - 60) * interval '1 day' END AS d WHERE g > 0) AS due`;
  await db.query(em, insert(`'${BIG_USER}'`, 100_000));
  await db.query(em, insert(`'bench-user-' || (g % 1000)`, 100_000));
  await db.query(em, "ANALYZE tasks.tasks");
  await db.close();
  console.log(`seeded 200,000 tasks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** The task service on `url`'s database, as its own process. */
function startService(url: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startServiceProcess("tasks", "services/tasks/src/main.ts", { DATABASE_URL: url, ...env });
}

/**
 * CreateTask driven by ghz, a gRPC load generator written in Go: the Node client above spends about
 * half a core of the two the service and PostgreSQL need; this one far less. Same request, users
 * drawn at random among the 1,000.
 */
async function createWithGhz(baseUrl: string, total: number, concurrency: number, rps?: number): Promise<Stats> {
  const ghz = await ensureGoTool("ghz");
  // The JSON report lists every call: to a file, not through the output buffer.
  const file = path.join(mkdtempSync(path.join(tmpdir(), "bench-ghz-")), "report.json");
  // biome-ignore format: each flag on one line with its value
  await run(ghz, [
    "--insecure", "--format", "json", "--output", file, "--connections", "1", "-c", String(concurrency), "-n", String(total), ...(rps ? ["--rps", String(rps)] : []),
    "--call", "taskmesh.tasks.v1.TaskService/CreateTask",
    "-d", '{"title":"Ghz task {{.RequestNumber}}","notes":"created by the benchmark","priority":"PRIORITY_MEDIUM","tags":["bench","work"]}',
    "--metadata", '{"x-user-id":"bench-user-{{randomInt 0 1000}}"}',
    new URL(baseUrl).host,
  ]);
  const report = JSON.parse(readFileSync(file, "utf8")) as {
    count: number;
    total: number;
    rps: number;
    slowest: number;
    latencyDistribution: { percentage: number; latency: number }[] | null;
    statusCodeDistribution: Record<string, number>;
  };
  const ms = (ns: number) => ns / 1e6;
  const at = (pct: number) => ms(report.latencyDistribution?.find((d) => d.percentage === pct)?.latency ?? NaN);
  const ok = report.statusCodeDistribution.OK ?? 0;
  rmSync(path.dirname(file), { recursive: true, force: true });
  return { count: report.count, seconds: report.total / 1e9, perSecond: report.rps, p50: at(50), p99: at(99), max: ms(report.slowest), errors: report.count - ok };
}

async function bench(): Promise<void> {
  console.log(`\n## postgres  (gRPC over h2c, separate server process; "load": ${CONCURRENCY} callers, "light": ${LATENCY_CONCURRENCY})`);
  const { url, cleanup } = await benchDatabase();
  try {
    await seed(url);
    const { proc, url: baseUrl } = await startService(url);
    try {
      const client = createClient(TaskService, createGrpcTransport({ baseUrl }));
      const as = (user: string) => ({ headers: { "x-user-id": user } });
      const big = as(BIG_USER);

      // Warm up connections and plans.
      await load(200, CONCURRENCY, () => client.listTasks({ query: "tag:home" }, big));

      const create = await load(10_000, CONCURRENCY, (i) =>
        client.createTask({ title: `Bench task ${i}`, notes: "created by the benchmark", priority: Priority.MEDIUM, tags: ["bench", "work"] }, as(`bench-user-${i % 1000}`)),
      );
      console.log(row("CreateTask (1,000 users), load", create));
      const createLight = await load(1_000, LATENCY_CONCURRENCY, (i) => client.createTask({ title: `Light task ${i}`, priority: Priority.LOW, tags: ["bench"] }, as(`bench-user-${i % 1000}`)));
      console.log(row("CreateTask (1,000 users), light", createLight));
      const createOne = await load(2_000, CONCURRENCY, (i) => client.createTask({ title: `Same user ${i}`, tags: ["bench"] }, as("bench-one")));
      console.log(row("CreateTask (one user, serialised per user)", createOne));
      for (const callers of [CONCURRENCY, 64]) {
        console.log(row(`CreateTask (1,000 users), Go client, ${callers} callers`, await createWithGhz(baseUrl, 10_000, callers)));
      }

      const queries: [string, string, string][] = [
        ["text search: groceries", "groceries", "due"],
        ["partial word: groc", "groc", "due"],
        ["tag + priority + due, by due", "tag:home priority>=medium due:next-7-days", "due"],
        ["open, by priority", "status:open", "priority"],
        ["everything, by due", "", "due"],
        ["overdue OR today, by updated", "(due:overdue OR due:today) AND NOT tag:work", "updated"],
        ["title search, by title", "passport renew", "title"],
      ];
      for (const [label, query, orderBy] of queries) {
        const call = () => client.listTasks({ query, orderBy, pageSize: 50 }, big);
        console.log(row(`ListTasks 100k: ${label}, load`, await load(2_000, CONCURRENCY, call)));
        console.log(row(`ListTasks 100k: ${label}, light`, await load(2_000, LATENCY_CONCURRENCY, call)));
      }
      // Deep keyset paging: page 20 costs the same as page 1.
      let token = "";
      for (let p = 0; p < 20; p++) token = (await client.listTasks({ orderBy: "due", pageSize: 50, pageToken: token }, big)).nextPageToken;
      const deep = await load(2_000, CONCURRENCY, () => client.listTasks({ orderBy: "due", pageSize: 50, pageToken: token }, big));
      console.log(row("ListTasks 100k: page 21 via keyset token", deep));
      const small = await load(2_000, CONCURRENCY, (i) => client.listTasks({ query: "tag:home", orderBy: "due" }, as(`bench-user-${i % 1000}`)));
      console.log(row("ListTasks 1,000 users × 100: tag filter", small));
      console.log(`server RSS after run: ${mb(rssOf(proc.pid))}`);
    } finally {
      await proc.stop();
    }
  } finally {
    await cleanup();
  }
}

/**
 * Tracing's cost: per round, the service is started with each setting in turn and driven with the
 * same load: CreateTask from ghz at 16 callers (throughput at saturation), then at a fixed rate
 * (the service's CPU per call: at saturation it moves with the throughput, since concurrent creates
 * share transactions), and ListTasks (a tag filter over the 100,000 tasks, 16 callers). The rounds
 * interleave the settings, each round starting with the next one, so that the shared machine's
 * drift hits them alike. Prints each round, then per setting the medians and their ratios to
 * tracing off.
 */
async function tracingOverhead(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const creates = Number(process.env.BENCH_CALLS ?? 5_000);
  const rate = Number(process.env.BENCH_RATE ?? 100);
  console.log(
    `\n## tracing overhead  (task service on PostgreSQL; ${rounds} interleaved rounds; CreateTask: ghz, ${CONCURRENCY} callers, ${creates} calls, then ${creates} at ${rate}/s; ListTasks tag:home: ${CONCURRENCY} callers, ${creates / 5} calls)`,
  );
  const jaeger = await startJaeger();
  const { url, cleanup } = await benchDatabase();
  const settings: [string, NodeJS.ProcessEnv][] = [
    ["off", {}],
    ["1 %", { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" }],
    ["100 %", { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, OTEL_TRACES_SAMPLER: "parentbased_always_on" }],
  ];
  type Figures = { create: number[]; createCpu: number[]; list: number[]; listCpu: number[] };
  const results = new Map<string, Figures>(settings.map(([name]) => [name, { create: [], createCpu: [], list: [], listCpu: [] }]));
  try {
    await seed(url);
    for (let round = 1; round <= rounds; round++) {
      const order = settings.map((_, i) => settings[(i + round - 1) % settings.length]!);
      for (const [name, env] of order) {
        const { proc, url: baseUrl } = await startService(url, { OTEL_SERVICE_NAME: "tasks-bench", ...env });
        try {
          const client = createClient(TaskService, createGrpcTransport({ baseUrl }));
          const big = { headers: { "x-user-id": BIG_USER } };
          await load(200, CONCURRENCY, () => client.listTasks({ query: "tag:home" }, big));
          const withCpu = async (run: () => Promise<Stats>) => {
            const before = ownCpuSeconds(proc.pid);
            const stats = await run();
            return { stats, cpu: ((ownCpuSeconds(proc.pid) - before) * 1000) / stats.count };
          };
          const saturated = await createWithGhz(baseUrl, creates, CONCURRENCY);
          const paced = await withCpu(() => createWithGhz(baseUrl, creates, CONCURRENCY, rate));
          const list = await withCpu(() => load(creates / 5, CONCURRENCY, () => client.listTasks({ query: "tag:home", orderBy: "due", pageSize: 50 }, big)));
          console.log(row(`round ${round}, tracing ${name}: CreateTask`, saturated));
          console.log(`${row(`round ${round}, tracing ${name}: CreateTask at ${rate}/s`, paced.stats)}  CPU ${paced.cpu.toFixed(2)} ms/call`);
          console.log(`${row(`round ${round}, tracing ${name}: ListTasks tag:home`, list.stats)}  CPU ${list.cpu.toFixed(2)} ms/call`);
          const r = results.get(name)!;
          r.create.push(saturated.perSecond);
          r.createCpu.push(paced.cpu);
          r.list.push(list.stats.perSecond);
          r.listCpu.push(list.cpu);
        } finally {
          await proc.stop();
        }
      }
    }
  } finally {
    await cleanup();
    await jaeger.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const off = results.get("off")!;
  const ratio = (x: number[], base: number[]) => (median(x) / median(base)).toFixed(3);
  console.log(`\nmedians (ratio to tracing off): CreateTask calls/s at saturation and CPU per call at ${rate}/s, ListTasks calls/s and CPU per call`);
  for (const [name, r] of results) {
    console.log(
      `  tracing ${name.padEnd(5)}  CreateTask ${median(r.create).toFixed(0).padStart(5)}/s (${ratio(r.create, off.create)}), ${median(r.createCpu).toFixed(2)} ms CPU (${ratio(r.createCpu, off.createCpu)})` +
        `   ListTasks ${median(r.list).toFixed(0).padStart(5)}/s (${ratio(r.list, off.list)}), ${median(r.listCpu).toFixed(2)} ms CPU (${ratio(r.listCpu, off.listCpu)})`,
    );
  }
}

if (process.argv[2] === "tracing") await tracingOverhead();
else await bench();
