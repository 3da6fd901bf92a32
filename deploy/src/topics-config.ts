// The chart's kafka-topics Job's settings (deploy/src/topics.ts).
import { defineConfig, list, required, telemetrySettings, values, wholeNumber, withDefault } from "@taskmesh/kit";

export const topicsConfig = defineConfig("kafka-topics", {
  telemetry: telemetrySettings,
  kafka: values({
    KAFKA_BROKERS: required(list, "the Kafka bootstrap brokers, host:port"),
    KAFKA_TOPIC_PARTITIONS: withDefault(wholeNumber(1, 1000), 3, "partitions of each event topic (and its .dlq) it creates; existing topics are left as they are"),
  }),
});
