import { randomUUID } from "node:crypto";
import type { Database } from "@taskmesh/db";
import type { Logger } from "@taskmesh/kit";
import type { EventRecord, SubscribeOptions } from "../bus.js";
import type { EventCodec } from "../codec.js";
import { deliverAll, type DeliveryContext } from "../deliver.js";
import { busMetrics } from "../metrics.js";
import type { SharedLog } from "./shared-log.js";
import type { Wakeup } from "./wakeup.js";

export interface ReaderSettings {
  batchSize?: number;
  leaseMs?: number;
  idlePollMs?: number;
  logger: Logger;
}

/**
 * One group member reading one topic of the embedded log: claims the group's lease on the topic,
 * delivers batches (events of one key in offset order, up to the subscription's `concurrency` keys
 * at once) and moves the group's position past the run of events from the batch's start whose
 * handler resolved (or that were dead-lettered); the rest come again.
 */
export class TopicReader {
  readonly #owner = randomUUID();
  #stopping = false;
  #lastRenewal = 0;
  /** A broadcast reader's own position, in memory only; undefined for a group member. */
  #position: bigint | undefined;
  /** A group member's position as its last claim or commit (which renews the lease) left it. */
  #committed: bigint | undefined;

  constructor(
    private readonly db: Database,
    private readonly codec: EventCodec,
    private readonly topic: string,
    private readonly options: SubscribeOptions,
    private readonly wakeup: Wakeup,
    private readonly settings: ReaderSettings,
    private readonly log: SharedLog,
    private readonly deadLetter: (records: EventRecord[]) => Promise<void>,
  ) {}

  /** A broadcast reader starts at the end of the topic as it is now. */
  async seekToEnd(): Promise<void> {
    const [row] = await this.db.query<{ next_offset: string }>(this.db.em(), `SELECT next_offset::text AS next_offset FROM events.topics WHERE topic = $1`, [this.topic]);
    this.#position = BigInt(row?.next_offset ?? 0);
  }

  stop(): void {
    this.#stopping = true;
    this.wakeup.signal();
  }

  async run(): Promise<void> {
    const idleMs = this.settings.idlePollMs ?? 5_000;
    let failures = 0;
    try {
      while (!this.#stopping) {
        const seen = this.wakeup.generation;
        try {
          const position = this.#position ?? this.#held() ?? (await this.#claim());
          if (position === undefined) {
            // Another member holds the topic: stand by until its lease may have run out.
            await this.wakeup.wait(seen, this.#leaseMs() / 2);
            continue;
          }
          const { handled, drained } = await this.#readBatch(position, seen);
          failures = 0;
          // Drained: the read found the topic's end and everything read was handled, so another
          // read now would find nothing unless a signal came since `seen` (then wait returns at once).
          if (handled === 0 || drained) await this.wakeup.wait(seen, idleMs);
        } catch (err) {
          if (this.#stopping) break;
          // The database is unreachable (PostgreSQL restart, failover): nothing was committed
          // past the last handled event, so back off and claim again.
          failures++;
          this.#committed = undefined;
          const retryInMs = Math.min(5_000, 100 * 2 ** failures);
          this.settings.logger.warn({ err, topic: this.topic, group: this.options.group, retryInMs }, "event log reader failed; will retry");
          await new Promise((r) => setTimeout(r, retryInMs));
        }
      }
    } finally {
      await this.#release().catch(() => {});
    }
  }

  /**
   * Reads and handles a batch from `position` (`seen`: the wake-up generation before looking): how
   * many were handled, and whether that was all there was.
   */
  async #readBatch(position: bigint, seen: number): Promise<{ handled: number; drained: boolean }> {
    const limit = this.settings.batchSize ?? 500;
    const rows = await this.log.read(this.topic, position, limit, seen);
    const context: DeliveryContext = {
      system: "taskmesh_event_log",
      codec: this.codec,
      options: this.options,
      logger: this.settings.logger,
      deadLetter: (record) => this.deadLetter([record]),
      stopping: () => this.#stopping,
      keepAlive: () => this.#renewLease(),
    };
    const run = await deliverAll(
      rows.map((row) => ({ topic: this.topic, key: row.key, offset: row.offset, headers: row.headers, value: new Uint8Array(row.value) })),
      context,
    );
    const handled = run.acknowledged;
    const drained = handled === rows.length && rows.length < limit;
    if (handled === 0) return { handled, drained };
    const next = BigInt(rows[handled - 1]!.offset) + 1n;
    if (this.#position !== undefined) {
      this.#position = next;
      return { handled, drained };
    }
    const committed = await this.db.query<{ lag: string }>(
      this.db.em(),
      `UPDATE events.group_offsets g SET next_offset = $4, lease_until = now() + make_interval(secs => $5)
       FROM events.topics t
       WHERE g.group_id = $1 AND g.topic = $2 AND g.owner = $3 AND t.topic = g.topic
       RETURNING (t.next_offset - $4)::text AS lag`,
      [this.options.group, this.topic, this.#owner, next.toString(), this.#leaseMs() / 1000],
    );
    const labels = { bus: "embedded", group: this.options.group, topic: this.topic };
    busMetrics.consumed().inc(labels, run.handled);
    busMetrics.deadLettered().inc(labels, run.deadLettered);
    // No row: the lease ran out while handling and another member took over; it redelivers
    // from the last committed position (at least once).
    if (committed[0]) {
      busMetrics.lag().set({ ...labels, partition: "0" }, Number(committed[0].lag));
      this.#committed = next;
      this.#lastRenewal = Date.now();
    } else this.#committed = undefined;
    return { handled, drained };
  }

  /** The group's position when this member holds (or just took) the lease; undefined otherwise. */
  async #claim(): Promise<bigint | undefined> {
    const [row] = await this.db.query<{ next_offset: string }>(
      this.db.em(),
      `INSERT INTO events.group_offsets AS g (group_id, topic, next_offset, owner, lease_until)
       VALUES ($1, $2, 0, $3, now() + make_interval(secs => $4))
       ON CONFLICT (group_id, topic) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE g.owner IS NULL OR g.owner = EXCLUDED.owner OR g.lease_until < now()
       RETURNING g.next_offset::text AS next_offset`,
      [this.options.group, this.topic, this.#owner, this.#leaseMs() / 1000],
    );
    if (row) this.#lastRenewal = Date.now();
    this.#committed = row ? BigInt(row.next_offset) : undefined;
    return this.#committed;
  }

  /**
   * The group's position without a claim while the lease this member renewed is surely its own
   * still (a third of it gone at most: no other member may take it over before it runs out).
   */
  #held(): bigint | undefined {
    return Date.now() - this.#lastRenewal < this.#leaseMs() / 3 ? this.#committed : undefined;
  }

  async #renewLease(): Promise<void> {
    if (Date.now() - this.#lastRenewal < this.#leaseMs() / 3) return;
    await this.#claim();
  }

  async #release(): Promise<void> {
    if (this.#position !== undefined) return;
    await this.db.query(this.db.em(), `UPDATE events.group_offsets SET owner = NULL, lease_until = NULL WHERE group_id = $1 AND topic = $2 AND owner = $3`, [
      this.options.group,
      this.topic,
      this.#owner,
    ]);
  }

  #leaseMs(): number {
    return this.settings.leaseMs ?? 15_000;
  }
}
