// Shared by the benchmarks: latency percentiles, a fixed-concurrency load loop, service processes
// and databases.
import path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort, serviceDir, spawnServer, waitFor, type ServerProcess } from "../scripts/infra/cache.js";
import { startPostgres } from "../scripts/infra/postgres.js";

const root = path.resolve(import.meta.dirname, "..");

export interface Stats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** Runs `op` `total` times with `concurrency` callers in flight; latencies in ms. */
export async function load(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        try {
          await op(i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (firstError) console.error("first error:", firstError);
  return summarize(latencies, seconds, errors);
}

export function summarize(latencies: number[], seconds: number, errors = 0): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { count: sorted.length, seconds, perSecond: sorted.length / seconds, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN, errors };
}

export function row(label: string, s: Stats): string {
  return `${label.padEnd(48)} ${s.perSecond.toFixed(0).padStart(7)}/s  p50 ${s.p50.toFixed(2).padStart(7)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms  max ${s.max.toFixed(1).padStart(7)} ms  n=${s.count}${s.errors ? `  errors=${s.errors}` : ""}`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export interface ServiceProcess {
  port: number;
  url: string;
  proc: ServerProcess;
}

/**
 * Starts a deployable from its main.ts with node + tsx, as its image's ENTRYPOINT does, on a free
 * port, and waits until /readyz answers.
 */
export async function startServiceProcess(name: string, entry: string, env: Record<string, string>, stopTimeoutMs = 20_000): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = spawnServer({
    name,
    command: process.execPath,
    args: ["--import=tsx", entry],
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: "warn" },
    logFile: path.join(serviceDir(name), "out.log"),
    stopTimeoutMs,
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 180_000, what: `${name} ready`, proc, intervalMs: 250 });
  return { port, url: `http://127.0.0.1:${port}`, proc };
}

/** A database for one run: a PostgreSQL server of its own, stopped by `cleanup`. */
export async function benchDatabase(): Promise<{ url: string; cleanup(): Promise<void> }> {
  const pg = await startPostgres();
  return { url: pg.url, cleanup: () => pg.stop() };
}
