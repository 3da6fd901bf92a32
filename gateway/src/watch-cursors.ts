import { create } from "@bufbuild/protobuf";
import { WatchTasksResponseSchema, type WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

const PREFIX = "c1.";

/**
 * The change feed's positions as users see them. The feed is one sequence across all users, so its
 * raw numbers would tell anyone the volume of everybody's activity; a user gets each position
 * encrypted (AES-256 on one block: the position and a tag of the user), which orders nothing, means
 * nothing to anyone else and opens only for that user. The key derives from the gateway's secret,
 * the same on every replica.
 */
export class WatchCursors {
  readonly #key: Buffer;
  readonly #ownerKey: Buffer;

  constructor(secret: Uint8Array) {
    this.#key = Buffer.from(hkdfSync("sha256", secret, "", "taskmesh watch cursor", 32));
    this.#ownerKey = Buffer.from(hkdfSync("sha256", secret, "", "taskmesh watch cursor owner", 32));
  }

  seal(userId: string, position: string): string {
    const block = Buffer.alloc(16);
    block.writeBigUInt64BE(BigInt(position), 0);
    this.#owner(userId).copy(block, 8);
    const cipher = createCipheriv("aes-256-ecb", this.#key, null).setAutoPadding(false);
    return PREFIX + Buffer.concat([cipher.update(block), cipher.final()]).toString("base64url");
  }

  /** The feed position; undefined for a cursor that is not this user's (older plain numbers included). */
  open(userId: string, cursor: string): string | undefined {
    if (!cursor.startsWith(PREFIX)) return undefined;
    const body = cursor.slice(PREFIX.length);
    const sealed = Buffer.from(body, "base64url");
    if (sealed.length !== 16 || sealed.toString("base64url") !== body) return undefined;
    const decipher = createDecipheriv("aes-256-ecb", this.#key, null).setAutoPadding(false);
    const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
    if (!timingSafeEqual(block.subarray(8), this.#owner(userId))) return undefined;
    return block.readBigUInt64BE(0).toString();
  }

  #owner(userId: string): Buffer {
    return createHmac("sha256", this.#ownerKey).update(userId).digest().subarray(0, 8);
  }
}

/**
 * WatchTasks from a client's cursor, yielding the feed's own positions: a cursor that does not open
 * for this user is read from now on, after a resyncRequired (the client refetches its lists).
 */
export async function* watchFrom(cursors: WatchCursors, userId: string, clientCursor: string, watch: (position: string) => AsyncIterable<WatchTasksResponse>): AsyncGenerator<WatchTasksResponse> {
  const position = clientCursor ? cursors.open(userId, clientCursor) : "";
  let first = position === undefined;
  for await (const message of watch(position ?? "")) {
    if (first) {
      first = false;
      if (message.change.case !== "resyncRequired") yield create(WatchTasksResponseSchema, { cursor: message.cursor, change: { case: "resyncRequired", value: {} } });
    }
    yield message;
  }
}

/** The same message with its position sealed for `userId`. */
export function sealed(cursors: WatchCursors, userId: string, message: WatchTasksResponse): WatchTasksResponse {
  return { ...message, cursor: cursors.seal(userId, message.cursor) };
}
