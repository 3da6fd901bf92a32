import type { BusSettings, Logger } from "@taskmesh/kit";
import type { EventBus } from "./bus.js";
import type { KafkaBusOptions, KafkaTopicsOptions } from "./kafka-bus.js";
import { confluentSchemaRegistry, registerSchemas } from "./schema-registry.js";

// kafkajs is loaded by the first Kafka bus or topic check, not with the package: the embedded app,
// which imports this package for its own bus, never opens one.

/** A bus on Kafka at the given brokers, publishing with the given schema ids. */
export async function connectKafkaBus(options: KafkaBusOptions): Promise<EventBus> {
  return (await import("./kafka-bus.js")).connectKafkaBus(options);
}

/** Creates the topics and their `.dlq` topics where missing (existing ones are left as they are). */
export async function ensureKafkaTopics(options: KafkaTopicsOptions): Promise<void> {
  return (await import("./kafka-bus.js")).ensureKafkaTopics(options);
}

/** Cluster mode's bus: Kafka at the bus settings' brokers, the event schemas registered in their registry. */
export async function openKafkaBus({ brokers, registryUrl }: BusSettings, logger: Logger): Promise<EventBus> {
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
