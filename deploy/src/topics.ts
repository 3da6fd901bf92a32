// The chart's kafka-topics Job (values-local.yaml, kafka.inCluster): creates every event topic and
// its .dlq where missing, as Strimzi's Topic Operator does from KafkaTopic resources on a managed
// cluster. The services wait for their topics, so it may run beside them; it retries until the
// broker answers (the Job's backoffLimit and activeDeadlineSeconds bound it).
//
// KAFKA_BROKERS (host:port, comma separated), KAFKA_TOPIC_PARTITIONS (default 3). Exits 0 when done.
import { ensureKafkaTopics } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";

const logger = createLogger("kafka-topics");
const brokers = process.env.KAFKA_BROKERS?.split(",").map((b) => b.trim()).filter(Boolean) ?? [];
const partitions = Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 3);

try {
  if (brokers.length === 0) throw new Error("set KAFKA_BROKERS (host:port[,host:port])");
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`KAFKA_TOPIC_PARTITIONS must be a positive integer, got "${process.env.KAFKA_TOPIC_PARTITIONS}"`);
  await ensureKafkaTopics({ brokers, partitions });
  logger.info({ brokers, partitions }, "Kafka topics exist");
} catch (err) {
  logger.fatal({ err }, "creating the Kafka topics failed");
  process.exitCode = 1;
}
