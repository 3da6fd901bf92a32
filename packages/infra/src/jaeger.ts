/**
 * Jaeger for the tests that look at traces: the all-in-one binary (Jaeger v2, an OpenTelemetry
 * Collector distribution) built from its Go module into the cache once per version, run with
 * in-memory storage, OTLP receivers and the query API on free loopback ports.
 *
 *   tsx packages/infra/src/jaeger.ts start|install   (start prints OTEL_EXPORTER_OTLP_ENDPOINT and JAEGER_QUERY_URL)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { cacheDir, elapsed, freePorts, isMain, log, rmrf, serviceDir, serviceGuard, spawnServer, waitFor } from './cache.js';
import { serviceCli } from './cli.js';
import { buildOnceWithGo, goBuild, moduleCopy } from './kubernetes.js';

const C = 'jaeger';

// v1.75.0 is the module's version of Jaeger v2.12 (cmd/jaeger); the newer ones the proxy serves are not releases.
export const JAEGER_VERSION = 'v1.75.0';

/** Absolute path of the `jaeger` binary, built on first use (a few minutes). */
export async function ensureJaegerInstalled(): Promise<string> {
  const dir = cacheDir('go-tools', `jaeger-${JAEGER_VERSION}`);
  const bin = path.join(dir, 'jaeger');
  const entry = { dir, lock: `jaeger-${JAEGER_VERSION}`, what: `Jaeger ${JAEGER_VERSION}`, takes: 'several minutes', component: C, done: bin, result: bin };
  return buildOnceWithGo(entry, async (go, logFile) => {
    // Built as the main module: its go.mod has a replace directive, which `go install mod@version` refuses.
    const src = await moduleCopy(go, `github.com/jaegertracing/jaeger@${JAEGER_VERSION}`, dir);
    await goBuild(go, ['-ldflags', '-s -w', '-o', `${bin}.tmp`, './cmd/jaeger'], src, logFile);
    fs.renameSync(`${bin}.tmp`, bin);
    rmrf(src);
  });
}

export interface JaegerHandle {
  /** OTLP over HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT to it. */
  otlpHttpUrl: string;
  /** OTLP over gRPC, host:port (daprd's tracing endpoint). */
  otlpGrpcAddress: string;
  /** The query API (GET /api/traces/<id>, /api/traces?service=…) and the UI. */
  queryUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The all-in-one pipeline: OTLP in, memory storage, the query extension; nothing on fixed ports. */
function config(ports: { otlpHttp: number; otlpGrpc: number; query: number; queryGrpc: number }): string {
  const at = (port: number) => `127.0.0.1:${port}`;
  return YAML.stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { memory_store: { memory: { max_traces: 100_000 } } } },
      jaeger_query: { storage: { traces: 'memory_store' }, http: { endpoint: at(ports.query) }, grpc: { endpoint: at(ports.queryGrpc) } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: at(ports.otlpHttp) }, grpc: { endpoint: at(ports.otlpGrpc) } } } },
    processors: { batch: { timeout: '200ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memory_store' } },
  });
}

export async function startJaeger(): Promise<JaegerHandle> {
  const t0 = Date.now();
  const bin = await ensureJaegerInstalled();
  const dir = serviceDir(C);
  const guard = serviceGuard(C, dir);
  const logFile = path.join(dir, 'jaeger.log');
  const [otlpHttp, otlpGrpc, query, queryGrpc] = await freePorts(4);
  const ports = { otlpHttp: otlpHttp!, otlpGrpc: otlpGrpc!, query: query!, queryGrpc: queryGrpc! };
  const configFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(configFile, config(ports));
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  try {
    const proc = spawnServer({ name: C, command: bin, args: ['--config', configFile], logFile, cwd: dir, stopSignal: 'SIGTERM', stopTimeoutMs: 5_000 });
    guard.proc = proc;
    await waitFor(async () => (await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(2000) })).ok, {
      timeoutMs: 60_000,
      what: `Jaeger query (${queryUrl})`,
      component: C,
      proc,
    });
  } catch (e) {
    await guard.fail();
    throw e;
  }
  log(C, `Jaeger ${JAEGER_VERSION} ready in ${elapsed(t0)}: OTLP http://127.0.0.1:${ports.otlpHttp}, query ${queryUrl}`);
  return {
    otlpHttpUrl: `http://127.0.0.1:${ports.otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${ports.otlpGrpc}`,
    queryUrl,
    logFile,
    stop: () => guard.shutdown(),
  };
}

if (isMain(import.meta.url)) {
  await serviceCli(C, {
    install: async () => void (await ensureJaegerInstalled()),
    start: async () => {
      const jaeger = await startJaeger();
      return { env: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, JAEGER_QUERY_URL: jaeger.queryUrl }, stop: jaeger.stop };
    },
  });
}
