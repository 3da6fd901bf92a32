// `npm run bench -- images [--cold] [--no-run]`: every image packages/infra/src/images.ts builds — its
// size, the build time of each step warm (nothing changed: skipped), warm after a change (podman's
// layer cache) and, with --cold, into an empty container storage of its own (nothing reused but the
// npm tarballs of Node and the Maven/Go artifacts in ~/.cache/taskmesh) — then each deployable's
// image started as the chart starts it (against a PostgreSQL, Kafka and registry started here):
// time to /readyz and the container's RSS when ready and idle.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePorts, rmrf, sleep } from "@taskmesh/infra/cache";
import { APP_TARGETS, NODE_VERSION, appImageTag, buildAppImages, ensureBaseImages, ensureInfraImages, imageBytes, type StepResult } from "@taskmesh/infra/images";
import { podman, podmanSync, removeContainers, runPrefix, sweepStaleContainers } from "@taskmesh/infra/podman";
import { startStack } from "@taskmesh/infra/stack";
import { Kafka, logLevel } from "kafkajs";
import { mb } from "./lib.js";

const args = process.argv.slice(2);
const root = path.resolve(import.meta.dirname, "..");

interface BuildReport {
  base: Record<string, StepResult>;
  infra: Record<string, StepResult>;
  apps: Record<string, { seconds: number; built: boolean }>;
  total: number;
}

async function buildAll(force = false): Promise<BuildReport> {
  const t0 = Date.now();
  const base = (await ensureBaseImages()).steps;
  const apps = await buildAppImages(APP_TARGETS, "local", { force });
  const infra = (await ensureInfraImages()).steps;
  return { base, infra, apps, total: (Date.now() - t0) / 1000 };
}

/** The cold build in a child process with its own container storage (removed after). */
async function coldBuild(): Promise<BuildReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskmesh-cold-images-"));
  try {
    const out = path.join(dir, "report.json");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--build-only", `--report=${out}`], {
        cwd: root,
        stdio: "inherit",
        env: { ...process.env, TASKMESH_CONTAINERS_ROOT: path.join(dir, "containers") },
      });
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`cold build exited ${code}`))));
    });
    return JSON.parse(fs.readFileSync(out, "utf8")) as BuildReport;
  } finally {
    spawn("podman", ["--root", path.join(dir, "containers", "storage"), "--runroot", path.join(dir, "containers", "run"), "rmi", "-a", "-f"], { stdio: "ignore" }).on("exit", () => rmrf(dir));
  }
}

if (args.includes("--build-only")) {
  const report = await buildAll();
  const file = args.find((a) => a.startsWith("--report="))?.slice("--report=".length);
  if (file) fs.writeFileSync(file, JSON.stringify(report));
  process.exit(0);
}

const cold = args.includes("--cold") ? await coldBuild() : undefined;
const warm = await buildAll(); // first: whatever the tree needs now
const unchanged = await buildAll();
const layered = await buildAll(true); // app targets through podman's layer cache, as after a source change

const s = (r: { seconds: number } | undefined) => (r === undefined ? "–" : `${r.seconds.toFixed(1)} s`);
const rows: string[] = [];
type Timed = { seconds: number } | undefined;
const imageRows: (readonly [string, string, Timed, Timed, Timed])[] = [
  ...Object.entries(unchanged.base).map(([k, v]) => [k, v.tag, cold?.base[k], v, undefined] as const),
  ...APP_TARGETS.map((t) => [t, appImageTag(t), cold?.apps[t], unchanged.apps[t], layered.apps[t]] as const),
  ...Object.entries(unchanged.infra).map(([k, v]) => [k, v.tag, cold?.infra[k], v, undefined] as const),
];
rows.push("| image | size | cold build | warm, unchanged | warm, layer cache |", "|---|---:|---:|---:|---:|");
for (const [name, tag, c, w, l] of imageRows) rows.push(`| ${name} (\`${tag.replace("localhost/", "")}\`) | ${mb(imageBytes(tag))} | ${s(c)} | ${s(w)} | ${s(l)} |`);
rows.push(`| **all** | | ${cold ? `${cold.total.toFixed(0)} s` : "–"} | ${unchanged.total.toFixed(1)} s | ${layered.total.toFixed(0)} s |`);
console.log(`\nimages (podman image sizes, uncompressed; the app images share the runtime and dependency layers)\n${rows.join("\n")}`);
void warm;

if (!args.includes("--no-run")) {
  // start-up and memory of each deployable's image, as the image test starts them
  sweepStaleContainers("bench");
  const prefix = runPrefix("bench");
  const stack = await startStack({ postgres: true, kafka: true, registry: true });
  try {
    const env = stack.env as Record<string, string>;
    const free = await freePorts(5);
    const ports = { tasks: free[0]!, recurrence: free[1]!, reminders: free[2]!, audit: free[3]!, gateway: free[4]! };
    const flags = (name: string, e: Record<string, string>) => [
      "--name",
      `${prefix}${name}`,
      "--network",
      "host",
      "--read-only",
      "--tmpfs",
      "/tmp",
      "--user",
      "65532:65532",
      "--cap-drop",
      "ALL",
      ...Object.entries(e).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    ];
    const common = { DATABASE_URL: env.DATABASE_URL!, KAFKA_BROKERS: env.KAFKA_BROKERS!, SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL!, LOG_LEVEL: "warn", DRAIN_DELAY_MS: "0" };
    // the topics exist before any pod starts in the cluster (the chart's KafkaTopics)
    const admin = new Kafka({ brokers: [env.KAFKA_BROKERS!], clientId: "bench-images", logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: ["task-events", "reminders", "task-updates"].map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })) });
    await admin.disconnect();
    let t = Date.now();
    await podman(["run", ...flags("prepare", common), appImageTag("prepare")]);
    const lines = [`| prepare | ${((Date.now() - t) / 1000).toFixed(1)} s (run to completion) | – | – |`];
    for (const [name, port] of Object.entries(ports)) {
      const e: Record<string, string> = {
        ...common,
        PORT: String(port),
        TASKS_URL: `http://127.0.0.1:${ports.tasks}`,
        RECURRENCE_URL: `http://127.0.0.1:${ports.recurrence}`,
        REMINDERS_URL: `http://127.0.0.1:${ports.reminders}`,
        AUDIT_URL: `http://127.0.0.1:${ports.audit}`,
        TASKMESH_JWT_SECRET: "bench-images-0123456789abcdef0123456789abcdef",
      };
      t = Date.now();
      await podman(["run", "-d", ...flags(name, e), appImageTag(name)]);
      for (;;) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
        } catch {
          /* starting */
        }
        if (Date.now() - t > 120_000) throw new Error(`${name}: not ready in 120 s`);
        await sleep(100);
      }
      const ready = (Date.now() - t) / 1000;
      const rss = () => {
        const pid = podmanSync(["inspect", "--format", "{{.State.Pid}}", `${prefix}${name}`]).stdout.trim();
        return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      };
      const atReady = rss();
      await sleep(5000);
      lines.push(`| ${name} | ${ready.toFixed(1)} s | ${mb(atReady)} | ${mb(rss())} |`);
    }
    console.log(
      `\nstart-up of each image (compiled JavaScript, Node ${NODE_VERSION} in the runtime image; read-only, uid 65532, host network)\n| image | to /readyz | RSS at ready | RSS idle 5 s |\n|---|---:|---:|---:|\n${lines.join("\n")}`,
    );
  } finally {
    removeContainers(prefix);
    await stack.stopAll();
  }
}
