import { GroupCommit } from "@taskmesh/kit";
import type { Wakeup } from "./wakeup.js";

export interface LogRow {
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A group member's move of its group's position on a topic, renewing its lease. */
export interface OffsetCommit {
  group: string;
  topic: string;
  owner: string;
  next: bigint;
  leaseSeconds: number;
}

/** A statement on the log's database, in a transaction of its own. */
export type LogQuery = <Row>(sql: string, params: readonly unknown[]) => Promise<Row[]>;

/**
 * The event log as the readers of one process reach it, their statements shared. Every group's
 * reader of a topic wakes on the same signal at the topic's end, so they would read the same rows
 * and each move its group's position in a round trip of its own: here one read serves every reader
 * that asks for the same rows while it runs, and the moves made while one is under way go
 * together in the next statement.
 */
export class SharedLog {
  readonly #reads = new Map<string, { generation: number; rows: Promise<LogRow[]> }>();
  readonly #commits: GroupCommit<OffsetCommit, bigint | undefined>;

  constructor(
    private readonly query: LogQuery,
    private readonly wakeup: (topic: string) => Wakeup,
  ) {
    this.#commits = new GroupCommit((commits) => this.#commitNow(commits));
  }

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

  /**
   * Moves the group's position to `next` and renews the lease, if `owner` still holds it: the
   * topic's lag after the move, or undefined when another member took the topic over.
   */
  async commit(commit: OffsetCommit): Promise<bigint | undefined> {
    const [lag] = await this.#commits.submit([commit]);
    return lag;
  }

  async #commitNow(commits: OffsetCommit[]): Promise<(bigint | undefined)[]> {
    const rows = await this.query<{ i: number; lag: string }>(
      `UPDATE events.group_offsets g SET next_offset = c.next, lease_until = now() + make_interval(secs => c.lease)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[]) WITH ORDINALITY AS c(group_id, topic, owner, next, lease, i), events.topics t
        WHERE g.group_id = c.group_id AND g.topic = c.topic AND g.owner = c.owner AND t.topic = g.topic
        RETURNING c.i::int AS i, (t.next_offset - c.next)::text AS lag`,
      [commits.map((c) => c.group), commits.map((c) => c.topic), commits.map((c) => c.owner), commits.map((c) => c.next.toString()), commits.map((c) => c.leaseSeconds)],
    );
    const lags: (bigint | undefined)[] = commits.map(() => undefined);
    for (const row of rows) lags[row.i - 1] = BigInt(row.lag);
    return lags;
  }
}
