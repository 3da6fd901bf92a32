// Every deployable's image, started as the chart starts it: read-only root, uid 65532, no
// capabilities, /tmp a tmpfs (the chart's emptyDir), the env the chart renders from values.yaml
// (ports, DRAIN_DELAY_MS, LOG_LEVEL, <TARGET>_URL, DATABASE_URL only where `database: true`), against
// the PostgreSQL, Kafka and registry `npm test` started on this host (host network). The prepare
// image migrates every schema and registers the event schemas; each service reaches /readyz; the
// gateway serves the web app and answers SignUp, CreateTask and ListTasks; each drains and exits 0 on
// SIGTERM (`podman stop`) within the chart's grace period.
//
// The images come from packages/infra/src/images.ts (npm test builds them and sets TASKMESH_TEST_IMAGES).
// Containers are named taskmesh-imgtest-<pid>-…: removed in `finally`, and a run killed before that
// leaves containers the next run (or `tsx packages/infra/src/podman.ts cleanup`) removes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "vitest";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema, type ServerFrame } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import YAML from "yaml";
import { buildAppImages, freePorts, kafkaProbe, podmanEnv, podmanProblem, podmanSync, removeContainers, runPrefix, sweepStaleContainers } from "@taskmesh/testing/infra";
import { DEPLOYABLES, chartDir } from "./tools.js";

/** Set by `npm test`: JSON object target → image reference. */
const IMAGES_ENV = "TASKMESH_TEST_IMAGES";

const images = process.env[IMAGES_ENV] ? (JSON.parse(process.env[IMAGES_ENV]) as Record<string, string>) : undefined;
const infraImages = process.env.TASKMESH_TEST_INFRA_IMAGES ? (JSON.parse(process.env.TASKMESH_TEST_INFRA_IMAGES) as Record<string, string>) : undefined;
const skip = !images
  ? (process.env.TASKMESH_TEST_IMAGES_SKIP ?? `${IMAGES_ENV} is not set: \`npm test\` builds the images (packages/infra/src/images.ts) and sets it (TASKMESH_TEST_IMAGES=0 npm test skips them)`)
  : ((await podmanProblem()) ?? false);
if (skip) console.log(`# images-run skipped: ${skip}`);

interface Values {
  global: { logLevel: string; drain: { delaySeconds: number; terminationGracePeriodSeconds: number } };
  kafka: { topics: Record<string, { partitions: number }> };
  [name: string]: unknown;
}
const values = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Values;

const podmanEnvironment = { ...process.env, ...podmanEnv() };

function podman(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync("podman", args, { encoding: "utf8", env: podmanEnvironment, timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`podman ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

function podmanAsync(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("podman", args, { env: podmanEnvironment, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`podman ${args.join(" ")} failed (${code}): ${err}`))));
  });
}

function logsOf(name: string): string {
  const r = podmanSync(["logs", "--tail", "40", name]);
  return r.stdout + r.stderr;
}

/** `podman run` flags for the chart's pod and container securityContext. */
function runFlags(name: string, env: Record<string, string>): string[] {
  // biome-ignore format: each flag on one line with its value
  return [
    "--name", name,
    "--network", "host",
    "--read-only",
    "--tmpfs", "/tmp:rw,size=64m",
    "--user", "65532:65532",
    "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
  ];
}

async function waitReady(name: string, port: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return (Date.now() - t0) / 1000;
    } catch {
      /* not listening yet */
    }
    const state = podmanSync(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]).stdout.trim();
    if (!state.startsWith("running")) throw new Error(`${name} is ${state} before /readyz:\n${logsOf(name)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${name}: /readyz not 200 within ${timeoutMs / 1000}s:\n${logsOf(name)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function rpc<T>(port: number, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method}: ${text}`);
  return JSON.parse(text) as T;
}

test("the app images npm test built are known as built from this tree, so the cluster's build of them builds nothing again", { timeout: 10 * 60_000 }, async (ctx) => {
  if (skip) ctx.skip(skip);
  const again = await buildAppImages(Object.keys(images!));
  assert.deepEqual(
    Object.keys(again).filter((target) => again[target]!.built),
    [],
    "built again",
  );
});

test("each image runs as the cluster runs it: prepare migrates, services reach /readyz, the gateway answers, all drain on SIGTERM", { timeout: 10 * 60_000 }, async (ctx) => {
  if (skip) ctx.skip(skip);
  const registryUrl = process.env.TASKMESH_TEST_SCHEMA_REGISTRY_URL!;
  const brokers = process.env.TASKMESH_TEST_KAFKA_BROKERS!;
  assert.ok(registryUrl && brokers, "TASKMESH_TEST_SCHEMA_REGISTRY_URL and TASKMESH_TEST_KAFKA_BROKERS (npm test sets them)");
  sweepStaleContainers("imgtest");
  const prefix = runPrefix("imgtest");
  const database = await freshDatabase();
  try {
    const free = await freePorts(DEPLOYABLES.length);
    const ports: Record<string, number> = Object.fromEntries(DEPLOYABLES.map((name, i) => [name, free[i]!]));
    const common = {
      DRAIN_DELAY_MS: String(values.global.drain.delaySeconds * 1000),
      LOG_LEVEL: values.global.logLevel,
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
    };

    // the topics, as the chart's KafkaTopics make them before any pod starts (a fresh broker has none)
    const admin = new Kafka({ brokers: brokers.split(","), clientId: "images-test", logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topics = values.kafka.topics;
      await admin.createTopics({ waitForLeaders: true, topics: Object.entries(topics).map(([topic, t]) => ({ topic, numPartitions: Math.min(t.partitions, 3), replicationFactor: 1 })) });
    } finally {
      await admin.disconnect();
    }

    // the prepare hook: a Job, run to completion
    const prepareName = `${prefix}prepare`;
    const t0 = Date.now();
    podman(["run", ...runFlags(prepareName, { ...common, DATABASE_URL: database.url }), images!.prepare!], 180_000);
    const exit = podman(["inspect", "--format", "{{.State.ExitCode}}", prepareName]);
    assert.equal(exit, "0", `prepare exited ${exit}:\n${logsOf(prepareName)}`);
    console.log(`# prepare: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ schema: string }>(`SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'mikro_orm_migrations' ORDER BY 1`);
      assert.deepEqual(
        rows.map((r) => r.schema),
        ["audit", "auth", "reminders", "tasks"],
      );
    } finally {
      await client.end();
    }
    const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
    for (const topic of ["task-events", "reminders", "task-updates"]) assert.ok(subjects.includes(`${topic}-value`), `registered ${topic}-value`);

    // every deployable, with the env its Deployment gets
    const names: Record<string, string> = {};
    for (const name of DEPLOYABLES) {
      const v = values[name] as { port: number; database: boolean; targets: string[]; env: Record<string, string>; secretEnv?: Record<string, string> };
      const env: Record<string, string> = { ...common, PORT: String(ports[name]), ...v.env };
      if (v.database) env.DATABASE_URL = database.url;
      for (const target of v.targets) env[`${target.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[target]}`;
      if (v.secretEnv?.TASKMESH_JWT_SECRET) env.TASKMESH_JWT_SECRET = `images-test-${prefix}-0123456789abcdef0123456789`;
      names[name] = `${prefix}${name}`;
      podman(["run", "-d", ...runFlags(names[name], env), images![name]!]);
    }
    const readyIn = await Promise.all(DEPLOYABLES.map((name) => waitReady(names[name]!, ports[name]!, 180_000)));
    console.log(`# ready after: ${DEPLOYABLES.map((n, i) => `${n} ${readyIn[i]!.toFixed(1)}s`).join(", ")}`);

    // the gateway: the web app and a user's first calls
    const gw = ports.gateway!;
    const page = await fetch(`http://127.0.0.1:${gw}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">|<script/i, "the built web app");
    const email = `images-${Date.now()}@example.com`;
    const signUp = await rpc<{ accessToken: string }>(gw, "taskmesh.auth.v1.AuthService/SignUp", { email, password: "correct horse battery staple", displayName: "Images", timeZone: "Europe/Berlin" });
    assert.ok(signUp.accessToken);
    // a device on the live socket (hello with the token, then ready) sees the task it did not create
    const frames: string[] = [];
    const live = new WebSocket(`ws://127.0.0.1:${gw}/live`);
    await new Promise((resolve, reject) => {
      live.onopen = resolve;
      live.onerror = () => reject(new Error("live socket did not open"));
    });
    live.onmessage = (e) => frames.push(String(e.data));
    live.send(toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { token: signUp.accessToken } } })));
    const frame = async (what: string, test: (f: ServerFrame["frame"]) => boolean) => {
      const t = Date.now();
      while (!frames.some((text) => test(fromJsonString(ServerFrameSchema, text).frame))) {
        if (Date.now() - t > 30_000) throw new Error(`no ${what} frame on the live socket within 30 s: ${frames.join(" ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await frame("ready", (f) => f.case === "ready");
    const created = await rpc<{ task: { id: string; title: string } }>(gw, "taskmesh.tasks.v1.TaskService/CreateTask", { title: "Runs in its image", tags: ["images"] }, signUp.accessToken);
    assert.equal(created.task.title, "Runs in its image");
    await frame("task", (f) => f.case === "task" && f.value.task?.id === created.task.id);
    live.close();
    const listed = await rpc<{ tasks: { id: string }[] }>(gw, "taskmesh.tasks.v1.TaskService/ListTasks", { query: "tag:images" }, signUp.accessToken);
    assert.deepEqual(
      listed.tasks.map((t) => t.id),
      [created.task.id],
    );
    const parsed = await rpc<{ rrule?: string }>(gw, "taskmesh.recurrence.v1.RecurrenceService/ParseRecurrence", { text: "every monday" }, signUp.accessToken);
    assert.ok(JSON.stringify(parsed).includes("MO"), `recurrence through the gateway: ${JSON.stringify(parsed)}`);

    // SIGTERM, as the kubelet sends it: each drains and exits 0 within the grace period
    const grace = values.global.drain.terminationGracePeriodSeconds;
    const stopped = await Promise.all(
      DEPLOYABLES.map(async (name) => {
        const t = Date.now();
        await podmanAsync(["stop", "-t", String(grace), names[name]!]);
        return { name, seconds: (Date.now() - t) / 1000, exit: podman(["inspect", "--format", "{{.State.ExitCode}}", names[name]!]) };
      }),
    );
    console.log(`# stopped (SIGTERM) in: ${stopped.map((s) => `${s.name} ${s.seconds.toFixed(1)}s`).join(", ")}`);
    for (const s of stopped) {
      assert.equal(s.exit, "0", `${s.name} exit code after SIGTERM (137 = killed after the grace period):\n${logsOf(names[s.name]!)}`);
      assert.ok(s.seconds < grace, `${s.name} stopped in ${s.seconds}s, grace ${grace}s`);
    }
  } finally {
    removeContainers(prefix);
    await database.drop();
  }
});

/** A probe's request: one that hangs is a "not yet", not the end of the wait. */
const probe = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) });

async function until<T>(what: string, name: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await fn()) return (Date.now() - t0) / 1000;
    } catch {
      /* not yet */
    }
    const state = podmanSync(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]).stdout.trim();
    if (!state.startsWith("running")) throw new Error(`${name} is ${state} before ${what}:\n${logsOf(name)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${name}: no ${what} within ${timeoutMs / 1000}s:\n${logsOf(name)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Whether a running container of `image` was started for `port` (its command or environment names it). */
function servedByImage(image: string, port: string): boolean {
  const ids = podman(["ps", "--filter", `ancestor=${image}`, "--format", "{{.ID}}"])
    .split("\n")
    .filter(Boolean);
  return ids.some((id) => {
    const [config] = JSON.parse(podman(["inspect", id])) as { Config: { Cmd?: string[]; Env?: string[] } }[];
    return [...(config!.Config.Cmd ?? []), ...(config!.Config.Env ?? [])].some((arg) => new RegExp(`(^|[=:])${port}$`).test(arg));
  });
}

// PostgreSQL, Kafka and the registry are the ones every integration test of the run uses (npm test
// starts them from these images): checked here for what the other tests take for granted, not started
// a second time. The Dapr image's three programs are started as the chart starts them.
test("the infrastructure images serve: PostgreSQL (pg_trgm), Kafka in KRaft mode, the schema registry, daprd, the Dapr scheduler and placement", { timeout: 10 * 60_000 }, async (ctx) => {
  const skipped = skip || (!infraImages && "TASKMESH_TEST_INFRA_IMAGES is not set");
  if (skipped) ctx.skip(skipped);
  const databaseUrl = new URL(process.env.TASKMESH_TEST_POSTGRES_URL!);
  const [brokerHost, brokerPort] = process.env.TASKMESH_TEST_KAFKA_BROKERS!.split(",")[0]!.split(":") as [string, string];
  const registryUrl = new URL(process.env.TASKMESH_TEST_SCHEMA_REGISTRY_URL!);
  for (const [name, image, port] of [
    ["PostgreSQL", infraImages!.postgres!, databaseUrl.port],
    ["Kafka", infraImages!.kafka!, brokerPort],
    ["the schema registry", infraImages!.registry!, registryUrl.port],
  ] as const) {
    assert.ok(servedByImage(image, port), `${name} on port ${port} is a container of ${image}`);
  }
  const database = await freshDatabase();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_trgm");
    assert.equal((await client.query("SELECT similarity('taskmesh', 'taskmash') > 0.3 AS ok")).rows[0].ok, true);
  } finally {
    await client.end();
    await database.drop();
  }
  assert.ok((await kafkaProbe(brokerHost, Number(brokerPort))).brokers >= 1, "Kafka answers ApiVersions + Metadata");
  const topic = `images-test-${runPrefix("imgtest")}`.replace(/[^a-zA-Z0-9._-]/g, "-");
  const k = new Kafka({ brokers: [`${brokerHost}:${brokerPort}`], clientId: "images-test", logLevel: logLevel.NOTHING });
  const producer = k.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: "hello" }] });
  await producer.disconnect();
  const schema = await fetch(`${registryUrl}/subjects/${topic}-value/versions`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schemaType: "PROTOBUF", schema: 'syntax = "proto3"; message Ping { string text = 1; }' }),
  });
  assert.equal(schema.status, 200, await schema.text());

  sweepStaleContainers("imgtest");
  const prefix = runPrefix("imgtest");
  const started: string[] = [];
  const run = (name: string, flags: string[], args: string[]) => {
    started.push(`${prefix}${name}`);
    podman(["run", "-d", "--name", `${prefix}${name}`, "--network", "host", ...flags, infraImages!.dapr!, ...args]);
    return `${prefix}${name}`;
  };
  try {
    const [daprHttp, daprGrpc, daprMetrics, daprInternal, schedPort, schedHealth, schedMetrics, etcdClient, etcdPeer, placePort, placeHealth, placeMetrics] = await freePorts(12);
    const secure = ["--read-only", "--tmpfs", "/tmp", "--user", "65532:65532", "--cap-drop", "ALL"];
    const daprd = run("daprd", secure, [
      "--app-id",
      "images-test",
      "--mode",
      "standalone",
      "--dapr-listen-addresses",
      "127.0.0.1",
      "--dapr-http-port",
      String(daprHttp),
      "--dapr-grpc-port",
      String(daprGrpc),
      "--metrics-port",
      String(daprMetrics),
      "--dapr-internal-grpc-port",
      String(daprInternal),
      "--dapr-internal-grpc-listen-address",
      "127.0.0.1",
    ]);
    const scheduler = run(
      "scheduler",
      [...secure, "--tmpfs", "/data:rw,mode=1777", "--entrypoint", "/scheduler"],
      [
        "--mode",
        "standalone",
        "--listen-address",
        "127.0.0.1",
        "--port",
        String(schedPort),
        "--healthz-port",
        String(schedHealth),
        "--healthz-listen-address",
        "127.0.0.1",
        "--metrics-port",
        String(schedMetrics),
        "--metrics-listen-address",
        "127.0.0.1",
        "--etcd-data-dir",
        "/data/etcd",
        "--etcd-client-port",
        String(etcdClient),
        "--etcd-initial-cluster",
        `dapr-scheduler-server-0=http://127.0.0.1:${etcdPeer}`,
      ],
    );
    const placement = run(
      "placement",
      [...secure, "--entrypoint", "/placement"],
      ["--mode", "standalone", "--port", String(placePort), "--healthz-port", String(placeHealth), "--metrics-port", String(placeMetrics)],
    );

    const times = await Promise.all([
      until("daprd outbound health", daprd, async () => (await probe(`http://127.0.0.1:${daprHttp}/v1.0/healthz/outbound`)).status === 204),
      until("scheduler health", scheduler, async () => (await probe(`http://127.0.0.1:${schedHealth}/healthz`)).ok),
      until("placement health", placement, async () => (await probe(`http://127.0.0.1:${placeHealth}/healthz`)).ok),
    ]);
    console.log(`# Dapr ready after: ${["daprd", "scheduler", "placement"].map((n, i) => `${n} ${times[i]!.toFixed(1)}s`).join(", ")}`);
    const stops = await Promise.all(
      started.map(async (name) => {
        const t = Date.now();
        await podmanAsync(["stop", "-t", "30", name]);
        return { name: name.slice(prefix.length), seconds: (Date.now() - t) / 1000, exit: podman(["inspect", "--format", "{{.State.ExitCode}}", name]) };
      }),
    );
    console.log(`# Dapr stopped: ${stops.map((s) => `${s.name} ${s.seconds.toFixed(1)}s (exit ${s.exit})`).join(", ")}`);
    for (const s of stops) assert.equal(s.exit, "0", `${s.name} exit code after SIGTERM`);
  } finally {
    removeContainers(prefix);
  }
});

test("containers of a run that was killed are removed by the next run's sweep, those of live runs are kept", { timeout: 120_000 }, async (ctx) => {
  if (skip) ctx.skip(skip);
  // a "run" that creates its container and is then SIGKILLed: sh's pid names it, `exec sleep` keeps that pid
  const image = images!.prepare!;
  const killed = spawn("sh", ["-c", `podman create --name "taskmesh-imgtest-$$-killed-leftover" ${image} >/dev/null && exec sleep 60`], { env: podmanEnvironment, stdio: "ignore" });
  const leftover = `taskmesh-imgtest-${killed.pid}-killed-leftover`;
  const mine = `${runPrefix("imgtest")}alive`;
  try {
    podman(["create", "--name", mine, image]);
    const t0 = Date.now();
    while (!podmanSync(["container", "exists", leftover]).ok) {
      if (Date.now() - t0 > 60_000) throw new Error(`${leftover} was never created`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const exited = new Promise((r) => killed.on("exit", r));
    killed.kill("SIGKILL");
    await exited;
    const swept = sweepStaleContainers("imgtest");
    assert.ok(swept.includes(leftover), `swept ${JSON.stringify(swept)}`);
    assert.equal(podmanSync(["container", "exists", leftover]).ok, false, `${leftover} removed`);
    assert.equal(podmanSync(["container", "exists", mine]).ok, true, "a container of this (live) run is kept");
  } finally {
    killed.kill("SIGKILL");
    removeContainers(leftover);
    removeContainers(mine);
  }
  // the live run's own cleanup, after the sweep took the other one, leaves nothing either
  assert.equal(podmanSync(["container", "exists", mine]).ok, false, `${mine} removed by its run`);
});
