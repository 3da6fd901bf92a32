// The gateway as its own process (cluster mode): PORT (8080), DATABASE_URL (accounts, schema
// `auth`), TASKMESH_JWT_SECRET, KAFKA_BROKERS + SCHEMA_REGISTRY_URL (live sync), and the services
// at TASKS_URL, RECURRENCE_URL, AUDIT_URL, … (see mesh.ts).
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startTelemetry } from "@taskmesh/kit";
import { hostname } from "node:os";
import { jwtSecret } from "./auth/index.js";
import { edgeSettings } from "./config.js";
import { startGateway } from "./gateway.js";
import { clusterUpstreams } from "./mesh.js";
import { resolveSecrets } from "@taskmesh/transport";

const logger = createLogger("gateway");
await startTelemetry("gateway", logger);
// Credentials (DATABASE_URL, TASKMESH_JWT_SECRET) from the Dapr secrets API beside a sidecar.
const env = await resolveSecrets();

function fail(message: string): never {
  logger.fatal(message);
  process.exit(2);
}

const databaseUrl = env.DATABASE_URL ?? fail("DATABASE_URL is not set: point it at PostgreSQL (postgres://user@host:5432/db)");
const { upstreams, missing } = clusterUpstreams(env);
if (missing.includes("TASKS_URL")) fail("TASKS_URL is not set: the gateway needs the task service (e.g. http://tasks:8080)");
if (missing.length > 0) logger.warn({ missing }, "services without a URL are not exposed");
const bus = (await kafkaBusFromEnv(logger, env)) ?? fail("KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set: live sync consumes task-updates from Kafka");
const settings = edgeSettings(env);

const gateway = await startGateway({
  logger,
  port: Number(env.PORT ?? 8080),
  upstreams,
  auth: { databaseUrl, jwtSecret: jwtSecret(env, undefined), secureCookie: settings.secureCookie, trustedProxies: settings.trustedProxies, email: settings.email },
  bus,
  // Each replica reads every change for the sockets it holds: one consumer group per replica.
  replicaId: env.GATEWAY_REPLICA_ID ?? hostname(),
  allowedOrigins: settings.allowedOrigins,
  allowedHosts: settings.allowedHosts,
  metricsPort: settings.metricsPort,
  webDir: env.TASKMESH_WEB_DIR,
  drainDelayMs: Number(env.DRAIN_DELAY_MS ?? 0),
});
logger.info({ port: gateway.server.port, services: upstreams.flatMap((u) => u.services.map((s) => s.typeName)) }, "gateway listening");
drainOnSignals([], logger, async () => {
  await gateway.stop();
  await bus.close();
});
