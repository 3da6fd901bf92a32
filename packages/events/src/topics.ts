import type { DescMessage } from "@bufbuild/protobuf";
import { ReminderEventSchema, TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";

export interface TopicContract {
  topic: string;
  /** The one envelope message every value of the topic carries. */
  message: DescMessage;
}

/** The mesh's topic names: every producer and consumer names a topic through this. */
export const TOPIC = { taskEvents: "task-events", reminders: "reminders", taskUpdates: "task-updates" } as const;

/** Every topic of the mesh and its value message (docs/architecture.md, Events). */
export const TOPICS: readonly TopicContract[] = [
  { topic: TOPIC.taskEvents, message: TaskEventSchema },
  { topic: TOPIC.reminders, message: ReminderEventSchema },
  { topic: TOPIC.taskUpdates, message: TaskUpdateSchema },
];

/** The record header naming the event's case (created, updated, fired…): routing without decoding. */
export const EVENT_TYPE_HEADER = "event-type";

/** Where dead letters of a topic go. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export function topicContract(topic: string, table: readonly TopicContract[] = TOPICS): TopicContract {
  const contract = table.find((t) => t.topic === topic);
  if (!contract) throw new Error(`no contract for topic "${topic}" (known: ${table.map((t) => t.topic).join(", ")})`);
  return contract;
}

/** TopicNameStrategy: the value schema of a topic lives under `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The Confluent message-index path of a message in its file: indexes from the top level down. */
export function messageIndexes(message: DescMessage): number[] {
  const path: number[] = [];
  for (let m: DescMessage | undefined = message; m; m = m.parent) {
    const siblings: readonly DescMessage[] = m.parent ? m.parent.nestedMessages : m.file.messages;
    path.unshift(siblings.indexOf(m));
  }
  return path;
}
