import type { Wakeup } from "./wakeup.js";

export interface LogRow {
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A statement on the log's database, in a transaction of its own. */
export type LogQuery = <Row>(sql: string, params: readonly unknown[]) => Promise<Row[]>;

/**
 * Reads of the event log shared by the readers of one process: every group's reader of a topic
 * wakes on the same signal at the topic's end and would read the same rows in a round trip of its
 * own; one read serves every reader that asks for the same rows while it runs.
 */
export class SharedLog {
  readonly #reads = new Map<string, { generation: number; rows: Promise<LogRow[]> }>();

  constructor(
    private readonly query: LogQuery,
    private readonly wakeup: (topic: string) => Wakeup,
  ) {}

  /**
   * Up to `limit` rows of `topic` from `position`. `seen` is the wake-up generation the reader
   * noted before it looked for work: a read under way is joined only if it began after every
   * signal the reader saw, so it holds every row those signals announced.
   */
  read(topic: string, position: bigint, limit: number, seen: number): Promise<LogRow[]> {
    const key = `${topic}\u0000${position}\u0000${limit}`;
    const running = this.#reads.get(key);
    if (running && seen <= running.generation) return running.rows;
    const rows = this.query<LogRow>(`SELECT "offset"::text AS "offset", key, value, headers FROM events.log l WHERE l.topic = $1 AND l."offset" >= $2 ORDER BY l."offset" LIMIT $3`, [
      topic,
      position.toString(),
      limit,
    ]).finally(() => {
      if (this.#reads.get(key)?.rows === rows) this.#reads.delete(key);
    });
    this.#reads.set(key, { generation: this.wakeup(topic).generation, rows });
    return rows;
  }
}
