// Issue 6 benchmark: what the Dapr sidecars add to a service-to-service call. The same unary call
// (GetTask answering ~1 KB, and the empty grpc.health.v1 Check) to a task service process, directly
// over gRPC and through the caller's daprd → the service's daprd (gRPC proxying), interleaved in
// rounds so both paths see the same machine load; then throughput at saturation and daprd memory.
//   npm run bench -- dapr
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createClient } from "@connectrpc/connect";
import { Health } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { serviceTransport } from "@taskmesh/transport";
import { freePort, spawnServer, waitFor } from "@taskmesh/infra/cache";
import { startDaprMesh } from "@taskmesh/infra/dapr";
import { benchDatabase, load, mb, row } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const THROUGHPUT_CALLS = Number(process.env.BENCH_CALLS ?? 5000);
const headers = { "x-user-id": "bench" };

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-bench-dapr-"));
const database = await benchDatabase();
const port = await freePort();
const service = spawnServer({
  name: "tasks",
  command: process.execPath,
  args: ["--import", "tsx", path.join(root, "services/tasks/src/main.ts")],
  cwd: root,
  logFile: path.join(dataDir, "tasks.log"),
  env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: "warn", TASKMESH_SECRETS: "env" },
});
const mesh = await startDaprMesh();
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, { timeoutMs: 120_000, what: "task service", proc: service });
  const [target, caller] = await Promise.all([mesh.sidecar({ appId: "tasks", appPort: port }), mesh.sidecar({ appId: "bench" })]);
  const transports = {
    direct: serviceTransport({ mode: "direct", urls: { tasks: `http://127.0.0.1:${port}` } }, "tasks"),
    dapr: serviceTransport({ mode: "dapr", daprGrpcPort: caller.grpcPort }, "tasks"),
  };
  const tasks = { direct: createClient(TaskService, transports.direct), dapr: createClient(TaskService, transports.dapr) };
  const health = { direct: createClient(Health, transports.direct), dapr: createClient(Health, transports.dapr) };
  const { task } = await tasks.direct.createTask({ title: "Benchmark task", notes: "n".repeat(900), tags: ["bench"] }, { headers });
  const calls = {
    "GetTask (~1 KB)": (path: "direct" | "dapr") => tasks[path].getTask({ id: task!.id }, { headers }),
    "Health/Check (empty)": (path: "direct" | "dapr") => health[path].check({}),
  };
  const bytes = (await tasks.direct.getTask({ id: task!.id }, { headers })).task!.notes.length;
  const idle = { target: rssOf(target.proc.pid), caller: rssOf(caller.proc.pid) };

  console.log(`\nDapr ${mesh.binaries.version}; ${ROUNDS} interleaved rounds × ${PER_ROUND} sequential calls per path (one caller, no queueing); GetTask body ${bytes} B of notes`);
  for (const [name, call] of Object.entries(calls)) {
    for (const p of ["direct", "dapr"] as const) for (let i = 0; i < 200; i++) await call(p); // warm-up
    const lat: Record<"direct" | "dapr", number[]> = { direct: [], dapr: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of ["direct", "dapr"] as const) {
        for (let i = 0; i < PER_ROUND; i++) {
          const t0 = performance.now();
          await call(p);
          lat[p].push(performance.now() - t0);
        }
      }
    }
    const d = [...lat.direct].sort((a, b) => a - b);
    const m = [...lat.dapr].sort((a, b) => a - b);
    const fmt = (s: number[]) => [0.5, 0.9, 0.99].map((q) => percentile(s, q).toFixed(2).padStart(6)).join(" ");
    console.log(`\n${name}: p50 / p90 / p99 ms`);
    console.log(`  direct              ${fmt(d)}`);
    console.log(`  through 2 daprd     ${fmt(m)}`);
    console.log(`  added by Dapr      ${[0.5, 0.9, 0.99].map((q) => `+${(percentile(m, q) - percentile(d, q)).toFixed(2)}`.padStart(6)).join(" ")}`);
  }

  console.log(`\nthroughput, ${CONCURRENCY} callers, ${THROUGHPUT_CALLS} GetTask calls:`);
  for (const p of ["direct", "dapr"] as const) {
    console.log(row(`  GetTask ${p === "direct" ? "direct" : "through 2 daprd"}`, await load(THROUGHPUT_CALLS, CONCURRENCY, () => tasks[p].getTask({ id: task!.id }, { headers }))));
  }
  const loaded = { target: rssOf(target.proc.pid), caller: rssOf(caller.proc.pid) };
  console.log(`\ndaprd RSS: caller ${mb(idle.caller)} idle → ${mb(loaded.caller)} after load; target ${mb(idle.target)} idle → ${mb(loaded.target)} after load`);
  console.log(
    `task service process RSS ${mb(rssOf(service.pid))}; machine load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
} finally {
  await mesh.stop();
  await service.stop();
  await database.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
}
