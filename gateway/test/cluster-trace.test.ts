// One trace per request across the mesh in cluster mode: the gateway and every service run as their
// own processes (src/main.ts, direct gRPC between them) on PostgreSQL and Kafka, exporting OTLP to a
// real Jaeger (scripts/infra/jaeger.ts). A CreateTask sent as the web app sends it (Connect JSON,
// bearer token) yields one trace holding the gateway, the task service, its INSERT, the outbox
// publish and every consumer's handling; completing a recurring task shows the recurrence consumer
// and the next occurrence's creation in the completion's trace. Read back through Jaeger's HTTP API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ensureKafkaTopics } from "@taskmesh/events";
import { freshDatabase } from "@taskmesh/testing";
import { freePorts } from "../../scripts/infra/cache.js";
import { startJaeger, type JaegerHandle } from "../../scripts/infra/jaeger.js";

const root = path.join(import.meta.dirname, "../..");
const stops: (() => Promise<void>)[] = [];
let jaeger: JaegerHandle;
let gatewayUrl: string;
let token: string;

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string; traceID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}
interface Span {
  service: string;
  name: string;
  id: string;
  parent: string | undefined;
  tags: Record<string, unknown>;
}

function startProcess(name: string, main: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, main)], {
    env: { ...process.env, ...env, OTEL_SERVICE_NAME: name, OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  stops.push(async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  });
  return child;
}

async function ready(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready in 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function call<T>(method: string, body: unknown): Promise<T> {
  const res = await fetch(`${gatewayUrl}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-device": "web", "x-time-zone": "Europe/Paris" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  assert.equal(res.status, 200, `${method}: ${JSON.stringify(json)}`);
  return json;
}

async function jaegerGet<T>(query: string): Promise<T> {
  const res = await fetch(`${jaeger.queryUrl}/api/${query}`);
  assert.ok(res.ok, `${query}: ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

function spansOf(trace: JaegerTrace): Span[] {
  return trace.spans.map((s) => ({
    service: trace.processes[s.processID]!.serviceName,
    name: s.operationName,
    id: s.spanID,
    parent: s.references.find((r) => r.refType === "CHILD_OF")?.spanID,
    tags: Object.fromEntries(s.tags.map((t) => [t.key, t.value])),
  }));
}

/** The trace of the one gateway call to `operation` since the test began, once it holds every span `complete` wants. */
async function traceOf(operation: string, complete: (spans: Span[]) => boolean): Promise<Span[]> {
  const deadline = Date.now() + 90_000;
  let spans: Span[] = [];
  for (;;) {
    const traces = await jaegerGet<JaegerTrace[]>(`traces?service=gateway&operation=${encodeURIComponent(operation)}&lookback=1h&limit=5`);
    const roots = traces.filter((t) => spansOf(t).some((s) => s.service === "gateway" && s.name === operation && s.parent === undefined));
    assert.ok(roots.length <= 1, `one call to ${operation}, ${roots.length} traces`);
    if (roots[0]) {
      spans = spansOf(roots[0]);
      if (complete(spans) && settled(spans)) return spans;
    }
    if (Date.now() > deadline) assert.fail(`the trace of ${operation} is incomplete after 90 s: ${describe(spans)}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const describe = (spans: Span[]) => spans.map((s) => `${s.service}:${s.name}`).sort().join(", ");
const has = (spans: Span[], service: string, name: string | RegExp) => spans.some((s) => s.service === service && (typeof name === "string" ? s.name === name : name.test(s.name)));

/** Every span's parent has arrived (processes export in batches, each on its own schedule). */
const settled = (spans: Span[]) => spans.every((s) => !s.parent || spans.some((p) => p.id === s.parent));

/** One root, and every other span's parent is in the trace: nothing started a trace of its own. */
function assertConnected(spans: Span[]): void {
  const ids = new Set(spans.map((s) => s.id));
  const roots = spans.filter((s) => !s.parent);
  assert.equal(roots.length, 1, `one root span: ${roots.map((s) => `${s.service}:${s.name}`).join(", ")}`);
  for (const s of spans) if (s.parent) assert.ok(ids.has(s.parent), `${s.service}:${s.name}'s parent is in the trace`);
}

before(async () => {
  const brokers = process.env.TASKMESH_TEST_KAFKA_BROKERS;
  const registry = process.env.TASKMESH_TEST_SCHEMA_REGISTRY_URL;
  assert.ok(brokers && registry, "TASKMESH_TEST_KAFKA_BROKERS / TASKMESH_TEST_SCHEMA_REGISTRY_URL are not set: run with `npm test`");
  await ensureKafkaTopics({ brokers: brokers.split(",") });
  jaeger = await startJaeger();
  stops.push(() => jaeger.stop());
  const db = await freshDatabase();
  stops.push(() => db.drop());
  const [tasks, recurrence, reminders, audit, gateway] = (await freePorts(5)).map((port) => ({ port, url: `http://127.0.0.1:${port}` }));
  const common = { DATABASE_URL: db.url, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registry, TASKMESH_TRANSPORT: "direct", TASKS_URL: tasks!.url };
  const children = [
    [tasks!, startProcess("tasks", "services/tasks/src/main.ts", { ...common, PORT: String(tasks!.port) })],
    [recurrence!, startProcess("recurrence", "services/recurrence/src/main.ts", { ...common, PORT: String(recurrence!.port) })],
    [reminders!, startProcess("reminders", "services/reminders/src/main.ts", { ...common, PORT: String(reminders!.port) })],
    [audit!, startProcess("audit", "services/audit/src/main.ts", { ...common, PORT: String(audit!.port) })],
  ] as const;
  await Promise.all(children.map(([s, child]) => ready(s.url, child)));
  const gatewayProcess = startProcess("gateway", "gateway/src/main.ts", {
    ...common,
    PORT: String(gateway!.port),
    RECURRENCE_URL: recurrence!.url,
    REMINDERS_URL: reminders!.url,
    AUDIT_URL: audit!.url,
    TASKMESH_JWT_SECRET: "a test secret of at least thirty-two bytes",
  });
  gatewayUrl = gateway!.url;
  await ready(gatewayUrl, gatewayProcess);
  const signUp = await fetch(`${gatewayUrl}/taskmesh.auth.v1.AuthService/SignUp`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `trace-${Date.now()}@example.com`, password: "a long enough passphrase 42", timeZone: "Europe/Paris" }),
  });
  const session = (await signUp.json()) as { accessToken?: string };
  assert.ok(session.accessToken, `signed up: ${JSON.stringify(session)}`);
  token = session.accessToken;
});

after(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

test("one CreateTask from the web app's transport is one trace: gateway, task service, INSERT, outbox publish, every consumer", async () => {
  const due = new Date(Date.now() + 86_400_000).toISOString();
  await call("taskmesh.tasks.v1.TaskService/CreateTask", { title: "Traced task", dueTime: due, reminders: [{ id: "r1", beforeDue: "3600s" }] });
  const spans = await traceOf(
    "taskmesh.tasks.v1.TaskService/CreateTask",
    (s) =>
      has(s, "audit", "task-events process") &&
      has(s, "reminders", "reminders arm") &&
      has(s, "gateway", "live push") &&
      has(s, "recurrence", "task-events process"),
  );
  assertConnected(spans);
  const root = spans.find((s) => !s.parent)!;
  assert.deepEqual([root.service, root.tags["span.kind"]], ["gateway", "server"]);
  assert.ok(has(spans, "gateway", "taskmesh.tasks.v1.TaskService/CreateTask") && spans.some((s) => s.service === "gateway" && s.tags["span.kind"] === "client"), describe(spans));
  assert.ok(spans.some((s) => s.service === "tasks" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask" && s.tags["span.kind"] === "server"), describe(spans));
  const insert = spans.find((s) => s.service === "tasks" && /INSERT INTO tasks\.tasks\b/.test(String(s.tags["db.query.text"] ?? s.tags["db.statement"] ?? "")));
  assert.ok(insert, `the task's INSERT: ${describe(spans.filter((s) => s.service === "tasks"))}`);
  const publish = spans.find((s) => s.service === "tasks" && s.name === "task-events publish");
  assert.ok(publish && publish.tags["span.kind"] === "producer", describe(spans));
  // the consumers continue from the publish: their spans are its children
  for (const service of ["audit", "reminders", "recurrence"]) {
    const consumed = spans.find((s) => s.service === service && s.name === "task-events process");
    assert.equal(consumed?.parent, publish.id, `${service} consumes the published event`);
    assert.equal(consumed?.tags["messaging.consumer.group.name"] !== undefined, true);
  }
  assert.ok(has(spans, "tasks", "task-updates publish") && has(spans, "gateway", "task-updates process"), describe(spans));
});

test("completing a recurring task: the recurrence consumer and the next occurrence's creation are in the completion's trace", async () => {
  const due = new Date(Date.now() + 3_600_000).toISOString();
  const { task } = await call<{ task: { id: string; version: string } }>("taskmesh.tasks.v1.TaskService/CreateTask", { title: "Traced series", dueTime: due, recurrence: { rrule: "FREQ=DAILY" } });
  await call("taskmesh.tasks.v1.TaskService/CompleteTask", { id: task.id });
  const spans = await traceOf("taskmesh.tasks.v1.TaskService/CompleteTask", (s) => has(s, "tasks", "taskmesh.tasks.v1.TaskService/CreateTask") && has(s, "recurrence", "taskmesh.tasks.v1.TaskService/CreateTask"));
  assertConnected(spans);
  const create = spans.find((s) => s.service === "recurrence" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask" && s.tags["span.kind"] === "client");
  assert.ok(create, `recurrence calls CreateTask: ${describe(spans)}`);
  const created = spans.find((s) => s.service === "tasks" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask");
  assert.equal(created?.parent, create.id, "the next occurrence is created by that call");
  // ancestry: the call is made while the recurrence consumer handles the published completion
  const byId = new Map(spans.map((s) => [s.id, s]));
  const ancestors: Span[] = [];
  for (let at = byId.get(create.parent!); at; at = at.parent ? byId.get(at.parent) : undefined) ancestors.push(at);
  const path = ancestors.map((s) => `${s.service}:${s.name}`);
  assert.deepEqual(path.slice(0, 2), ["recurrence:task-events process", "tasks:task-events publish"], path.join(" ← "));
  assert.equal(path.at(-1), "gateway:taskmesh.tasks.v1.TaskService/CompleteTask");
});
