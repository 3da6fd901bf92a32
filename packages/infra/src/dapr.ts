// daprd and the Dapr scheduler, built from the Dapr Go module (via the Go module proxy) into the
// cache once per version and machine. `go install …@version` refuses modules with replace
// directives, and Dapr's go.mod has them, so the module is downloaded at a pinned release, copied to a
// writable folder and built there, where its replace directives apply.
//
// The sidecar is built with the component set the project uses (secret stores, name resolution);
// every other contrib component (cloud SDKs, databases, brokers) is left out, which cuts the build
// from Dapr's full flavour to a fraction of its time on a small machine. The runtime itself
// (service invocation, resiliency, Jobs API, secrets API, metrics, tracing) is unchanged.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { cacheDir, elapsed, freePorts, InfraError, isMain, log, rmrf, run, serviceDir, serviceGuard, spawnServer, waitFor, which, withLock } from './cache.js';
import type { ServerProcess } from './cache.js';
import { infraSettings } from './settings.js';

/**
 * Newest stable Dapr release that builds from the module proxy this project uses (`go 1.26.5`, accepted
 * by Go 1.26): v1.18.3 needs github.com/dapr/durabletask-go v0.12.4, which the proxy refuses (403 "This
 * module version is not available"); v1.18.0/1 need github.com/diagridio/go-etcd-cron v0.12.5, likewise.
 */
export const DAPR_VERSION = 'v1.18.2';

/** cmd/daprd/components/<file>.go registrations kept in our sidecar build. */
const KEPT_COMPONENTS = [
  'secretstores_local_file.go', // local stack
  'secretstores_local_env.go',
  'secretstores_kubernetes.go', // chart
  // local stack and tests: each mesh's sidecars find each other in its own SQLite file (mDNS would
  // mix up meshes running side by side on one machine); only in the allcomponents flavour
  'nameresolution_sqlite.go',
  'nameresolution_mdns.go', // standalone default
  'nameresolution_kubernetes.go',
];

/** Names the component set in the cache path, so changing KEPT_COMPONENTS rebuilds. */
const BUILD_FLAVOUR = `components-${createHash('sha1').update(KEPT_COMPONENTS.join(',')).digest('hex').slice(0, 8)}`;

/** The Dapr module's source, downloaded through the Go module proxy, in a writable copy `<dir>/src`. */
async function daprSource(go: string, env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  log('dapr', `go mod download github.com/dapr/dapr@${DAPR_VERSION}`);
  const downloaded = await run(go, ['mod', 'download', '-json', `github.com/dapr/dapr@${DAPR_VERSION}`], { env, cwd: dir, component: 'dapr', what: 'go mod download' });
  // run() merges stderr into the output: keep the JSON object only
  const info = JSON.parse(downloaded.slice(downloaded.indexOf('{'), downloaded.lastIndexOf('}') + 1)) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new InfraError(`go mod download gave no module dir: ${info.Error ?? 'unknown error'}`);
  const src = path.join(dir, 'src');
  rmrf(src);
  // the module cache is read-only: build in a writable copy
  await run('cp', ['-R', info.Dir, src]);
  await run('chmod', ['-R', 'u+w', src]);
  return src;
}

export interface DaprBinaries {
  version: string;
  daprd: string;
  scheduler: string;
}

function binaries(dir: string): DaprBinaries {
  return { version: DAPR_VERSION, daprd: path.join(dir, 'daprd'), scheduler: path.join(dir, 'scheduler') };
}

/** Paths of daprd and scheduler, building them on first use (many minutes on 2 cores). */
export async function ensureDapr(): Promise<DaprBinaries> {
  const dir = cacheDir('dapr', `${DAPR_VERSION}-${BUILD_FLAVOUR}`);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return binaries(dir);
  const go = which('go');
  if (!go) throw new InfraError('building daprd needs Go 1.26.5+ (https://go.dev/dl/); install it and run again');
  return withLock(
    `dapr-${DAPR_VERSION}-${BUILD_FLAVOUR}`,
    async () => {
      if (fs.existsSync(done)) return binaries(dir);
      const t0 = Date.now();
      const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false' };
      const logFile = path.join(dir, 'build.log');
      log('dapr', `building daprd and scheduler ${DAPR_VERSION} from the Go module proxy (first run only; ~15-25 min on 2 cores). Log: ${logFile}`);

      const src = await daprSource(go, env, dir);
      const componentsDir = path.join(src, 'cmd', 'daprd', 'components');
      for (const f of fs.readdirSync(componentsDir)) {
        if (f.endsWith('.go') && !KEPT_COMPONENTS.includes(f)) fs.rmSync(path.join(componentsDir, f));
      }

      const out = path.join(dir, 'bin.partial');
      rmrf(out);
      fs.mkdirSync(out);
      const ldflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION.slice(1)}`;
      log('dapr', 'go build ./cmd/daprd ./cmd/scheduler (downloads dependencies, then compiles; progress every 10s)');
      await run(go, ['build', '-trimpath', '-tags', 'allcomponents', '-ldflags', ldflags, '-o', `${out}/`, './cmd/daprd', './cmd/scheduler'], {
        env,
        cwd: src,
        logFile,
        component: 'dapr',
        what: 'go build daprd+scheduler',
      });
      for (const b of ['daprd', 'scheduler']) fs.renameSync(path.join(out, b), path.join(dir, b));
      rmrf(out);
      rmrf(src);
      fs.writeFileSync(done, `${new Date().toISOString()} built in ${elapsed(t0)}\n`);
      log('dapr', `built in ${elapsed(t0)}: ${dir}/{daprd,scheduler}`);
      return binaries(dir);
    },
    60 * 60_000,
  );
}

/**
 * The Dapr placement service (actor placement; the chart's Dapr control plane runs it), for the dapr
 * image only: nothing here uses actors. Same module and version as daprd, built on its own (a few
 * minutes, most dependencies already in Go's build cache once daprd is built).
 */
export async function ensureDaprPlacement(): Promise<string> {
  const dir = cacheDir('dapr', `${DAPR_VERSION}-placement`);
  const bin = path.join(dir, 'placement');
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return bin;
  const go = which('go');
  if (!go) throw new InfraError('building the Dapr placement service needs Go 1.26.5+ (https://go.dev/dl/); install it and run again');
  return withLock(
    `dapr-${DAPR_VERSION}-placement`,
    async () => {
      if (fs.existsSync(done)) return bin;
      const t0 = Date.now();
      const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false' };
      const logFile = path.join(dir, 'build.log');
      log('dapr', `building placement ${DAPR_VERSION} from the Go module proxy (first run only). Log: ${logFile}`);
      const src = await daprSource(go, env, dir);
      const ldflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION.slice(1)}`;
      await run(go, ['build', '-trimpath', '-ldflags', ldflags, '-o', `${bin}.partial`, './cmd/placement'], { env, cwd: src, logFile, component: 'dapr', what: 'go build placement' });
      fs.renameSync(`${bin}.partial`, bin);
      rmrf(src);
      fs.writeFileSync(done, `${new Date().toISOString()} built in ${elapsed(t0)}\n`);
      log('dapr', `placement built in ${elapsed(t0)}`);
      return bin;
    },
    60 * 60_000,
  );
}

// ---------------------------------------------------------------------------
// running sidecars (local stack and tests)

const K8S_DAPR = path.resolve(import.meta.dirname, '..', '..', '..', 'k8s', 'dapr');
/** The secret every service reads (a Kubernetes Secret in the chart, a JSON object locally). */
export const SECRET_STORE = 'taskmesh-secrets';
export const SECRET_NAME = 'taskmesh';

export interface SidecarOptions {
  appId: string;
  /** the app's port; omitted for a sidecar that only calls out */
  appPort?: number;
  appProtocol?: 'grpc' | 'h2c' | 'http';
  /** connect to the mesh's scheduler (Jobs API) */
  scheduler?: boolean;
}

export interface Sidecar {
  readonly appId: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly metricsPort: number;
  /** env for the app: DAPR_GRPC_PORT / DAPR_HTTP_PORT, as the Kubernetes injector sets them */
  readonly env: Record<string, string>;
  readonly proc: ServerProcess;
  /** daprd's Prometheus text */
  metrics(): Promise<string>;
  /** SIGKILL, as a crashed pod */
  kill(): void;
  /** start again on the same ports (after stop() or kill()) */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface DaprScheduler {
  readonly address: string;
  readonly proc: ServerProcess;
  stop(): Promise<void>;
}

export interface DaprMeshOptions {
  /** keys of the secret "taskmesh" served by the local file secret store */
  secrets?: Record<string, string>;
  /** start a scheduler (Jobs API) for sidecars that ask for it */
  scheduler?: boolean;
  /** binaries to run (tests get them from `npm test`); built into the cache when omitted */
  binaries?: DaprBinaries;
  /** host:port of an OTLP/gRPC receiver (Jaeger) for the sidecars' spans; none: they export nothing */
  otlpEndpoint?: string;
}

/** Sidecars on one machine that find each other by app id (SQLite name resolution in a shared file). */
export interface DaprMesh {
  readonly dir: string;
  readonly binaries: DaprBinaries;
  readonly scheduler?: DaprScheduler;
  sidecar(opts: SidecarOptions): Promise<Sidecar>;
  stop(): Promise<void>;
}

/**
 * The mesh's folder: config.yaml (k8s/dapr/configuration.yaml plus SQLite name resolution, spans
 * to `otlpEndpoint` or nowhere), resources/ (resiliency + the local file secret store), secrets.json, the resolver's
 * database and one log per sidecar.
 */
function writeMeshFiles(dir: string, secrets: Record<string, string>, otlpEndpoint: string | undefined): void {
  const config = YAML.parse(fs.readFileSync(path.join(K8S_DAPR, 'configuration.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  const tracing = config.spec.tracing as { otel?: Record<string, unknown> } | undefined;
  if (tracing?.otel && otlpEndpoint) tracing.otel.endpointAddress = otlpEndpoint;
  else if (tracing) delete tracing.otel;
  config.spec.nameResolution = {
    component: 'sqlite',
    version: 'v1',
    configuration: { connectionString: path.join(dir, 'name-resolution.db'), updateInterval: '2s' },
  };
  fs.writeFileSync(path.join(dir, 'config.yaml'), YAML.stringify(config));
  const resources = path.join(dir, 'resources');
  fs.mkdirSync(resources, { recursive: true });
  fs.copyFileSync(path.join(K8S_DAPR, 'resiliency.yaml'), path.join(resources, 'resiliency.yaml'));
  fs.copyFileSync(path.join(K8S_DAPR, 'local', 'secretstore-file.yaml'), path.join(resources, 'secretstore-file.yaml'));
  fs.writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ [SECRET_NAME]: secrets }, null, 2), { mode: 0o600 });
}

export async function startDaprMesh(opts: DaprMeshOptions = {}): Promise<DaprMesh> {
  const binaries = opts.binaries ?? (await ensureDapr());
  const dir = serviceDir('dapr');
  const guard = serviceGuard('dapr', dir);
  const sidecars: Sidecar[] = [];
  try {
    writeMeshFiles(dir, opts.secrets ?? {}, opts.otlpEndpoint);
    const scheduler = opts.scheduler ? await startScheduler(binaries.scheduler, dir) : undefined;
    return {
      dir,
      binaries,
      scheduler,
      async sidecar(o) {
        if (o.scheduler && !scheduler) throw new InfraError(`sidecar ${o.appId} wants the scheduler: start the mesh with { scheduler: true }`);
        const s = await startSidecar(binaries.daprd, dir, o, o.scheduler ? scheduler?.address : undefined);
        sidecars.push(s);
        return s;
      },
      async stop() {
        await Promise.all(sidecars.map((s) => s.stop()));
        await scheduler?.stop();
        await guard.shutdown();
      },
    };
  } catch (err) {
    await guard.fail();
    throw err;
  }
}

/** A mesh for a test file, on the binaries `npm test` built; a clear error when run without it. */
export function startTestMesh(opts: Omit<DaprMeshOptions, 'binaries'> = {}): Promise<DaprMesh> {
  const daprd = infraSettings.testDaprd;
  const scheduler = infraSettings.testDaprScheduler;
  if (!daprd || !scheduler) {
    throw new InfraError(`TASKMESH_TEST_DAPRD and TASKMESH_TEST_DAPR_SCHEDULER are not set: run the tests with \`npm test\`, which builds daprd and the scheduler and sets them`);
  }
  return startDaprMesh({ ...opts, binaries: { version: DAPR_VERSION, daprd, scheduler } });
}

async function startSidecar(daprd: string, dir: string, o: SidecarOptions, schedulerAddress: string | undefined): Promise<Sidecar> {
  const [grpcPort, httpPort, metricsPort, internalPort] = (await freePorts(4)) as [number, number, number, number];
  // biome-ignore format: each flag on one line with its value
  const args = [
    '--app-id', o.appId,
    '--mode', 'standalone',
    '--dapr-listen-addresses', '127.0.0.1',
    '--dapr-grpc-port', String(grpcPort),
    '--dapr-http-port', String(httpPort),
    '--dapr-internal-grpc-port', String(internalPort),
    '--dapr-internal-grpc-listen-address', '127.0.0.1',
    '--metrics-port', String(metricsPort),
    '--metrics-listen-address', '127.0.0.1',
    '--resources-path', path.join(dir, 'resources'),
    '--config', path.join(dir, 'config.yaml'),
    '--log-level', infraSettings.daprLogLevel,
    '--dapr-graceful-shutdown-seconds', '2',
  ];
  if (o.appPort !== undefined) args.push('--app-port', String(o.appPort), '--app-protocol', o.appProtocol ?? 'grpc', '--app-channel-address', '127.0.0.1');
  if (schedulerAddress) args.push('--scheduler-host-address', schedulerAddress);
  let proc: ServerProcess;
  const start = async (): Promise<void> => {
    const t0 = Date.now();
    proc = spawnServer({ name: `daprd-${o.appId}`, command: daprd, args, cwd: dir, logFile: path.join(dir, `daprd-${o.appId}.log`), stopTimeoutMs: 10_000 });
    // outbound-ready: components loaded, the app may call daprd's APIs (it need not listen yet)
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz/outbound`)).status === 204, {
      timeoutMs: 60_000,
      what: `daprd ${o.appId} (http ${httpPort})`,
      component: 'dapr',
      proc,
    });
    log('dapr', `daprd ${o.appId} ready in ${elapsed(t0)} (grpc ${grpcPort}, http ${httpPort}${o.appPort ? `, app ${o.appPort}` : ''})`);
  };
  await start();
  return {
    appId: o.appId,
    grpcPort,
    httpPort,
    metricsPort,
    env: { DAPR_GRPC_PORT: String(grpcPort), DAPR_HTTP_PORT: String(httpPort) },
    get proc() {
      return proc;
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    kill: () => proc.kill(),
    restart: start,
    stop: () => proc.stop(),
  };
}

async function startScheduler(bin: string, dir: string): Promise<DaprScheduler> {
  const [port, healthz, metrics, etcdClient, etcdPeer] = (await freePorts(5)) as [number, number, number, number, number];
  const t0 = Date.now();
  const proc = spawnServer({
    name: 'dapr-scheduler',
    command: bin,
    // biome-ignore format: each flag on one line with its value
    args: [
      '--mode', 'standalone',
      '--listen-address', '127.0.0.1',
      '--port', String(port),
      '--healthz-port', String(healthz),
      '--healthz-listen-address', '127.0.0.1',
      '--metrics-port', String(metrics),
      '--metrics-listen-address', '127.0.0.1',
      '--etcd-data-dir', path.join(dir, 'scheduler-etcd'),
      '--etcd-client-port', String(etcdClient),
      '--etcd-initial-cluster', `dapr-scheduler-server-0=http://127.0.0.1:${etcdPeer}`,
      '--log-level', infraSettings.daprLogLevel,
    ],
    cwd: dir,
    logFile: path.join(dir, 'scheduler.log'),
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${healthz}/healthz`)).ok, { timeoutMs: 60_000, what: 'dapr scheduler', component: 'dapr', proc });
  log('dapr', `scheduler ready in ${elapsed(t0)} (127.0.0.1:${port})`);
  return { address: `127.0.0.1:${port}`, proc, stop: () => proc.stop() };
}

if (isMain(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  if (cmd !== 'install') {
    process.stderr.write('usage: npx tsx packages/infra/src/dapr.ts install   # build daprd + scheduler into the cache\n');
    process.exit(2);
  }
  ensureDapr().then(
    (b) => process.stdout.write(`DAPRD=${b.daprd}\nDAPR_SCHEDULER=${b.scheduler}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
