import type { Logger } from "@taskmesh/kit";
import type { EventBus } from "./bus.js";
import { connectKafkaBus } from "./kafka-bus.js";
import { confluentSchemaRegistry, registerSchemas } from "./schema-registry.js";

/**
 * Cluster mode's bus from the environment: KAFKA_BROKERS (host:port, comma separated) and
 * SCHEMA_REGISTRY_URL (Confluent-compatible API, e.g. Apicurio's /apis/ccompat/v7). Undefined when
 * neither is set; an error naming the missing one when only one is.
 */
export async function kafkaBusFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<EventBus | undefined> {
  const brokers = env.KAFKA_BROKERS?.split(",").map((b) => b.trim()).filter(Boolean) ?? [];
  const registryUrl = env.SCHEMA_REGISTRY_URL;
  if (brokers.length === 0 && !registryUrl) return undefined;
  if (brokers.length === 0) throw new Error("SCHEMA_REGISTRY_URL is set but KAFKA_BROKERS is not: set both (host:port[,host:port])");
  if (!registryUrl) throw new Error("KAFKA_BROKERS is set but SCHEMA_REGISTRY_URL is not: set it to the registry's Confluent API URL");
  const schemaIds = await untilReachable(() => registerSchemas({ registry: confluentSchemaRegistry(registryUrl) }), registryUrl, logger);
  return connectKafkaBus({ brokers, schemaIds, logger });
}

const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|socket hang up|status 50[234]/;

/**
 * A registry that is still starting (a fresh cluster, a rolling restart) is waited for, up to
 * waitMs, instead of failing the service's start; a schema the registry refuses fails at once.
 */
async function untilReachable<T>(register: () => Promise<T>, registryUrl: string, logger: Logger, waitMs = 180_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await register();
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (!UNREACHABLE.test(message) || Date.now() > deadline) throw err;
      const retryInMs = Math.min(5_000, 250 * 2 ** attempt);
      logger.warn({ registryUrl, retryInMs, reason: message }, "schema registry not reachable yet; retrying");
      await new Promise((r) => setTimeout(r, retryInMs));
    }
  }
}
