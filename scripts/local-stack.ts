// `npm run stack`: cluster mode on one machine. PostgreSQL, Kafka and Apicurio Registry (the same
// scripts as `npm test`), a Dapr scheduler, and every service as its own process beside its own
// daprd. Services reach each other only through their sidecars and read their credentials through
// the Dapr secrets API (a local file store written here). Ctrl-C stops everything.
//
//   npm run stack                          # every service that exists in the tree
//   npm run stack -- --services=tasks,recurrence
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureKafkaTopics } from '@taskmesh/events';
import { startDaprMesh, type DaprMesh } from '@taskmesh/infra/dapr';
import { elapsed, InfraError, isMain, log, spawnServer, waitFor, waitForever, type ServerProcess } from '@taskmesh/infra/cache';
import { startStack } from '@taskmesh/infra/stack';

const root = path.resolve(import.meta.dirname, '..');

/** App id = folder = chart values key; ports as in the README. */
const SERVICES = [
  { appId: 'tasks', entry: 'services/tasks/src/main.ts', port: 8081 },
  { appId: 'recurrence', entry: 'services/recurrence/src/main.ts', port: 8082 },
  { appId: 'reminders', entry: 'services/reminders/src/main.ts', port: 8083 },
  { appId: 'audit', entry: 'services/audit/src/main.ts', port: 8084 },
  { appId: 'gateway', entry: 'gateway/src/main.ts', port: 8080 },
] as const;

export interface LocalStackOptions {
  /** app ids to start (default: every service whose main.ts exists) */
  services?: string[];
}

export interface LocalStack {
  mesh: DaprMesh;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const t0 = Date.now();
  const wanted = SERVICES.filter((s) => (opts.services ? opts.services.includes(s.appId) : fs.existsSync(path.join(root, s.entry))));
  const unknown = (opts.services ?? []).filter((id) => !SERVICES.some((s) => s.appId === id));
  if (unknown.length) throw new InfraError(`unknown service(s) ${unknown.join(', ')}; known: ${SERVICES.map((s) => s.appId).join(', ')}`);

  const infra = await startStack({ postgres: true, kafka: true, registry: true });
  const stops: (() => Promise<void>)[] = [() => infra.stopAll()];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    // the chart declares them as Strimzi KafkaTopics; consumers expect them to exist
    await ensureKafkaTopics({ brokers: [infra.env.KAFKA_BROKERS!] });
    const mesh = await startDaprMesh({
      scheduler: true,
      // what the chart keeps in the Kubernetes Secret "taskmesh"
      secrets: { DATABASE_URL: infra.env.DATABASE_URL!, TASKMESH_JWT_SECRET: randomBytes(32).toString('hex') },
    });
    stops.push(() => mesh.stop());
    const processes: ServerProcess[] = [];
    stops.push(async () => {
      await Promise.all(processes.map((p) => p.stop()));
    });

    const startService = async (svc: (typeof SERVICES)[number]): Promise<void> => {
      const ts = Date.now();
      const sidecar = await mesh.sidecar({ appId: svc.appId, appPort: svc.port, appProtocol: 'grpc', scheduler: true });
      const proc = spawnServer({
        name: svc.appId,
        command: process.execPath,
        args: ['--import', 'tsx', svc.entry],
        cwd: root,
        logFile: path.join(mesh.dir, `${svc.appId}.log`),
        env: {
          ...process.env,
          ...sidecar.env,
          PORT: String(svc.port),
          TASKMESH_TRANSPORT: 'dapr',
          KAFKA_BROKERS: infra.env.KAFKA_BROKERS,
          SCHEMA_REGISTRY_URL: infra.env.SCHEMA_REGISTRY_URL,
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        },
      });
      processes.push(proc);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${svc.port}/readyz`)).ok, {
        timeoutMs: 120_000,
        what: `${svc.appId} on port ${svc.port}`,
        component: 'stack',
        proc,
      });
      log('stack', `${svc.appId} ready on :${svc.port} with its daprd (grpc ${sidecar.grpcPort}, http ${sidecar.httpPort}) in ${elapsed(ts)}`);
    };
    // the task service first: the others call it as they start consuming
    const [first, ...rest] = wanted;
    if (first) await startService(first);
    await Promise.all(rest.map(startService));

    const urls = Object.fromEntries(wanted.map((s) => [s.appId, `http://127.0.0.1:${s.port}`]));
    log('stack', `cluster mode up in ${elapsed(t0)}; logs and sidecar files in ${mesh.dir}`);
    return { mesh, urls, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (isMain(import.meta.url)) {
  const services = process.argv
    .find((a) => a.startsWith('--services='))
    ?.slice('--services='.length)
    .split(',')
    .filter(Boolean);
  try {
    const stack = await startLocalStack({ services });
    for (const [appId, url] of Object.entries(stack.urls)) process.stdout.write(`${appId.padEnd(11)} ${url}\n`);
    process.stdout.write(`\nlogs: ${stack.mesh.dir}/<service>.log, daprd-<service>.log\nCtrl-C stops everything.\n`);
    await waitForever();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
