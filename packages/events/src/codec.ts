import { fromBinary, type Message } from "@bufbuild/protobuf";
import type { SchemaIds } from "./schema-registry.js";
import { messageIndexes, topicContract, TOPICS, type TopicContract } from "./topics.js";
import { decodeFrame, encodeFrame, WireFormatError } from "./wire-format.js";

export interface DecodedValue {
  schemaId: number;
  message: Message;
}

/** Frames raw protobuf payloads of the topic table with registry ids, and decodes them back. */
export class EventCodec {
  readonly #topics: Map<string, { contract: TopicContract; schemaId: number; indexes: number[] }>;

  constructor(schemaIds: SchemaIds, topics: readonly TopicContract[] = TOPICS) {
    this.#topics = new Map(
      [...schemaIds].map(([topic, schemaId]) => {
        const contract = topicContract(topic, topics);
        return [topic, { contract, schemaId, indexes: messageIndexes(contract.message) }];
      }),
    );
  }

  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** `payload`: the protobuf binary of the topic's message, as the outbox stores it. */
  encode(topic: string, payload: Uint8Array): Uint8Array {
    const entry = this.#entry(topic);
    return encodeFrame(entry.schemaId, entry.indexes, payload);
  }

  /**
   * Decodes with the message this code was built with. The writer's schema id may be an older
   * version of the subject: BACKWARD compatibility is what makes that read safe.
   */
  decode(topic: string, bytes: Uint8Array): DecodedValue {
    const entry = this.#entry(topic);
    const frame = decodeFrame(bytes);
    if (frame.messageIndexes.join(",") !== entry.indexes.join(",")) {
      throw new WireFormatError(`message indexes [${frame.messageIndexes}] do not name ${entry.contract.message.typeName} ([${entry.indexes}])`);
    }
    return { schemaId: frame.schemaId, message: fromBinary(entry.contract.message, frame.payload) };
  }

  #entry(topic: string) {
    const entry = this.#topics.get(topic);
    if (!entry) throw new Error(`topic "${topic}" has no registered value schema`);
    return entry;
  }
}
