export type { ConsumedEvent, EventBus, EventRecord, MessagingSystem, RetryOptions, SubscribeOptions, Subscription } from "./bus.js";
export { EventCodec, type DecodedValue } from "./codec.js";
export { DLQ_HEADERS } from "./deliver.js";
export { openEmbeddedBus, EVENTS_CHANNEL, type EmbeddedBusOptions } from "./embedded/embedded-bus.js";
export { localSchemaRegistry } from "./embedded/local-registry.js";
export { eventLogMigrations, EVENTS_SCHEMA } from "./embedded/migrations.js";
export { OutboxEntry, ProcessedEvent } from "./entities.js";
export type { KafkaBusOptions, KafkaTopicsOptions } from "./kafka-bus.js";
export { claimEventIds, claimEventIdsStatement, processedEventsMigration, type ConsumerName } from "./processed-events.js";
export { DAY_MS, eventLogPruned, processedEventsPruned, prunedByStatement, RetentionJob, type Pruned, type RetentionOptions } from "./retention.js";
export { DEFAULT_PROTO_ROOTS } from "./proto-sources.js";
export {
  confluentSchemaRegistry,
  registerSchemas,
  SchemaRefusedError,
  type Compatibility,
  type RegisteredSchema,
  type RegisterSchemasOptions,
  type SchemaDefinition,
  type SchemaIds,
  type SchemaReference,
  type SchemaRegistryClient,
} from "./schema-registry.js";
export { deadLetterTopic, EVENT_TYPE_HEADER, messageIndexes, TOPIC, TOPICS, topicContract, valueSubject, type TopicContract } from "./topics.js";
export { decodeFrame, encodeFrame, encodeMessageIndexes, WireFormatError, type Frame } from "./wire-format.js";
export { connectKafkaBus, ensureKafkaTopics, openKafkaBus } from "./open-kafka-bus.js";
export { OutboxRelay, outboxMigration, writeOutbox, type Outbox, type OutboxRelayOptions, type OutboxSink } from "./outbox-relay.js";
