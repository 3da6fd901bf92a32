// Opens, in a child process, the same bus a test fixture opened (see BusFixture.childEnv).
import { confluentSchemaRegistry, connectKafkaBus, openEmbeddedBus, registerSchemas, type EventBus } from "../src/index.js";
import { requireEnv, topicTableFromEnv } from "./fixtures.js";

export async function openBusFromEnv(): Promise<EventBus> {
  const topics = topicTableFromEnv(requireEnv("CHILD_TOPICS"));
  if (requireEnv("CHILD_BUS") === "embedded") {
    return openEmbeddedBus({ url: requireEnv("CHILD_BUS_URL"), topics, leaseMs: Number(requireEnv("CHILD_LEASE_MS")) });
  }
  const schemaIds = await registerSchemas({ registry: confluentSchemaRegistry(requireEnv("CHILD_REGISTRY")), topics });
  return connectKafkaBus({ brokers: [requireEnv("CHILD_BROKERS")], schemaIds, topics, sessionTimeoutMs: Number(requireEnv("CHILD_SESSION_TIMEOUT_MS")) });
}
