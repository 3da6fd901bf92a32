/**
 * The shared PostgreSQL, Kafka and schema registry of `npm test`, run from the images built here
 * (images.ts) through testcontainers-node. The engine is whatever DOCKER_HOST names (Docker on
 * GitHub Actions); without it, podman's Docker-compatible API served on a socket of this run.
 *
 * Ryuk, testcontainers' reaper, is off: its image comes from a registry unreachable here. What it
 * would do is done by name instead: containers are `taskmesh-infra-<pid>-…`, removed by stop(), by
 * the exit and signal hooks of cache.ts, and, after a SIGKILL, by the next run's sweep.
 *
 *   tsx packages/infra/src/test-containers.ts up     starts the three, prints their env, stops on Ctrl-C
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { elapsed, freePorts, InfraError, isMain, log, onCleanup, runDir, spawnServer, waitFor, waitForever, type ServerProcess } from './cache.js';
import type { WaitStrategy } from 'testcontainers';
import type { InfraImages } from './images.js';
import { kafkaProbe } from './kafka.js';
import { ensurePodman, removeContainers, runPrefix, sweepStaleContainers } from './podman.js';
import { infraSettings } from './settings.js';

const C = 'containers';

export interface ContainerInfra {
  /** DATABASE_URL, KAFKA_BROKERS, SCHEMA_REGISTRY_URL (the registry's Confluent-compatible API) */
  env: { DATABASE_URL: string; KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string };
  /** seconds from `start` to ready, per container */
  readySeconds: Record<'postgres' | 'kafka' | 'registry', number>;
  stop(): Promise<void>;
}

/**
 * Ready when the probe, run from the host, says so: on the host network testcontainers has no mapped
 * ports to check, and the registry does not log Quarkus' start-up line.
 */
function probeWait(what: string, probe: () => Promise<boolean>): WaitStrategy {
  let timeoutMs = 300_000;
  let set = false;
  return {
    async waitUntilReady() {
      await waitFor(probe, { timeoutMs, what, component: C });
    },
    withStartupTimeout(ms: number) {
      timeoutMs = ms;
      set = true;
      return this;
    },
    isStartupTimeoutSet: () => set,
    getStartupTimeout: () => timeoutMs,
  };
}

/** podman's Docker API on a socket of this run, for as long as the run needs it. */
async function podmanSocket(): Promise<{ dockerHost: string; proc: ServerProcess }> {
  const env = await ensurePodman();
  const dir = path.join(runDir(), `podman-api-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'podman.sock');
  const proc = spawnServer({
    name: 'podman-api',
    command: 'podman',
    args: ['system', 'service', '--time=0', `unix://${socket}`],
    logFile: path.join(dir, 'podman-api.log'),
    env: { ...process.env, ...env },
  });
  await waitFor(() => fs.existsSync(socket), { timeoutMs: 30_000, what: "podman's API socket", component: C, proc });
  return { dockerHost: `unix://${socket}`, proc };
}

/**
 * Start PostgreSQL, Kafka (KRaft) and the schema registry from their images on the host network
 * (Kafka advertises the address clients dial, known before it starts), ready to use.
 */
export async function startContainerInfra(images: Pick<InfraImages, 'postgres' | 'kafka' | 'registry'>): Promise<ContainerInfra> {
  const t0 = Date.now();
  sweepStaleContainers('infra');
  const api = infraSettings.dockerHost ? undefined : await podmanSocket();
  if (api) process.env.DOCKER_HOST = api.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // testcontainers reads its settings when first imported, so it comes after the variables above
  const { GenericContainer } = await import('testcontainers');
  const prefix = runPrefix('infra');
  const removeAll = (): void => void removeContainers(prefix);
  const unregister = onCleanup({ async: async () => removeAll(), sync: removeAll });

  const [pgPort, kafkaPort, controllerPort, registryPort] = await freePorts(4);
  const password = 'taskmesh-tests';
  const databaseUrl = `postgres://postgres:${password}@127.0.0.1:${pgPort}/taskmesh`;
  const since = (t: number) => (Date.now() - t) / 1000;
  const container = (image: string, name: string) =>
    new GenericContainer(image)
      .withName(`${prefix}${name}`)
      .withNetworkMode('host')
      .withPullPolicy({ shouldPull: () => false })
      .withStartupTimeout(300_000);

  const startPostgres = async () => {
    const t = Date.now();
    // the settings of the native test server: durability off, room for every suite's pools
    const started = await container(images.postgres, 'postgres')
      .withEnvironment({ POSTGRES_DB: 'taskmesh', POSTGRES_PASSWORD: password })
      .withCommand(['-c', `port=${pgPort}`, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'])
      .withWaitStrategy(
        probeWait('PostgreSQL in its container', async () => {
          const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
          await client.connect();
          try {
            return (await client.query('SELECT 1 AS ok')).rows[0]?.ok === 1;
          } finally {
            await client.end();
          }
        }),
      )
      .start();
    return { started, seconds: since(t) };
  };
  const startKafka = async () => {
    const t = Date.now();
    const started = await container(images.kafka, 'kafka')
      .withEnvironment({ KAFKA_PORT: String(kafkaPort), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_ADVERTISED_HOST: '127.0.0.1' })
      .withWaitStrategy(probeWait('Kafka in its container', async () => (await kafkaProbe('127.0.0.1', kafkaPort!)).brokers >= 1))
      .start();
    return { started, seconds: since(t) };
  };
  const startRegistry = async () => {
    const t = Date.now();
    const started = await container(images.registry, 'registry')
      .withEnvironment({ QUARKUS_HTTP_HOST: '127.0.0.1', QUARKUS_HTTP_PORT: String(registryPort) })
      .withTmpFs({ '/tmp': 'rw' })
      .withWaitStrategy(
        probeWait('the schema registry in its container', async () => (await fetch(`http://127.0.0.1:${registryPort}/apis/ccompat/v7/subjects`, { signal: AbortSignal.timeout(2000) })).status === 200),
      )
      .start();
    return { started, seconds: since(t) };
  };

  const results = await Promise.allSettled([startPostgres(), startKafka(), startRegistry()]);
  const stop = async (): Promise<void> => {
    const t = Date.now();
    await Promise.allSettled(results.map((r) => (r.status === 'fulfilled' ? r.value.started.stop({ timeout: 10_000 }) : undefined)));
    removeAll();
    unregister();
    await api?.proc.stop();
    log(C, `stopped in ${elapsed(t)}`);
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason instanceof Error ? failed.reason : new InfraError(String(failed.reason));
  }
  const [postgres, kafka, registry] = results.map((r) => (r as PromiseFulfilledResult<{ seconds: number }>).value.seconds) as [number, number, number];
  log(C, `PostgreSQL, Kafka and the schema registry up in containers in ${elapsed(t0)} (ready after ${postgres.toFixed(1)} / ${kafka.toFixed(1)} / ${registry.toFixed(1)} s)`);
  return {
    env: { DATABASE_URL: databaseUrl, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registryPort}/apis/ccompat/v7` },
    readySeconds: { postgres, kafka, registry },
    stop,
  };
}

if (isMain(import.meta.url) && process.argv[2] === 'up') {
  const { ensureInfraImages } = await import('./images.js');
  const { tags } = await ensureInfraImages({ dapr: false });
  const infra = await startContainerInfra(tags);
  for (const [k, v] of Object.entries(infra.env)) process.stdout.write(`${k}=${v}\n`);
  await waitForever();
}
