// `npm run bench -- shared-projects`: ListTasks and live fan-out in a shared project. One owner's
// project of BENCH_TASKS (100,000) tasks shared with 20 members (each with 1,000 tasks of their own),
// beside the owner's Inbox of the same size: the task service's handler in this process (Connect's
// router transport) on PostgreSQL as the tests run it.
//
// Lists (a page of 50 by due, BENCH_CALLS one after another): `status:open` and
// `project:shared status:open` as the owner (their own partition, as before projects) and as a member
// (their own tasks OR the shared project's), next to a single user's `status:open` of the same size.
// Fan-out: BENCH_WRITES updates by the owner, each timed from the call until all 20 members'
// WatchTasks streams have it (and until the owner's own stream has it, as a single user's live sync).
import { performance } from "node:perf_hooks";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import pg from "pg";
import { startTasksModule } from "../services/tasks/src/index.js";
import { benchDatabase, row, summarize } from "./lib.js";

const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const WRITES = Number(process.env.BENCH_WRITES ?? 100);
const MEMBERS = 20;
const as = (user: string) => ({ headers: { "x-user-id": user, "x-user-email": `${user}@example.com`, "x-time-zone": "UTC" } });

const db = await benchDatabase();
const module = await startTasksModule({ databaseUrl: db.url });
const transport = createRouterTransport(module.routes);
const tasks = createClient(TaskService, transport);
const projects = createClient(ProjectService, transport);
try {
  const owner = "owner";
  const members = Array.from({ length: MEMBERS }, (_, i) => `member-${i}`);
  const shared = (await projects.createProject({ name: "Shared" }, as(owner))).project!;
  for (const m of members) {
    const { invitation } = await projects.inviteMember({ projectId: shared.id, email: `${m}@example.com`, role: ProjectRole.EDITOR }, as(owner));
    await projects.acceptInvitation({ id: invitation!.id }, as(m));
  }
  const single = "single";
  const inbox = async (user: string) => (await projects.listProjects({}, as(user))).projects.find((p) => p.inbox)!.id;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const t0 = performance.now();
  const seed = (user: string, project: string, count: number) =>
    client.query(
      `INSERT INTO tasks.tasks (id, user_id, project_id, title, status, priority, due_at, due_time, time_zone, created_at, updated_at)
       SELECT gen_random_uuid(), $1, $2, 'task ' || g, CASE WHEN random() < 0.33 THEN 2 ELSE 1 END, 1 + floor(random()*4)::int, d, d, 'UTC', now(), now()
         FROM generate_series(1, $3::int) AS g,
              LATERAL (SELECT CASE WHEN random() < 0.25 THEN NULL ELSE now() + (random()*120 - 60) * interval '1 day' END AS d WHERE g > 0) AS r`,
      [user, project, count],
    );
  await seed(owner, shared.id, TASKS);
  await seed(owner, await inbox(owner), TASKS);
  await seed(single, await inbox(single), TASKS);
  for (const m of members) await seed(m, await inbox(m), 1_000);
  await client.query("VACUUM (ANALYZE) tasks.tasks");
  console.log(`seeded ${(3 * TASKS + MEMBERS * 1_000).toLocaleString("en")} tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const list = async (label: string, user: string, query: string, expected = 50) => {
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      const { tasks: page } = await tasks.listTasks({ query, pageSize: 50 }, as(user));
      if (page.length !== expected) throw new Error(`${label}: ${page.length} tasks`);
      latencies.push(performance.now() - t);
    }
    console.log(row(label, summarize(latencies, (performance.now() - started) / 1000)));
  };
  console.log(`\nListTasks, a page of 50 by due, ${CALLS} calls one after another`);
  await list("single user, status:open", single, "status:open");
  await list("owner, status:open", owner, "status:open");
  await list("owner, project:shared status:open", owner, "project:shared status:open");
  await list("member, status:open", members[0]!, "status:open");
  await list("member, project:shared status:open", members[0]!, "project:shared status:open");
  await list("member, a word every task has: task", members[0]!, "task");
  await list("member, a word no task has: zebra", members[0]!, "zebra", 0);
  await list("owner, a word no task has: zebra", owner, "zebra", 0);

  // Fan-out: every member and the owner watch; the owner changes one task at a time.
  const {
    tasks: [target],
  } = await tasks.listTasks({ query: "project:shared", pageSize: 1 }, as(owner));
  const abort = new AbortController();
  const arrivals = new Map<string, Map<string, number>>();
  const waiters = new Set<() => void>();
  const watch = async (user: string) => {
    for await (const m of tasks.watchTasks({}, { ...as(user), signal: abort.signal })) {
      if (m.change.case !== "upserted") continue;
      const title = m.change.value.title;
      const seen = arrivals.get(title) ?? new Map<string, number>();
      seen.set(user, performance.now());
      arrivals.set(title, seen);
      for (const w of waiters) w();
    }
  };
  const streams = [owner, ...members].map((u) => watch(u).catch(() => undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const toAll: number[] = [];
  const toOwner: number[] = [];
  let version = target!.version;
  const started = performance.now();
  for (let i = 0; i < WRITES; i++) {
    const title = `change ${i}`;
    const t = performance.now();
    const { task } = await tasks.updateTask({ task: { id: target!.id, title }, updateMask: { paths: ["title"] }, expectedVersion: version }, as(owner));
    version = task!.version;
    while ((arrivals.get(title)?.size ?? 0) < MEMBERS + 1) await new Promise<void>((resolve) => waiters.add(resolve)).finally(() => waiters.clear());
    const seen = arrivals.get(title)!;
    toOwner.push(seen.get(owner)! - t);
    toAll.push(Math.max(...seen.values()) - t);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nA change by the owner until it is on the WatchTasks streams, ${WRITES} changes`);
  console.log(row("the owner's own stream", summarize(toOwner, seconds)));
  console.log(row(`all ${MEMBERS} members' and the owner's streams`, summarize(toAll, seconds)));
  abort.abort();
  await Promise.all(streams);
  await client.end();
} finally {
  await module.stop();
  await db.cleanup();
}
