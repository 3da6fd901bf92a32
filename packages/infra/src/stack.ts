/**
 * Start any combination of Postgres / Kafka / Apicurio in parallel.
 *
 *   tsx packages/infra/src/stack.ts up [--no-postgres] [--no-kafka] [--no-registry] [--write-env=PATH]
 *       prints DATABASE_URL / KAFKA_BROKERS / SCHEMA_REGISTRY_URL on stdout, stays up until Ctrl-C
 *   tsx packages/infra/src/stack.ts stop|status|smoke|install
 */
import * as fs from 'node:fs';
import { InfraError, elapsed, isMain, log } from './cache.js';
import { ensureApicurioInstalled, startApicurio } from './apicurio.js';
import type { ApicurioHandle } from './apicurio.js';
import { ensureKafkaInstalled, kafkaProbe, startKafka } from './kafka.js';
import type { KafkaHandle } from './kafka.js';
import { ensurePostgresInstalled, startPostgres } from './postgres.js';
import type { PostgresHandle } from './postgres.js';
import { serviceCli } from './cli.js';

export interface StackOptions {
  postgres?: boolean;
  kafka?: boolean;
  registry?: boolean;
}

export interface Stack {
  postgres?: PostgresHandle;
  kafka?: KafkaHandle;
  registry?: ApicurioHandle;
  /** DATABASE_URL, KAFKA_BROKERS, SCHEMA_REGISTRY_URL for the started services */
  env: Record<string, string>;
  stopAll(): Promise<void>;
}

/** Start the requested services in parallel (all three when opts is omitted). If one fails, the others are stopped. */
export async function startStack(opts: StackOptions = { postgres: true, kafka: true, registry: true }): Promise<Stack> {
  const t0 = Date.now();
  const [pg, kafka, registry] = await Promise.allSettled([
    opts.postgres ? startPostgres() : Promise.resolve(undefined),
    opts.kafka ? startKafka() : Promise.resolve(undefined),
    opts.registry ? startApicurio() : Promise.resolve(undefined),
  ]);
  const started = [pg, kafka, registry].flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  const failures = [pg, kafka, registry].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length) {
    await Promise.allSettled(started.map((h) => h.stop()));
    const msg = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n');
    throw new InfraError(`stack start failed:\n${msg}`);
  }
  const stack: Stack = {
    env: {},
    async stopAll() {
      await Promise.allSettled(started.map((h) => h.stop()));
    },
  };
  if (pg.status === 'fulfilled' && pg.value) {
    stack.postgres = pg.value;
    stack.env.DATABASE_URL = pg.value.url;
  }
  if (kafka.status === 'fulfilled' && kafka.value) {
    stack.kafka = kafka.value;
    stack.env.KAFKA_BROKERS = kafka.value.bootstrap;
  }
  if (registry.status === 'fulfilled' && registry.value) {
    stack.registry = registry.value;
    stack.env.SCHEMA_REGISTRY_URL = registry.value.ccompatUrl;
  }
  log('stack', `up in ${elapsed(t0)}: ${Object.keys(stack.env).join(', ') || '(nothing requested)'}`);
  return stack;
}

function optsFromArgv(argv: string[]): StackOptions {
  const only = argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  const want = (n: string): boolean => (only ? only.includes(n) : !argv.includes(`--no-${n}`));
  return { postgres: want('postgres'), kafka: want('kafka'), registry: want('registry') };
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opts = optsFromArgv(argv);
  const envFile = argv.find((a) => a.startsWith('--write-env='))?.slice(12);
  await serviceCli(
    'stack',
    {
      install: async () => {
        await Promise.all([opts.postgres ? ensurePostgresInstalled() : undefined, opts.kafka ? ensureKafkaInstalled() : undefined, opts.registry ? ensureApicurioInstalled() : undefined]);
      },
      start: async () => {
        const s = await startStack(opts);
        if (envFile)
          fs.writeFileSync(
            envFile,
            Object.entries(s.env)
              .map(([k, v]) => `${k}=${v}\n`)
              .join(''),
          );
        return { env: s.env, stop: () => s.stopAll() };
      },
      smoke: async () => {
        const s = await startStack(opts);
        try {
          if (s.kafka) {
            const r = await kafkaProbe('127.0.0.1', s.kafka.port);
            log('stack', `kafka ok (${r.apiKeys} api keys)`);
          }
          if (s.registry) {
            const res = await fetch(`${s.registry.ccompatUrl}/subjects`);
            log('stack', `registry ok (HTTP ${res.status})`);
          }
        } finally {
          await s.stopAll();
        }
      },
    },
    argv[0] === 'up' ? ['start', ...argv.slice(1)] : argv,
  );
}
