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
  const schemaIds = await registerSchemas({ registry: confluentSchemaRegistry(registryUrl) });
  return connectKafkaBus({ brokers, schemaIds, logger });
}
