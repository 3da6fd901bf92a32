// Topics just created, as a broker may answer about them for a moment (KRaft spreads metadata
// asynchronously): the wait for their leaders keeps asking through retriable answers and gives up on
// the others. The admin is a stand-in answering in turn what a broker answered.
import assert from "node:assert/strict";
import { KafkaJSNonRetriableError, KafkaJSProtocolError, type Admin } from "kafkajs";
import { test } from "vitest";
import { leadersElected } from "../src/kafka-bus.js";

type Metadata = Awaited<ReturnType<Admin["fetchTopicMetadata"]>>;

// What kafkajs makes of the broker's UNKNOWN_TOPIC_OR_PARTITION (code 3), a retriable error.
const unknownTopic = () => new KafkaJSProtocolError(Object.assign(new Error("This server does not host this topic-partition"), { type: "UNKNOWN_TOPIC_OR_PARTITION", code: 3, retriable: true }));
const withLeader = (leader: number): Metadata => ({
  topics: [{ name: "t", partitions: [{ partitionErrorCode: 0, partitionId: 0, leader, replicas: [1], isr: [1] }] }],
});

function admin(answers: (Metadata | Error)[]) {
  const asked: number[] = [];
  return {
    asked,
    fetchTopicMetadata: async () => {
      asked.push(Date.now());
      const answer = answers[Math.min(asked.length - 1, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

test("a topic the broker does not know yet, then without a leader, is waited for until it has one", async () => {
  const a = admin([unknownTopic(), unknownTopic(), withLeader(-1), withLeader(1)]);
  await leadersElected(a, ["t"], 5_000);
  assert.equal(a.asked.length, 4);
});

test("an answer that retrying cannot change fails at once", async () => {
  const a = admin([new KafkaJSNonRetriableError("Invalid topic")]);
  await assert.rejects(leadersElected(a, ["t"], 5_000), /Invalid topic/);
  assert.equal(a.asked.length, 1);
});

test("a topic still unknown when the time is up fails, saying what the broker answered", async () => {
  const a = admin([unknownTopic()]);
  await assert.rejects(leadersElected(a, ["t"], 300), /Kafka topics t not ready within 0.3 s: This server does not host this topic-partition/);
});
