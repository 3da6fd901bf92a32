// `npm run bench -- cluster-rollout`: taskmesh on the single-node Kubernetes of `npm run cluster`,
// as an operator runs it. Starts the cluster when none runs (and stops it after), installs Dapr,
// Traefik and the chart (`helm upgrade --install --atomic --wait`, values-local.yaml), then:
//
//  1. through the Ingress, as a user: sign up, create, list, a change on a live WebSocket, a reminder
//     that fires, the next occurrence of a completed recurring task, the activity entry;
//  2. with steady writes, reads and live devices running through the Ingress, four disruptions:
//     `helm upgrade` to a changed release (every Deployment rolls), `helm rollback`, a gateway and a
//     tasks pod deleted with --grace-period=0, and `helm upgrade` to the Dapr Jobs reminder backend;
//  3. checks: no failed request (but those a killed pod held), every acknowledged task stored once, exactly one TaskCreated event
//     each on Kafka, every live device saw every change of its user, no consumer group left per
//     pod, nothing replayed, consumer lag back to 0, a reminder fires on each backend.
//
// Prints the figures of each phase and exits 1 when a check fails. Killed pods may fail the calls
// they held (the client is told; nothing it was told succeeded may be lost), nothing else may.
// TASKMESH_CLUSTER_LOAD_WORKERS (default 4) callers, TASKMESH_CLUSTER_LOAD_USERS (default 2) users
// each with a live device.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { clusterInstall, helm, helmUpgrade, NAMESPACE, RELEASE, releaseImages } from "@taskmesh/infra/cluster-release";
import { clusterDown, clusterStatus, clusterUp, kubectl } from "@taskmesh/infra/kubernetes";
import { LiveDevice } from "./live-frames.js";

const WORKERS = Number(process.env.TASKMESH_CLUSTER_LOAD_WORKERS ?? 4);
const USERS = Number(process.env.TASKMESH_CLUSTER_LOAD_USERS ?? 2);
const SERVICE_GROUPS = ["audit", "recurrence", "reminders"];
const KILLED = "gateway and tasks pods deleted with --grace-period=0";

let base = "";

interface Outcome {
  ok: boolean;
  ms: number;
  phase: string;
  error?: string;
}

// A request the server closed before reading (keep-alive race at a pod's exit) is sent once more,
// as browsers do; writes carry a request id, so a resent write can never create twice.
const CLOSED_BEFORE_RESPONSE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);
let resent = 0;

async function rpc<T>(method: string, body: unknown, token: string, attempt = 1): Promise<{ ok: boolean; ms: number; error?: string; value?: T }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) return { ok: false, ms, error: `${method} HTTP ${res.status}: ${text.slice(0, 200)}` };
    return { ok: true, ms, value: JSON.parse(text) as T };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (attempt === 1 && CLOSED_BEFORE_RESPONSE.has(cause?.code ?? "")) {
      resent++;
      return rpc<T>(method, body, token, 2);
    }
    return { ok: false, ms: performance.now() - t0, error: `${method}: ${(err as Error).message} ${cause?.code ?? cause?.message ?? ""}` };
  }
}

async function must<T>(method: string, body: unknown, token: string): Promise<T> {
  const r = await rpc<T>(method, body, token);
  assert.ok(r.ok && r.value, r.error);
  return r.value;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface User {
  token: string;
  live: LiveDevice;
  created: Set<string>;
}

/** A new account with a personal API token, as scripts use: a run outlasts an access token's life. */
async function signUp(): Promise<User> {
  const { accessToken } = await must<{ accessToken: string }>("taskmesh.auth.v1.AuthService/SignUp", { email: `rollout-${randomUUID()}@example.com`, password: randomUUID(), timeZone: "UTC" }, "");
  const { secret } = await must<{ secret: string }>("taskmesh.auth.v1.AuthService/CreateApiToken", { name: "cluster-rollout", validDays: 1 }, accessToken);
  const user = { token: secret, live: new LiveDevice(`${base.replace(/^http/, "ws")}/live`, secret, 200), created: new Set<string>() };
  await user.live.start();
  return user;
}

interface Task {
  id: string;
  version: string;
  title: string;
  seriesId?: string;
  status?: string;
}

/** A task with a reminder a few seconds ahead; resolves when the reminder frame reached the live device. */
async function reminderFires(user: User, label: string): Promise<number> {
  const at = new Date(Date.now() + 4_000);
  const { task } = await must<{ task: Task }>(
    "taskmesh.tasks.v1.TaskService/CreateTask",
    { title: `reminder ${label}`, requestId: randomUUID(), reminders: [{ absoluteTime: at.toISOString() }] },
    user.token,
  );
  await eventually(`the reminder of "${label}" on the live device`, () => (user.live.reminders.has(task.id) ? true : undefined), 90_000);
  return Date.now() - at.getTime();
}

/** Phase 1: what a user does, through the Ingress. */
async function userJourney(): Promise<void> {
  const t0 = Date.now();
  const user = await signUp();
  const { task } = await must<{ task: Task }>("taskmesh.tasks.v1.TaskService/CreateTask", { title: "Water the plants", requestId: randomUUID() }, user.token);
  const { tasks } = await must<{ tasks?: Task[] }>("taskmesh.tasks.v1.TaskService/ListTasks", { query: "plants" }, user.token);
  assert.ok(
    tasks?.some((t) => t.id === task.id),
    "ListTasks finds the new task",
  );
  await eventually("the change on the live WebSocket", () => (user.live.seen.has(task.id) ? true : undefined));
  const lateMs = await reminderFires(user, "journey");
  const { task: daily } = await must<{ task: Task }>(
    "taskmesh.tasks.v1.TaskService/CreateTask",
    { title: "Stretch", requestId: randomUUID(), dueDate: "2027-03-01", recurrence: { rrule: "FREQ=DAILY" } },
    user.token,
  );
  await must("taskmesh.tasks.v1.TaskService/CompleteTask", { id: daily.id, expectedVersion: daily.version }, user.token);
  const next = await eventually("the next occurrence of the completed daily task", async () => {
    const { tasks: open } = await must<{ tasks?: (Task & { dueDate?: string })[] }>("taskmesh.tasks.v1.TaskService/ListTasks", { query: "status:open Stretch" }, user.token);
    return open?.find((t) => t.seriesId === daily.id && t.dueDate === "2027-03-02");
  });
  const entry = await eventually("the activity entry of the first task", async () => {
    const { entries } = await must<{ entries?: { kind?: string; summary?: string }[] }>("taskmesh.audit.v1.AuditService/ListActivity", { taskId: task.id }, user.token);
    return entries?.[0];
  });
  user.live.stop();
  console.log(
    `user journey through the Ingress in ${((Date.now() - t0) / 1000).toFixed(1)}s: signed up, created, listed, live change, reminder fired ${lateMs} ms after its time, next occurrence ${next.id.slice(0, 8)} due 2027-03-02, activity "${entry.summary ?? JSON.stringify(entry)}"`,
  );
}

/** Node one-off inside the gateway pod (its image has node and kafkajs, and KAFKA_BROKERS in its environment). */
function inGatewayPod(script: string): string {
  const r = kubectl(["-n", NAMESPACE, "exec", "deploy/gateway", "-c", "gateway", "--", "/nodejs/bin/node", "-e", script], { timeoutMs: 300_000 });
  assert.equal(r.status, 0, `kubectl exec in the gateway pod failed:\n${r.out}`);
  return r.out.slice(r.out.indexOf("{"), r.out.lastIndexOf("}") + 1);
}

interface KafkaState {
  groups: Record<string, number>;
  created: Record<string, number>;
}

/** Consumer groups with their total lag, and how many TaskCreated events each task id has on task-events. */
function kafkaState(): KafkaState {
  const script = `
const { Kafka, logLevel } = require("kafkajs");
(async () => {
  const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(","), clientId: "rollout-check", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = {};
  for (const topic of ["task-events", "task-updates", "reminders"]) ends[topic] = Object.fromEntries((await admin.fetchTopicOffsets(topic).catch(() => [])).map((p) => [p.partition, BigInt(p.high)]));
  const groups = {};
  for (const { groupId } of (await admin.listGroups()).groups) {
    let lag = 0n;
    for (const t of await admin.fetchOffsets({ groupId })) for (const p of t.partitions) if (ends[t.topic] && p.offset !== "-1") lag += ends[t.topic][p.partition] - BigInt(p.offset);
    groups[groupId] = Number(lag);
  }
  const created = {};
  const groupId = "rollout-check-" + Date.now();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: "task-events", fromBeginning: true });
  const total = Object.values(ends["task-events"] || {}).reduce((a, b) => a + b, 0n);
  let read = 0n;
  await new Promise((resolve) => {
    if (total === 0n) return resolve();
    consumer.run({ eachMessage: async ({ message }) => {
      read++;
      if (String(message.headers["event-type"]) === "created") created[message.key.toString()] = (created[message.key.toString()] || 0) + 1;
      if (read >= total) resolve();
    } });
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
  // Exits once the whole line is written: a pipe takes it asynchronously.
  process.stdout.write(JSON.stringify({ groups, created }) + "\\n", () => process.exit(0));
})().catch((e) => { console.error(e); process.exit(1); });`;
  return JSON.parse(inGatewayPod(script)) as KafkaState;
}

function pods(): { name: string; restarts: number; app: string }[] {
  const r = kubectl(["-n", NAMESPACE, "get", "pods", "-o", "json"]);
  const items = (JSON.parse(r.out) as { items: { metadata: { name: string; labels: Record<string, string> }; status: { containerStatuses?: { restartCount: number }[] } }[] }).items;
  return items.map((p) => ({ name: p.metadata.name, app: p.metadata.labels["app.kubernetes.io/name"] ?? "", restarts: (p.status.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0) }));
}

/** Until no pod is terminating: old replicas still consume events (and arm timers) while they drain. */
async function waitForOldPodsGone(): Promise<void> {
  await eventually(
    "the old pods to finish draining",
    () => {
      const r = kubectl(["-n", NAMESPACE, "get", "pods", "-o", 'jsonpath={range .items[*]}{.metadata.deletionTimestamp}{"\\n"}{end}']);
      return r.status === 0 && !r.out.split("\n").some((l) => l.trim()) ? true : undefined;
    },
    180_000,
  );
}

function percentile(sorted: number[], p: number): string {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(1) : "-";
}

async function underLoad(): Promise<void> {
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) users.push(await signUp());
  const before = kafkaState();
  const outcomes: Outcome[] = [];
  const failures = new Map<string, number>();
  let phase = "steady";
  let running = true;
  const record = (r: { ok: boolean; ms: number; error?: string }) => {
    outcomes.push({ ok: r.ok, ms: r.ms, phase, error: r.error });
    if (!r.ok) failures.set(`${phase}: ${r.error}`, (failures.get(`${phase}: ${r.error}`) ?? 0) + 1);
  };
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    const user = users[w % users.length]!;
    while (running) {
      const request = { title: `load ${w}`, requestId: randomUUID() };
      let create = await rpc<{ task: Task }>("taskmesh.tasks.v1.TaskService/CreateTask", request, user.token);
      record(create);
      // A create left unanswered (its pod killed) may have committed: sent again with its request id,
      // as the web app's queue sends it, it is answered with the task it made, or makes it now.
      for (let attempt = 0; !create.value && attempt < 30; attempt++) {
        await new Promise((r) => setTimeout(r, 1_000));
        create = await rpc<{ task: Task }>("taskmesh.tasks.v1.TaskService/CreateTask", request, user.token);
        record(create);
      }
      if (create.value) user.created.add(create.value.task.id);
      record(await rpc("taskmesh.tasks.v1.TaskService/ListTasks", { query: "status:open", pageSize: 20 }, user.token));
      if (create.value) record(await rpc("taskmesh.tasks.v1.TaskService/GetTask", { id: create.value.task.id }, user.token));
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  const phases: string[] = [];
  const timed = async (name: string, action: () => Promise<void>) => {
    phase = name;
    const t0 = Date.now();
    const from = outcomes.length;
    await action();
    await new Promise((r) => setTimeout(r, 5_000)); // load on what the disruption left
    const slice = outcomes.slice(from);
    const ms = slice.map((o) => o.ms).sort((a, b) => a - b);
    phases.push(
      `  ${name}: ${((Date.now() - t0) / 1000).toFixed(1)}s, ${slice.length} requests, ${slice.filter((o) => !o.ok).length} failed, p50 ${percentile(ms, 0.5)} ms, p99 ${percentile(ms, 0.99)} ms, max ${percentile(ms, 1)} ms`,
    );
    console.log(`phase done:${phases.at(-1)}`);
  };
  await timed("steady", () => new Promise((r) => setTimeout(r, 10_000)));
  const images = await releaseImages();
  const checkReminder = async (label: string) => {
    await waitForOldPodsGone();
    return reminderFires(users[0]!, label).catch((err: Error) => {
      failures.set(`reminder on ${label}: ${err.message}`, 1);
      return NaN;
    });
  };
  await timed("helm upgrade (every Deployment rolls)", () => helmUpgrade(images, { "global.logLevel": "info" }));
  await timed("helm rollback to the previous revision", async () => {
    await helm(["rollback", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "12m"], "helm rollback");
  });
  const postgresLateMs = await checkReminder("the PostgreSQL scheduler");
  // A pod killed without its drain: calls in flight on it fail (a create among them may have
  // committed: it is sent again until answered), and callers' sidecars keep its address for the DNS
  // records' 30 s; the phase lasts until that has passed.
  await timed(KILLED, async () => {
    for (const app of ["gateway", "tasks"]) {
      const victim = pods().find((p) => p.app === app)!;
      kubectl(["-n", NAMESPACE, "delete", "pod", victim.name, "--grace-period=0", "--force", "--wait=false"]);
    }
    for (const app of ["gateway", "tasks"]) {
      const r = kubectl(["-n", NAMESPACE, "rollout", "status", `deployment/${app}`, "--timeout=300s"], { timeoutMs: 310_000 });
      assert.equal(r.status, 0, r.out);
    }
    await new Promise((r) => setTimeout(r, 35_000));
  });
  await timed("helm upgrade to the Dapr Jobs reminder backend", () => helmUpgrade(images, { "reminders.env.REMINDERS_SCHEDULER": "dapr-jobs" }));
  const daprJobsLateMs = await checkReminder("Dapr Jobs");
  running = false;
  await Promise.all(workers);

  const allSeen = () => users.every((u) => [...u.created].every((id) => u.live.seen.has(id)));
  await eventually("every live device to see every change of its user", () => (allSeen() ? true : undefined), 60_000).catch(() => undefined);
  for (const u of users) u.live.stop();
  const totalCreated = users.reduce((n, u) => n + u.created.size, 0);
  let after: KafkaState = kafkaState();
  for (let i = 0; i < 30 && Object.entries(after.groups).some(([g, lag]) => SERVICE_GROUPS.includes(g) && lag > 0); i++) {
    await new Promise((r) => setTimeout(r, 2_000));
    after = kafkaState();
  }
  let stored = 0;
  for (const u of users) {
    let pageToken = "";
    do {
      const page = await must<{ tasks?: Task[]; nextPageToken?: string }>("taskmesh.tasks.v1.TaskService/ListTasks", { query: "load", pageSize: 500, pageToken }, u.token);
      stored += page.tasks?.length ?? 0;
      pageToken = page.nextPageToken ?? "";
    } while (pageToken);
  }
  const createdIds = users.flatMap((u) => [...u.created]);
  const eventCounts = createdIds.map((id) => after.created[id] ?? 0);
  const missed = users.reduce((n, u) => n + [...u.created].filter((id) => !u.live.seen.has(id)).length, 0);
  const restarts = pods().reduce((n, p) => n + p.restarts, 0);
  const liveGroups = Object.keys(after.groups).filter((g) => g.startsWith("gateway-live-"));
  const gatewayPods = pods().filter((p) => p.app === "gateway").length;
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  console.log(
    [
      `cluster rollout under load (${WORKERS} callers, ${USERS} live devices, through the Ingress):`,
      ...phases,
      `  total: ${outcomes.length} requests, ${outcomes.filter((o) => !o.ok).length} failed, resent after a keep-alive close ${resent}, p50 ${percentile(ms, 0.5)} ms, p99 ${percentile(ms, 0.99)} ms`,
      `  tasks acknowledged ${totalCreated}, stored ${stored}; TaskCreated events: ${eventCounts.filter((n) => n === 1).length} exactly once, ${eventCounts.filter((n) => n === 0).length} missing, ${eventCounts.filter((n) => n > 1).length} duplicated`,
      `  live devices: ${users.reduce((n, u) => n + u.live.connects - 1, 0)} reconnects, acknowledged changes missed ${missed}`,
      `  reminders fired ${postgresLateMs} ms after their time on the PostgreSQL scheduler, ${daprJobsLateMs} ms on Dapr Jobs`,
      `  consumer groups before ${JSON.stringify(before.groups)}`,
      `  consumer groups after  ${JSON.stringify(after.groups)} (gateway pods ${gatewayPods})`,
      `  container restarts ${restarts}`,
    ].join("\n"),
  );
  for (const [error, n] of failures) console.log(`  ${error.startsWith(KILLED) ? "·" : "✖"} ${n}× ${error}`);
  assert.deepEqual(
    [...failures.keys()].filter((e) => !e.startsWith(KILLED)),
    [],
    "no request failed in an upgrade, a rollback or steady running",
  );
  assert.equal(stored, totalCreated, "every acknowledged task stored, none twice");
  assert.ok(
    eventCounts.every((n) => n === 1),
    "exactly one TaskCreated event per task",
  );
  assert.equal(missed, 0, "every live device saw every change of its user");
  assert.ok(liveGroups.length <= gatewayPods, `no live-sync consumer group left by a gone pod: ${liveGroups.join(", ")}`);
  for (const g of SERVICE_GROUPS) assert.equal(after.groups[g], 0, `consumer group ${g} caught up`);
  assert.deepEqual(
    Object.keys(after.groups).filter((g) => !SERVICE_GROUPS.includes(g) && !g.startsWith("gateway-live-")),
    [],
    "no other consumer group",
  );
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const wasRunning = await clusterStatus().catch(() => false);
  try {
    if (!wasRunning) await clusterUp();
    base = await clusterInstall();
    console.log(`installed in ${((Date.now() - t0) / 1000).toFixed(0)}s: ${base}`);
    await userJourney();
    await underLoad();
  } finally {
    if (!wasRunning && process.env.TASKMESH_CLUSTER_KEEP !== "1") await clusterDown();
  }
  console.log(`cluster-rollout done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

await main();
