// Zero-downtime rollout, measured with the real processes: two task-service replicas and two
// gateway replicas (each started from its main.ts, as its image runs it) on PostgreSQL and Kafka,
// each behind a Service-like balancer, under a steady load of writes, reads and live WebSocket
// devices, while every replica is rolled the way the chart's Deployments roll (maxSurge 1,
// maxUnavailable 0: start a new one, wait until ready, take the old one out of the endpoints,
// preStop, SIGTERM, drain, exit). Prints the figures, then exits 1 if a request failed, a write or
// an event was lost or duplicated, a replica did not drain by itself, or a live device did not
// resume from its cursor.
//
//   npm run bench -- zero-downtime
//
// PostgreSQL, Kafka (KRaft) and Apicurio are started here. `npm test` runs it too
// (deploy/test/zero-downtime.test.ts): about a minute.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { connectKafkaBus, confluentSchemaRegistry, ensureKafkaTopics, registerSchemas, type Subscription } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { POSTGRES_ENV, freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { startStack, type Stack } from "@taskmesh/infra/stack";
import { startServiceProcess, type ServiceProcess } from "./lib.js";
import { LiveDevice } from "./live-frames.js";

const root = path.resolve(import.meta.dirname, "..");
process.env.LOG_LEVEL ??= "error";

interface Replica extends ServiceProcess {
  name: string;
}

async function startReplica(name: string, entry: string, env: Record<string, string>): Promise<Replica> {
  return { name, ...(await startServiceProcess(name, entry, env, 30_000)) };
}

/** SIGTERM and wait: the replica drains and must exit by itself with code 0. */
async function terminate(replica: Replica): Promise<string> {
  await replica.proc.stop({ signal: "SIGTERM", timeoutMs: 30_000 });
  return replica.proc.exitDescription();
}

/**
 * A Service: each new connection goes to the next endpoint in turn; established connections stay
 * where they are (conntrack). Endpoints are added once ready and removed when their pod starts
 * terminating, as the endpoints controller does.
 */
class Balancer {
  readonly #server = net.createServer((client) => this.#route(client));
  readonly #endpoints: number[] = [];
  readonly #open = new Set<net.Socket>();
  #next = 0;
  port = 0;

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  add(port: number): void {
    this.#endpoints.push(port);
  }

  remove(port: number): void {
    this.#endpoints.splice(this.#endpoints.indexOf(port), 1);
  }

  #route(client: net.Socket): void {
    const port = this.#endpoints[this.#next++ % this.#endpoints.length];
    if (port === undefined) return void client.destroy();
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.#open.add(s);
      s.setNoDelay(true);
      s.once("close", () => this.#open.delete(s));
    }
    // half-closes pass through; a reset or an error on one side resets the other
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.resetAndDestroy());
    upstream.on("error", () => client.resetAndDestroy());
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const WORKERS = 6;
const USERS = 3;
const PRE_STOP_MS = 300;
const DRAIN_DELAY_MS = "500";

let database: FreshDatabase | undefined;
let brokers = "";
let registryUrl = "";
const tasksService = new Balancer();
const gatewayService = new Balancer();
const replicas = { tasks: [] as Replica[], gateway: [] as Replica[] };
let env: Record<string, Record<string, string>>;

async function setUp(): Promise<void> {
  database = await freshDatabase();
  await ensureKafkaTopics({ brokers: brokers.split(",") });
  await tasksService.listen();
  await gatewayService.listen();
  const common = { DATABASE_URL: database.url, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, DRAIN_DELAY_MS };
  env = {
    tasks: common,
    gateway: { ...common, TASKS_URL: `http://127.0.0.1:${tasksService.port}`, TASKMESH_JWT_SECRET: randomUUID() + randomUUID() },
  };
  // as the chart's hook does before the pods start: migrations and schema registration, once
  const prepare = spawnSync(process.execPath, ["--import=tsx", "deploy/src/prepare.ts"], { cwd: root, env: { ...process.env, ...common }, encoding: "utf8" });
  if (prepare.status !== 0) throw new Error(`prepare failed: ${prepare.stdout}${prepare.stderr}`);
  // the task service first: the gateway's live sync reads its change feed
  for (const name of ["tasks", "gateway"] as const) await Promise.all([1, 2].map((i) => scaleUp(name, `${name}-${i}`)));
}

async function tearDown(): Promise<void> {
  await Promise.allSettled([...replicas.gateway, ...replicas.tasks].map((r) => r.proc.stop()));
  await Promise.allSettled([tasksService.close(), gatewayService.close()]);
  await database?.drop();
}

const ENTRY = { tasks: "services/tasks/src/main.ts", gateway: "gateway/src/main.ts" };
const service = { tasks: tasksService, gateway: gatewayService };

async function scaleUp(name: "tasks" | "gateway", replicaName: string): Promise<void> {
  // GATEWAY_REPLICA_ID: the pod name in the cluster (the gateway's default, its hostname, is the same for every process here)
  const replica = await startReplica(replicaName, ENTRY[name], { ...env[name]!, GATEWAY_REPLICA_ID: replicaName });
  replicas[name].push(replica);
  service[name].add(replica.port);
}

/** One step of a rolling update: surge a new replica, then retire the oldest. */
async function roll(name: "tasks" | "gateway", generation: number): Promise<string> {
  await scaleUp(name, `${name}-${generation}`);
  const old = replicas[name].shift()!;
  service[name].remove(old.port);
  await new Promise((r) => setTimeout(r, PRE_STOP_MS)); // preStop: callers stop picking it
  return terminate(old);
}

interface Outcome {
  ok: boolean;
  phase?: string;
  ms: number;
  error?: string;
}

// HTTP/1.1 cannot announce a shutdown: a server closes an idle keep-alive connection, and a request
// the client sent on it at that instant fails before any response. Browsers resend such a request
// once (the server never read it); so does this client, and counts it. Writes carry a request id, so
// even a resent write that had been processed would create nothing twice, which the checks verify.
const CLOSED_BEFORE_RESPONSE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);
let resent = 0;

async function rpc<T>(method: string, body: unknown, token: string, attempt = 1): Promise<{ outcome: Outcome; value?: T }> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${gatewayService.port}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (attempt === 1 && CLOSED_BEFORE_RESPONSE.has(cause?.code ?? "")) {
      resent++;
      const again = await rpc<T>(method, body, token, 2);
      return { ...again, outcome: { ...again.outcome, ms: performance.now() - t0 } };
    }
    return { outcome: { ok: false, ms: performance.now() - t0, error: `${method}: ${(err as Error).message} ${cause?.code ?? cause?.message ?? ""}` } };
  }
  try {
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) return { outcome: { ok: false, ms, error: `${method} HTTP ${res.status}: ${text.slice(0, 200)}` } };
    return { outcome: { ok: true, ms }, value: JSON.parse(text) as T };
  } catch (err) {
    return { outcome: { ok: false, ms: performance.now() - t0, error: `${method}: response cut: ${(err as Error).message}` } };
  }
}

async function run(): Promise<void> {
  const users: { token: string; id: string; live: LiveDevice; created: Set<string> }[] = [];
  for (let i = 0; i < USERS; i++) {
    const { outcome, value } = await rpc<{ accessToken: string; user: { id: string } }>(
      "taskmesh.auth.v1.AuthService/SignUp",
      { email: `zd-${randomUUID()}@example.com`, password: randomUUID(), timeZone: "UTC" },
      "",
    );
    assert.ok(outcome.ok && value, outcome.error);
    users.push({ token: value.accessToken, id: value.user.id, live: new LiveDevice(`ws://127.0.0.1:${gatewayService.port}/live`, value.accessToken, 100), created: new Set<string>() });
  }
  for (const u of users) await u.live.start();

  // every task-events record of this test's tasks, read from Kafka by a group of its own
  const logger = createLogger("zero-downtime-test");
  const bus = await connectKafkaBus({ brokers: brokers.split(","), schemaIds: await registerSchemas({ registry: confluentSchemaRegistry(registryUrl) }), logger });
  const createdEvents = new Map<string, string[]>();
  const subscription: Subscription = await bus.subscribe({
    group: `zero-downtime-${randomUUID()}`,
    topics: ["task-events"],
    handler: async (event) => {
      if (isMessage(event.value, TaskEventSchema) && event.value.event.case === "created") {
        createdEvents.set(event.value.taskId, [...(createdEvents.get(event.value.taskId) ?? []), event.eventId]);
      }
    },
  });

  const outcomes: Outcome[] = [];
  const failures: string[] = [];
  let writes = 0;
  let reads = 0;
  let running = true;
  let phase = "steady";
  const record = (o: Outcome) => {
    outcomes.push({ ...o, phase });
    if (!o.ok && o.error && !failures.includes(o.error)) failures.push(o.error);
  };
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    const user = users[w % USERS]!;
    while (running) {
      const create = await rpc<{ task: { id: string } }>("taskmesh.tasks.v1.TaskService/CreateTask", { title: `load ${w}`, requestId: randomUUID() }, user.token);
      record(create.outcome);
      writes++;
      if (create.value) user.created.add(create.value.task.id);
      const list = await rpc("taskmesh.tasks.v1.TaskService/ListTasks", { query: "", pageSize: 20 }, user.token);
      record(list.outcome);
      reads++;
      if (create.value) {
        const get = await rpc("taskmesh.tasks.v1.TaskService/GetTask", { id: create.value.task.id }, user.token);
        record(get.outcome);
        reads++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  const t0 = Date.now();
  const exits: string[] = [];
  await new Promise((r) => setTimeout(r, 2_000)); // steady state before the first roll
  let generation = 3;
  for (const name of ["tasks", "gateway"] as const) {
    phase = `${name} roll`;
    for (let i = 0; i < 2; i++) exits.push(`${name}: ${await roll(name, generation++)}`);
  }
  phase = "after";
  await new Promise((r) => setTimeout(r, 2_000)); // load on the new replicas only
  running = false;
  await Promise.all(workers);
  const rolloutSeconds = (Date.now() - t0) / 1000;

  // live devices catch up on everything they missed while moving between replicas
  const allSeen = () => users.every((u) => [...u.created].every((id) => u.live.seen.has(id)));
  for (let waited = 0; !allSeen() && waited < 30_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
  const totalCreated = users.reduce((n, u) => n + u.created.size, 0);
  for (let waited = 0; createdEvents.size < totalCreated && waited < 30_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
  for (const u of users) u.live.stop();
  await subscription.stop();
  await bus.close();

  const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  const failed = outcomes.filter((o) => !o.ok).length;
  const reconnects = users.reduce((n, u) => n + u.live.connects - 1, 0);
  const stored = await rpcCount(users);
  console.log(
    [
      `zero-downtime rollout: 4 replicas rolled (2 tasks, 2 gateway) in ${rolloutSeconds.toFixed(1)}s under load`,
      `  requests ${outcomes.length} (writes ${writes}, reads ${reads}), failed ${failed}, resent after a keep-alive close ${resent}, latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms max ${pct(1)} ms`,
      `  tasks acknowledged ${totalCreated}, stored ${stored}; task-events "created" received for ${createdEvents.size}, duplicated ${[...createdEvents.values()].filter((ids) => new Set(ids).size !== ids.length || ids.length > 1).length}`,
      `  live devices ${users.length}: ${reconnects} reconnects; changes seen ${users.reduce((n, u) => n + u.live.seen.size, 0)}, acknowledged changes missed ${users.reduce((n, u) => n + [...u.created].filter((id) => !u.live.seen.has(id)).length, 0)}`,
      `  failed by phase: ${JSON.stringify(
        outcomes
          .filter((o) => !o.ok)
          .reduce<Record<string, number>>((by, o) => {
            by[o.phase!] = (by[o.phase!] ?? 0) + 1;
            return by;
          }, {}),
      )}`,
      `  old replicas exited: ${exits.join(", ")}`,
    ].join("\n"),
  );

  assert.deepEqual(failures, [], "no request failed");
  assert.equal(failed, 0);
  assert.deepEqual(exits, ["tasks: exit code 0", "tasks: exit code 0", "gateway: exit code 0", "gateway: exit code 0"], "each replica drained and exited by itself");
  assert.equal(stored, totalCreated, "every acknowledged write is stored, none twice");
  for (const u of users)
    assert.deepEqual(
      [...u.created].filter((id) => !u.live.seen.has(id)),
      [],
      "every live device saw every change of its user",
    );
  assert.ok(reconnects >= users.length, "the gateway roll moved every live connection at least once");
  for (const u of users) for (const id of u.created) assert.equal(createdEvents.get(id)?.length, 1, `exactly one TaskCreated event for ${id}`);
}

/** Tasks stored for the test's users, counted through the API after the rollout. */
async function rpcCount(users: { token: string }[]): Promise<number> {
  let n = 0;
  for (const u of users) {
    let pageToken = "";
    do {
      const { outcome, value } = await rpc<{ tasks?: unknown[]; nextPageToken?: string }>("taskmesh.tasks.v1.TaskService/ListTasks", { query: "", pageSize: 500, pageToken }, u.token);
      assert.ok(outcome.ok && value, outcome.error);
      n += value.tasks?.length ?? 0;
      pageToken = value.nextPageToken ?? "";
    } while (pageToken);
  }
  return n;
}

let stack: Stack | undefined;
try {
  stack = await startStack();
  process.env[POSTGRES_ENV] = stack.env.DATABASE_URL;
  brokers = stack.env.KAFKA_BROKERS!;
  registryUrl = stack.env.SCHEMA_REGISTRY_URL!;
  await setUp();
  await run();
  console.log("zero-downtime: passed");
} catch (err) {
  console.error(`zero-downtime: FAILED\n${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await tearDown();
  await stack?.stopAll();
}
// Live devices keep reconnecting to the stopped gateway and the bus keeps its timers: leave now.
process.exit();
