// The chart's kafka-topics Job (values-local.yaml, kafka.inCluster): creates every event topic and
// its .dlq where missing, as Strimzi's Topic Operator does from KafkaTopic resources on a managed
// cluster. The services wait for their topics, so it may run beside them; it retries until the
// broker answers (the Job's backoffLimit and activeDeadlineSeconds bound it).
//
// Its settings: ./topics-config.ts (README, Settings). Exits 0 when done, 1 on failure, 2 when its
// settings are refused.
import { ensureKafkaTopics } from "@taskmesh/events";
import { runJob } from "@taskmesh/kit";
import { topicsConfig } from "./topics-config.js";

await runJob(
  {
    name: "kafka-topics",
    async run(config, logger) {
      const brokers = config.kafka.KAFKA_BROKERS;
      const partitions = config.kafka.KAFKA_TOPIC_PARTITIONS;
      await ensureKafkaTopics({ brokers, partitions });
      logger.info({ brokers, partitions }, "Kafka topics exist");
    },
  },
  topicsConfig,
);
