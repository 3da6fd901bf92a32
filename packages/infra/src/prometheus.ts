/**
 * Prometheus for the tests that scrape a running stack: the binary built from its Go module
 * (go-tools.ts), a scrape job over the given targets every second, the given rule files, a
 * temporary TSDB, on a free loopback port.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { elapsed, freePort, log, serviceDir, serviceGuard, spawnServer, waitFor } from './cache.js';
import { ensureGoTool } from './go-tools.js';

const C = 'prometheus';

export interface PrometheusTarget {
  /** host:port serving /metrics */
  address: string;
  /** Labels every series of the target gets (as the Operator adds namespace, pod, service). */
  labels: Record<string, string>;
}

export interface PrometheusHandle {
  url: string;
  /** GET /api/v1/query: the result's series, or the error Prometheus gave. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: { targets: PrometheusTarget[]; ruleFiles?: string[] }): Promise<PrometheusHandle> {
  const t0 = Date.now();
  const bin = await ensureGoTool('prometheus');
  const dir = serviceDir(C);
  const guard = serviceGuard(C, dir);
  const port = await freePort();
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: [{ job_name: 'taskmesh', static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels })) }],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    const proc = spawnServer({
      name: C,
      command: bin,
      args: [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      logFile: path.join(dir, 'prometheus.log'),
      cwd: dir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 5_000,
    });
    guard.proc = proc;
    await waitFor(async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok, { timeoutMs: 60_000, what: `Prometheus (${url})`, component: C, proc });
  } catch (e) {
    await guard.fail();
    throw e;
  }
  log(C, `ready in ${elapsed(t0)} on ${url}`);
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data!.result;
    },
    stop: () => guard.shutdown(),
  };
}
