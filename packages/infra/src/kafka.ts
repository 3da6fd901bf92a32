/**
 * Single-node Apache Kafka (KRaft, combined broker+controller) from Maven Central jars.
 *
 * The jars are resolved once per version with Maven (packages/infra/src/kafka/pom.xml) into
 * `<cache>/kafka-<version>/libs` and run with `java -cp 'libs/*' kafka.Kafka`.
 *
 *   tsx packages/infra/src/kafka.ts start|stop|status|smoke|install
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraError, appCds, cacheDir, elapsed, freePorts, isMain, java, log, rmrf, run, serviceDir, serviceGuard, spawnServer, waitFor, which, withLock } from './cache.js';
import type { ServerProcess } from './cache.js';
import { serviceCli } from './cli.js';
import { infraSettings } from './settings.js';

const C = 'kafka';

/** Override with TASKMESH_KAFKA_VERSION (any 4.x on Maven Central). */
export const KAFKA_VERSION = infraSettings.kafkaVersion;

export interface KafkaHandle {
  /** "127.0.0.1:PORT" */
  bootstrap: string;
  port: number;
  controllerPort: number;
  clusterId: string;
  dataDir: string;
  logFile: string;
  /** SIGTERM (or `signal`) the broker, wait for exit, start it again on the same ports and data dir */
  restart(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  /** extra / overriding server.properties entries */
  properties?: Record<string, string | number | boolean>;
  /** JVM heap flags (default -Xms256m -Xmx768m) */
  heap?: string[];
  /**
   * More plaintext listeners, each advertising its own address: a client that bootstraps through
   * one (a proxy in front of it) is told that address, so all its traffic keeps taking that path.
   */
  listeners?: { name: string; port: number; advertised: string }[];
}

const POM = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));

/** Resolve kafka_2.13 + runtime deps into the cache (once per version); returns the libs dir. */
export async function ensureKafkaInstalled(version = KAFKA_VERSION): Promise<string> {
  const base = cacheDir(`kafka-${version}`);
  const libs = path.join(base, 'libs');
  const marker = path.join(base, '.complete');
  if (fs.existsSync(marker)) return libs;
  return withLock(`kafka-${version}`, async () => {
    if (fs.existsSync(marker)) return libs;
    const mvn = which('mvn');
    if (!mvn) throw new InfraError('mvn not found (needed once to resolve Kafka jars from Maven Central). Next: apt-get install -y maven');
    java(17, `Kafka ${version}`);
    const t0 = Date.now();
    const tmp = path.join(base, `libs.tmp-${process.pid}`);
    rmrf(tmp);
    const logFile = path.join(base, 'mvn.log');
    log(C, `resolving org.apache.kafka:kafka_2.13:${version} + runtime deps with Maven (log: ${logFile})`);
    await run(
      mvn,
      ['-q', '-B', '-f', POM, `-Dkafka.version=${version}`, `-Dmaven.repo.local=${cacheDir('m2')}`, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`],
      { logFile, component: C, what: 'mvn dependency:copy-dependencies' },
    ).catch((e: unknown) => {
      throw new InfraError(
        `${(e as Error).message}\n  Next: check Maven Central access (curl -I https://repo1.maven.org/maven2/) and that ` +
          `org.apache.kafka:kafka_2.13:${version} exists; rerun (the cache entry is only written on success).`,
      );
    });
    const jars = fs.readdirSync(tmp).filter((f) => f.endsWith('.jar'));
    if (!jars.includes(`kafka_2.13-${version}.jar`)) throw new InfraError(`Maven did not produce kafka_2.13-${version}.jar in ${tmp}`);
    rmrf(libs);
    fs.renameSync(tmp, libs);
    fs.writeFileSync(marker, `${jars.sort().join('\n')}\n`);
    log(C, `Kafka ${version}: ${jars.length} jars cached in ${elapsed(t0)}`);
    return libs;
  });
}

// ---------------------------------------------------------------------------
// raw Kafka protocol readiness probe (ApiVersions v2 + Metadata v4, non-flexible encodings)

function kafkaRequest(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('taskmesh-infra');
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientId.length + body.length);
  return Buffer.concat([size, header, clientId, body]);
}

export interface KafkaProbeResult {
  /** number of API keys the broker advertises */
  apiKeys: number;
  /** brokers in the Metadata response */
  brokers: number;
}

/**
 * Connect, send ApiVersions (v2) and Metadata (v4, no topics), parse both responses.
 * Resolves only when the broker answers ApiVersions without error and lists >= 1 broker.
 */
export function kafkaProbe(host: string, port: number, timeoutMs = 3000): Promise<KafkaProbeResult> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let apiKeys = -1;
    const done = (err?: Error, res?: KafkaProbeResult): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => done(new Error(`no Kafka response from ${host}:${port} within ${timeoutMs}ms`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(kafkaRequest(18, 2, 1, Buffer.alloc(0))));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const corr = frame.readInt32BE(0);
        if (corr === 1) {
          const errorCode = frame.readInt16BE(4);
          if (errorCode !== 0) return done(new Error(`ApiVersions error_code ${errorCode}`));
          apiKeys = frame.readInt32BE(6);
          // Metadata v4: topics = [] (int32 0), allow_auto_topic_creation = false
          sock.write(kafkaRequest(3, 4, 2, Buffer.from([0, 0, 0, 0, 0])));
        } else if (corr === 2) {
          const brokers = frame.readInt32BE(8); // after correlation_id + throttle_time_ms
          if (brokers < 1) return done(new Error('Metadata lists no brokers yet'));
          return done(undefined, { apiKeys, brokers });
        }
      }
    });
  });
}

// ---------------------------------------------------------------------------

function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const LOG4J2_XML = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="stdout"/></Root>
    <Logger name="org.apache.kafka.common.config.AbstractConfig" level="warn"/>
    <Logger name="state.change.logger" level="warn"/>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="warn"/>
  </Loggers>
</Configuration>
`;

/** Format a fresh KRaft log dir and start a combined broker+controller on free 127.0.0.1 ports. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const t0 = Date.now();
  const libs = await ensureKafkaInstalled();
  const javaBin = java(17, `Kafka ${KAFKA_VERSION}`);
  const dir = serviceDir('kafka');
  const guard = serviceGuard(C, dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'kafka.log');
  const propsFile = path.join(dir, 'server.properties');
  const log4j = path.join(dir, 'log4j2.xml');
  fs.writeFileSync(log4j, LOG4J2_XML);
  const clusterId = randomClusterId();
  const jvm = [
    ...(opts.heap ?? ['-Xms256m', '-Xmx768m']),
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${dir}`,
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${dir}`,
    '-cp',
    `${libs}/*`,
  ];

  let port = 0;
  let controllerPort = 0;
  let proc: ServerProcess | undefined;

  const spawnBroker = (): ServerProcess => {
    const cds = appCds(`kafka-${KAFKA_VERSION}`);
    const p = spawnServer({
      name: C,
      command: javaBin,
      args: [...cds.args, ...jvm, 'kafka.Kafka', propsFile],
      logFile,
      cwd: dir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 30_000,
    });
    void p.exitPromise.then(() => cds.afterExit(everReady));
    guard.proc = p;
    return p;
  };

  let everReady = false;
  const waitReady = async (p: ServerProcess, what: string): Promise<void> => {
    await waitFor(async () => (await kafkaProbe('127.0.0.1', port)).brokers >= 1, {
      timeoutMs: 120_000,
      what,
      intervalMs: 250,
      component: C,
      proc: p,
    });
    everReady = true;
  };

  try {
    for (let attempt = 1; ; attempt++) {
      [port, controllerPort] = (await freePorts(2)) as [number, number];
      const extra = opts.listeners ?? [];
      const props: Record<string, string | number | boolean> = {
        'process.roles': 'broker,controller',
        'node.id': 1,
        'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
        listeners: [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`, ...extra.map((l) => `${l.name}://127.0.0.1:${l.port}`)].join(','),
        'advertised.listeners': [`PLAINTEXT://127.0.0.1:${port}`, ...extra.map((l) => `${l.name}://${l.advertised}`)].join(','),
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': ['PLAINTEXT', 'CONTROLLER', ...extra.map((l) => l.name)].map((n) => `${n}:PLAINTEXT`).join(','),
        'log.dirs': dataDir,
        'auto.create.topics.enable': true,
        'num.partitions': 3,
        'default.replication.factor': 1,
        'offsets.topic.replication.factor': 1,
        'offsets.topic.num.partitions': 3,
        'transaction.state.log.replication.factor': 1,
        'transaction.state.log.min.isr': 1,
        'transaction.state.log.num.partitions': 3,
        'share.coordinator.state.topic.replication.factor': 1,
        'share.coordinator.state.topic.min.isr': 1,
        'group.initial.rebalance.delay.ms': 0,
        'num.network.threads': 2,
        'num.io.threads': 4,
        ...opts.properties,
      };
      fs.writeFileSync(
        propsFile,
        `${Object.entries(props)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
      if (attempt === 1) {
        const tf = Date.now();
        await run(
          javaBin,
          [
            '-Xmx256m',
            '-XX:TieredStopAtLevel=1',
            '-Xshare:auto',
            `-Dlog4j2.configurationFile=${log4j}`,
            '-cp',
            `${libs}/*`,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            propsFile,
            '--standalone',
          ],
          {
            cwd: dir,
            logFile,
          },
        ).catch((e: unknown) => {
          throw new InfraError(`kafka storage format failed: ${(e as Error).message}\n  Next: check ${logFile}; delete ${cacheDir(`kafka-${KAFKA_VERSION}`)} to force re-resolving the jars.`);
        });
        log(C, `storage formatted (cluster ${clusterId}) in ${elapsed(tf)}`);
      }
      proc = spawnBroker();
      try {
        await waitReady(proc, `Kafka broker on 127.0.0.1:${port}`);
        break;
      } catch (e) {
        if (attempt < 3 && /Address already in use/.test(proc.logTail(60))) {
          log(C, `port ${port}/${controllerPort} was taken, retrying with other ports`);
          await proc.stop();
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    await guard.fail();
    throw e;
  }
  log(C, `Kafka ${KAFKA_VERSION} ready on 127.0.0.1:${port} in ${elapsed(t0)}`);

  let current: ServerProcess = proc;
  let stopped = false;
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    controllerPort,
    clusterId,
    dataDir,
    logFile,
    async restart({ signal } = {}) {
      if (stopped) throw new InfraError('kafka.restart() after stop()');
      const tr = Date.now();
      await current.stop(signal && { signal });
      log(C, `broker stopped in ${elapsed(tr)}, starting again on 127.0.0.1:${port}`);
      current = spawnBroker();
      try {
        await waitReady(current, `restarted Kafka broker on 127.0.0.1:${port}`);
      } catch (e) {
        // a just-closed port can linger briefly; one retry
        if (/Address already in use/.test(current.logTail(60))) {
          await current.stop();
          await new Promise((r) => setTimeout(r, 2000));
          current = spawnBroker();
          await waitReady(current, `restarted Kafka broker on 127.0.0.1:${port}`);
        } else throw e;
      }
      log(C, `restarted in ${elapsed(tr)}`);
    },
    async stop() {
      stopped = true;
      await guard.shutdown();
    },
  };
}

/** Smoke test: start, ApiVersions+Metadata handshake, restart on same port, handshake again, stop. */
export async function smokeKafka(): Promise<void> {
  const k = await startKafka();
  try {
    const r1 = await kafkaProbe('127.0.0.1', k.port);
    log(C, `smoke: ApiVersions ok (${r1.apiKeys} api keys), Metadata lists ${r1.brokers} broker(s)`);
    await k.restart();
    const r2 = await kafkaProbe('127.0.0.1', k.port);
    log(C, `smoke: after restart on ${k.bootstrap}: ${r2.apiKeys} api keys, ${r2.brokers} broker(s)`);
  } finally {
    await k.stop();
  }
}

if (isMain(import.meta.url)) {
  await serviceCli('kafka', {
    install: async () => {
      const libs = await ensureKafkaInstalled();
      log(C, `Kafka ${KAFKA_VERSION} jars in ${libs}`);
    },
    start: async () => {
      const k = await startKafka();
      return { env: { KAFKA_BROKERS: k.bootstrap }, stop: () => k.stop() };
    },
    smoke: smokeKafka,
  });
}
