// One trace per request across the mesh in cluster mode: the gateway and every service run as their
// own processes (src/main.ts) beside their own daprd, calling each other through the sidecars as in
// the chart, on PostgreSQL and Kafka; the processes and the sidecars export OTLP to a real Jaeger
// (packages/infra/src/jaeger.ts). A CreateTask sent as the web app sends it (Connect JSON, bearer token)
// yields one trace holding the gateway, both sidecars of the hop, the task service, its INSERT, the
// outbox publish and every consumer's handling; completing a recurring task shows the recurrence consumer
// and the next occurrence's creation in the completion's trace. Read back through Jaeger's HTTP API.
// Then Prometheus (built from its Go module) scrapes every process with the alerting rules loaded:
// each rule evaluates without error, each query of the Grafana dashboard returns series, and
// stopping the audit consumer makes its alert fire.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ensureKafkaTopics } from "@taskmesh/events";
import { freshDatabase } from "@taskmesh/testing";
import { freePorts, startTestMesh, startJaeger, type JaegerHandle, startPrometheus, type PrometheusTarget } from "@taskmesh/testing/infra";
import fs from "node:fs";
import os from "node:os";
import YAML from "yaml";

const root = path.join(import.meta.dirname, "../..");
const stops: (() => Promise<void>)[] = [];
let jaeger: JaegerHandle;
let gatewayUrl: string;
let token: string;
/** What Prometheus scrapes: each service's port, the gateway's METRICS_PORT. */
const targets: PrometheusTarget[] = [];
const processes = new Map<string, ChildProcess>();

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
  processes.set(name, child);
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
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
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

const describe = (spans: Span[]) =>
  spans
    .map((s) => `${s.service}:${s.name}`)
    .sort()
    .join(", ");
const has = (spans: Span[], service: string, name: string | RegExp) => spans.some((s) => s.service === service && (typeof name === "string" ? s.name === name : name.test(s.name)));

/** Every span's parent has arrived (processes export in batches, each on its own schedule). */
const settled = (spans: Span[]) => spans.every((s) => !s.parent || spans.some((p) => p.id === s.parent));

/** `span`'s parent, its parent's parent, … up to the root. */
function ancestorsOf(spans: Span[], span: Span): Span[] {
  const byId = new Map(spans.map((s) => [s.id, s]));
  const chain: Span[] = [];
  for (let at = span.parent ? byId.get(span.parent) : undefined; at; at = at.parent ? byId.get(at.parent) : undefined) chain.push(at);
  return chain;
}

/**
 * The hop of one call through the mesh, seen from the callee's server span: its parent is the
 * caller's sidecar's client span (daprd names spans by the gRPC path, "/package.Service/Method"),
 * a child of the caller's client span; the callee's sidecar's server span hangs under it too.
 */
function assertThroughSidecars(spans: Span[], server: Span, caller: string): void {
  const method = `/${server.name}`;
  const [callerSidecar, callerClient] = ancestorsOf(spans, server);
  const hop = [callerSidecar, callerClient].map((s) => s && `${s.service}:${s.name}:${s.tags["span.kind"]}`);
  assert.deepEqual(hop, [`${caller}:${method}:client`, `${caller}:${server.name}:client`], hop.join(" ← "));
  const calleeSidecar = spans.find((s) => s.service === server.service && s.name === method && s.tags["span.kind"] === "server" && s.parent === callerSidecar!.id);
  assert.ok(calleeSidecar, `${server.service}'s sidecar span under ${caller}'s: ${describe(spans)}`);
}

/** One root, and every other span's parent is in the trace: nothing started a trace of its own. */
function assertConnected(spans: Span[]): void {
  const ids = new Set(spans.map((s) => s.id));
  const roots = spans.filter((s) => !s.parent);
  assert.equal(roots.length, 1, `one root span: ${roots.map((s) => `${s.service}:${s.name}`).join(", ")}`);
  for (const s of spans) if (s.parent) assert.ok(ids.has(s.parent), `${s.service}:${s.name}'s parent is in the trace`);
}

beforeAll(async () => {
  const brokers = process.env.TASKMESH_TEST_KAFKA_BROKERS;
  const registry = process.env.TASKMESH_TEST_SCHEMA_REGISTRY_URL;
  assert.ok(brokers && registry, "TASKMESH_TEST_KAFKA_BROKERS / TASKMESH_TEST_SCHEMA_REGISTRY_URL are not set: run with `npm test`");
  await ensureKafkaTopics({ brokers: brokers.split(",") });
  jaeger = await startJaeger();
  stops.push(() => jaeger.stop());
  const db = await freshDatabase();
  stops.push(() => db.drop());
  const [tasks, recurrence, reminders, audit, gateway, gatewayMetrics] = (await freePorts(6)).map((port) => ({ port, url: `http://127.0.0.1:${port}` }));
  for (const [name, { port }] of Object.entries({ tasks: tasks!, recurrence: recurrence!, reminders: reminders!, audit: audit!, gateway: gatewayMetrics! })) {
    targets.push({ address: `127.0.0.1:${port}`, labels: { namespace: "tm", service: name, pod: `${name}-0` } });
  }
  const mesh = await startTestMesh({ otlpEndpoint: jaeger.otlpGrpcAddress });
  stops.push(() => mesh.stop());
  const common = { DATABASE_URL: db.url, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registry, TASKMESH_TRANSPORT: "dapr" };
  // The app id is the service's name, as the chart names it; each app talks to its own sidecar.
  const withSidecar = async (name: string, main: string, port: number, env: Record<string, string> = {}) => {
    const sidecar = await mesh.sidecar({ appId: name, appPort: port, appProtocol: "grpc" });
    return startProcess(name, main, { ...common, ...sidecar.env, ...env, PORT: String(port) });
  };
  const children = [
    [tasks!, await withSidecar("tasks", "services/tasks/src/main.ts", tasks!.port)],
    [recurrence!, await withSidecar("recurrence", "services/recurrence/src/main.ts", recurrence!.port)],
    [reminders!, await withSidecar("reminders", "services/reminders/src/main.ts", reminders!.port)],
    [audit!, await withSidecar("audit", "services/audit/src/main.ts", audit!.port)],
  ] as const;
  await Promise.all(children.map(([s, child]) => ready(s.url, child)));
  const gatewayProcess = await withSidecar("gateway", "gateway/src/main.ts", gateway!.port, {
    TASKMESH_JWT_SECRET: "a test secret of at least thirty-two bytes",
    METRICS_PORT: String(gatewayMetrics!.port),
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

afterAll(async () => {
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
      has(s, "recurrence", "task-events process") &&
      has(s, "tasks", "/taskmesh.tasks.v1.TaskService/CreateTask"),
  );
  assertConnected(spans);
  const root = spans.find((s) => !s.parent)!;
  assert.deepEqual([root.service, root.tags["span.kind"]], ["gateway", "server"]);
  assert.ok(has(spans, "gateway", "taskmesh.tasks.v1.TaskService/CreateTask") && spans.some((s) => s.service === "gateway" && s.tags["span.kind"] === "client"), describe(spans));
  const tasksServer = spans.find((s) => s.service === "tasks" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask" && s.tags["span.kind"] === "server");
  assert.ok(tasksServer, describe(spans));
  assertThroughSidecars(spans, tasksServer, "gateway");
  const insert = spans.find((s) => s.service === "tasks" && /INSERT INTO tasks\.tasks\b/.test(String(s.tags["db.query.text"] ?? s.tags["db.statement"] ?? "")));
  assert.ok(insert, `the task's INSERT: ${describe(spans.filter((s) => s.service === "tasks"))}`);
  const publish = spans.find((s) => s.service === "tasks" && s.name === "task-events publish");
  assert.ok(publish && publish.tags["span.kind"] === "producer", describe(spans));
  // the event carries the task service's context: its publish hangs under the call that wrote it
  assert.equal(publish.parent, tasksServer.id, "published under the tasks server span");
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
  const spans = await traceOf(
    "taskmesh.tasks.v1.TaskService/CompleteTask",
    (s) =>
      has(s, "tasks", "taskmesh.tasks.v1.TaskService/CreateTask") &&
      has(s, "recurrence", "taskmesh.tasks.v1.TaskService/CreateTask") &&
      // the callee's sidecar span is no ancestor of the server's: waited for by name, as daprd exports in batches
      has(s, "tasks", "/taskmesh.tasks.v1.TaskService/CreateTask"),
  );
  assertConnected(spans);
  const create = spans.find((s) => s.service === "recurrence" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask" && s.tags["span.kind"] === "client");
  assert.ok(create, `recurrence calls CreateTask: ${describe(spans)}`);
  const created = spans.find((s) => s.service === "tasks" && s.name === "taskmesh.tasks.v1.TaskService/CreateTask" && s.tags["span.kind"] === "server");
  assert.ok(created, describe(spans));
  assertThroughSidecars(spans, created, "recurrence");
  assert.equal(ancestorsOf(spans, created)[1]?.id, create.id, "the next occurrence is created by that call");
  // ancestry: the call is made while the recurrence consumer handles the published completion
  const chain = ancestorsOf(spans, create).map((s) => `${s.service}:${s.name}`);
  assert.deepEqual(chain.slice(0, 2), ["recurrence:task-events process", "tasks:task-events publish"], chain.join(" ← "));
  assert.equal(chain.at(-1), "gateway:taskmesh.tasks.v1.TaskService/CompleteTask");
});

// 15-20 s at a load average of 15-33 on 2 cores; the longer timeout is for a machine busier still
test("Prometheus scrapes every process: the rules evaluate, every dashboard query returns series, a stopped consumer's alert fires", { timeout: 300_000 }, async () => {
  // What the panels show needs some traffic: a refused call (an error code), a reminder that fires.
  const refused = await fetch(`${gatewayUrl}/taskmesh.tasks.v1.TaskService/CreateTask`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ title: "" }),
  });
  assert.equal(refused.status, 400);
  await call("taskmesh.tasks.v1.TaskService/CreateTask", { title: "Fires soon", reminders: [{ id: "now", absoluteTime: new Date(Date.now() + 2_000).toISOString() }] });

  const rule = YAML.parse(fs.readFileSync(path.join(root, "k8s/monitoring/prometheus-rules.yaml"), "utf8")) as { spec: { groups: { rules: { alert?: string; for?: string }[] }[] } };
  // This copy's TaskmeshTargetDown waits 5 s instead of the shipped minute: promtool's unit tests
  // (deploy/test/prometheus-rules.test.ts) hold the minute; here what counts is that a process
  // really stopped takes the alert through pending to firing, with its own labels.
  const targetDown = rule.spec.groups.flatMap((g) => g.rules).find((r) => r.alert === "TaskmeshTargetDown");
  assert.ok(targetDown?.for, "the rules have TaskmeshTargetDown, with a for");
  targetDown.for = "5s";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskmesh-rules-"));
  const rulesFile = path.join(dir, "rules.yaml");
  fs.writeFileSync(rulesFile, YAML.stringify({ groups: rule.spec.groups }));
  const prometheus = await startPrometheus({ targets, ruleFiles: [rulesFile] });
  try {
    const deadline = Date.now() + 60_000;
    const until = async (what: string, ok: () => Promise<boolean>) => {
      while (!(await ok())) {
        if (Date.now() > deadline) assert.fail(`${what} within 60 s`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    await until("every target up", async () => (await prometheus.query("up == 1")).length === targets.length);
    await until("the reminder's lateness scraped", async () => (await prometheus.query("taskmesh_reminder_lateness_seconds_count > 0")).length > 0);

    // every rule evaluated, none failing
    await until("the rules evaluated", async () => {
      const res = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
      const rules = res.data.groups.flatMap((g) => g.rules);
      for (const r of rules) assert.notEqual(r.health, "err", `${r.name}: ${r.lastError}`);
      return rules.length > 0 && rules.every((r) => r.health === "ok");
    });

    // the dashboard's queries, with Grafana's variables as a range of a few minutes would set them
    const dashboard = JSON.parse(fs.readFileSync(path.join(root, "k8s/monitoring/grafana-dashboard.json"), "utf8")) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const expand = (expr: string) => expr.replaceAll("$namespace", "tm").replaceAll("$__rate_interval", "1m").replaceAll("$__range", "5m");
    // Counters labelled by what failed have no series before the first dead letter.
    const mayBeEmpty = new Set(["Dead-lettered events"]);
    await until("every panel's queries returning series", async () => {
      const empty: string[] = [];
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          const result = await prometheus.query(expand(target.expr));
          if (result.length === 0 && !mayBeEmpty.has(panel.title)) empty.push(`${panel.title}: ${target.expr}`);
        }
      }
      if (Date.now() > deadline - 2_000) assert.deepEqual(empty, [], "panels without series");
      return empty.length === 0;
    });

    // A consumer stopped for real: the audit service goes away, and after the rule's `for` its alert fires.
    const audit = processes.get("audit")!;
    audit.kill("SIGTERM");
    await new Promise((r) => audit.once("exit", r));
    const firing = async () => (await prometheus.query('ALERTS{alertname="TaskmeshTargetDown", alertstate="firing"}')).map((s) => s.metric.service);
    const stoppedAt = Date.now();
    while (!(await firing()).includes("audit")) {
      assert.ok(Date.now() - stoppedAt < 60_000, "TaskmeshTargetDown fires within a minute of the audit service stopping");
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(await firing(), ["audit"], "only the stopped service");
  } finally {
    await prometheus.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
