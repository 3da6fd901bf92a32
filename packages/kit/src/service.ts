// The one way a deployable starts: its main.ts is `await runService(module, schema)`.
import type { z } from "zod";
import {
  ConfigError,
  defineConfig,
  processEnv,
  type AnyPiece,
  type Built,
  type BusSettings,
  type ConfigSchema,
  type Piece,
  type SecretsSettings,
  type ServerSettings,
  type TelemetrySettings,
} from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { resolveSecrets } from "./secrets.js";
import { drainOnSignals, startServer, type RunningServer, type ServiceModule } from "./server.js";
import { startTelemetry, stopTelemetry } from "./telemetry.js";

/**
 * What every deployable's schema holds: `telemetry` and `server`; `secrets` where credentials may
 * come from Dapr, `bus` where it uses Kafka.
 */
export type BasePieces = Record<string, AnyPiece> & {
  telemetry: Piece<z.ZodRawShape, TelemetrySettings>;
  server: Piece<z.ZodRawShape, ServerSettings & { host?: string }>;
};

type BaseConfig = { telemetry: TelemetrySettings; server: ServerSettings & { host?: string }; secrets?: SecretsSettings; bus?: BusSettings | undefined };
type Closable = { close(): Promise<void> };

/** A module with a server of its own (the gateway, the embedded app): its stop drains it. */
export interface SelfServedModule {
  server: RunningServer;
  stop(): Promise<void>;
}

export interface Deployable<C, Bus extends Closable = never> {
  /** The service name of its logs and traces. */
  name: string;
  /**
   * Opens Kafka from the bus settings (the events package's openKafkaBus: passed in, since that
   * package builds on this one). Without bus settings the deployable starts with events off and
   * logs `withoutBus` once: one rule for every deployable.
   */
  bus?: { open(settings: BusSettings, logger: Logger): Promise<Bus>; withoutBus: string };
  start(config: C, context: { logger: Logger; bus: Bus | undefined }): Promise<ServiceModule | SelfServedModule>;
}

/** Exit code of a start refused for its settings: not a crash, and restarting cannot help until they change. */
export const CONFIG_EXIT_CODE = 2;

/**
 * Configures (see configure), opens the bus, starts the module and its server, and drains on
 * SIGTERM/SIGINT.
 */
export async function runService<P extends BasePieces, Bus extends Closable = never>(module: Deployable<Built<P>, Bus>, schema: ConfigSchema<P>): Promise<void> {
  const { config, logger } = await configure(module.name, schema);
  try {
    const { server: serverSettings, bus: busSettings } = config as BaseConfig;
    let bus: Bus | undefined;
    if (module.bus && busSettings) bus = await module.bus.open(busSettings, logger);
    else if (module.bus) logger.warn({ off: module.bus.withoutBus }, "events off: KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set");
    const started = await module.start(config, { logger, bus });
    const server =
      "server" in started
        ? started.server
        : await startServer({ logger, services: started.services, routes: started.routes, drainDelayMs: serverSettings.drainDelayMs }, serverSettings.port, serverSettings.host);
    logger.info({ port: server.port, events: module.bus ? Boolean(bus) : undefined }, `${module.name} listening`);
    drainOnSignals("server" in started ? [] : [server], logger, async () => {
      await started.stop();
      await bus?.close();
    });
  } catch (err) {
    const { code, port } = err as NodeJS.ErrnoException & { port?: number };
    if (code === "EADDRINUSE") logger.fatal(`port ${port} is in use: stop the other process or start with PORT=<another port>`);
    else logger.fatal({ err }, `${module.name} did not start`);
    process.exit(1);
  }
}

/** A deployable that runs to completion (a release hook): exit 0 when done, 1 when it failed. */
export async function runJob<P extends Record<string, AnyPiece> & { telemetry: BasePieces["telemetry"] }>(
  job: { name: string; run(config: Built<P>, logger: Logger): Promise<void> },
  schema: ConfigSchema<P>,
): Promise<void> {
  const { config, logger } = await configure(job.name, schema);
  try {
    await job.run(config, logger);
  } catch (err) {
    logger.fatal({ err }, `${job.name} failed`);
    process.exitCode = 1;
  }
  await stopTelemetry();
}

/**
 * Telemetry and the logger from LOG_LEVEL and OTEL_*, credentials (resolveSecrets) where the
 * schema reads them, then the whole configuration; a refused one ends the process with exit 2.
 */
async function configure<P extends Record<string, AnyPiece> & { telemetry: BasePieces["telemetry"] }>(name: string, schema: ConfigSchema<P>): Promise<{ config: Built<P>; logger: Logger }> {
  const raw = processEnv();
  // What is needed before the rest can be read: how to log, and where credentials come from.
  const early = defineConfig(schema.name, { telemetry: schema.pieces.telemetry, ...(schema.pieces.secrets ? { secrets: schema.pieces.secrets } : {}) }).check(raw);
  if (early.problems) {
    const secretsPiece = schema.pieces.secrets;
    const fromDapr = secretsPiece && (defineConfig(schema.name, { secrets: secretsPiece }).check(raw).config?.secrets as SecretsSettings | undefined)?.source === "dapr";
    // Without credentials to come from Dapr the environment is all there is: every problem is listed at once.
    refuse(schema.name, fromDapr ? early.problems : (schema.check(raw).problems ?? early.problems), createLogger(name));
  }
  const { telemetry, secrets } = early.config as { telemetry: TelemetrySettings; secrets?: SecretsSettings };
  const logger = createLogger(name, telemetry.logLevel);
  let env = raw;
  try {
    await startTelemetry(name, logger, telemetry);
    if (secrets) env = await resolveSecrets(secrets, raw);
  } catch (err) {
    logger.fatal({ err }, `${name} did not start`);
    process.exit(1);
  }
  const checked = schema.check(env);
  if (checked.problems) refuse(schema.name, checked.problems, logger);
  return { config: checked.config, logger };
}

/** For people on stderr, for log pipelines as one line on stdout; no stack trace, nothing to retry. */
function refuse(name: string, problems: string[], logger: Logger): never {
  process.stderr.write(`${new ConfigError(name, problems).message}\n`);
  logger.fatal({ problems }, "configuration refused");
  process.exit(CONFIG_EXIT_CODE);
}
