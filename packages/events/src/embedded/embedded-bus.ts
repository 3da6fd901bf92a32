import { openDatabase, type Database } from "@taskmesh/db";
import { createLogger, GroupCommit, type Logger } from "@taskmesh/kit";
import type { EventBus, EventRecord, SubscribeOptions, Subscription } from "../bus.js";
import { EventCodec } from "../codec.js";
import { eventLogEntities } from "../entities.js";
import { busMetrics } from "../metrics.js";
import { DAY_MS, eventLogPruned, RetentionJob } from "../retention.js";
import { registerSchemas } from "../schema-registry.js";
import { TOPICS, type TopicContract } from "../topics.js";
import { SharedLog } from "./shared-log.js";
import { TopicReader, type ReaderSettings } from "./topic-reader.js";
import { localSchemaRegistry } from "./local-registry.js";
import { EVENTS_SCHEMA, eventLogMigrations } from "./migrations.js";
import { Wakeup } from "./wakeup.js";

export const EVENTS_CHANNEL = "taskmesh_events";

export interface EmbeddedBusOptions {
  /** `postgres://…`; the log lives in schema `events`. */
  url: string;
  topics?: readonly TopicContract[];
  protoRoots?: readonly string[];
  /** Events a reader takes per round (default 500). */
  batchSize?: number;
  /** How long a group member may go silent before another takes its topics over (default 15 s). */
  leaseMs?: number;
  /** Safety net when a notification is missed (default 5 s). */
  idlePollMs?: number;
  /** How long the log keeps events (default 7 days, as Kafka keeps a topic), see eventLogPruned. */
  retentionMs?: number;
  /** Time between prunings (default: RetentionJob's). */
  pruneIntervalMs?: number;
  logger?: Logger;
}

/** Opens (and migrates) the event log on @taskmesh/db and registers the topic schemas in it. */
export async function openEmbeddedBus(options: EmbeddedBusOptions): Promise<EventBus> {
  const db = await openDatabase({ url: options.url, schema: EVENTS_SCHEMA, entities: eventLogEntities, migrations: eventLogMigrations, poolSize: 4 });
  try {
    const topics = options.topics ?? TOPICS;
    const schemaIds = await registerSchemas({ registry: localSchemaRegistry(db), topics, protoRoots: options.protoRoots });
    const logger = options.logger ?? createLogger("events");
    const retention = new RetentionJob([eventLogPruned(db, options.retentionMs ?? 7 * DAY_MS)], {
      intervalMs: options.pruneIntervalMs,
      logger,
    });
    const bus = new EmbeddedBus(db, new EventCodec(schemaIds, topics), options, retention);
    await bus.listen();
    retention.start();
    return bus;
  } catch (err) {
    await db.close();
    throw err;
  }
}

class EmbeddedBus implements EventBus {
  readonly system = "taskmesh_event_log";
  readonly #wakeups = new Map<string, Wakeup>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #append: GroupCommit<EventRecord>;
  readonly #readerSettings: ReaderSettings;
  readonly #log: SharedLog;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly codec: EventCodec,
    options: EmbeddedBusOptions,
    private readonly retention: RetentionJob,
  ) {
    this.#append = new GroupCommit((records) => this.#appendNow(records));
    this.#readerSettings = { ...options, logger: options.logger ?? createLogger("events") };
    this.#log = new SharedLog(
      (sql, params) => db.query(db.em(), sql, params),
      (topic) => this.#wakeup(topic),
    );
  }

  async listen(): Promise<void> {
    this.#unlisten = await this.db.listen(EVENTS_CHANNEL, (topic) => {
      // An empty payload means the LISTEN session was re-opened: anything may have been missed.
      if (topic) this.#wakeup(topic).signal();
      else for (const w of this.#wakeups.values()) w.signal();
    });
  }

  async publish(records: EventRecord[]): Promise<void> {
    const framed = records.map((r) => ({ ...r, payload: this.codec.encode(r.topic, r.payload) }));
    await this.#append.submit(framed);
  }

  /**
   * Appends the records in one statement, its own transaction (no BEGIN and COMMIT around it): each
   * topic's head row is advanced by its count, in topic order (two appenders never lock heads in
   * opposite orders), the rows take the offsets before the new head in the records' order, and
   * each topic's readers are woken at commit.
   */
  async #appendNow(records: EventRecord[]): Promise<void> {
    await this.db.query(
      this.db.em(),
      `WITH batch AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) WITH ORDINALITY AS r(topic, key, value, headers, ord)
       ), counts AS (
         SELECT topic, count(*) AS n FROM batch GROUP BY topic
       ), heads AS (
         INSERT INTO events.topics AS t (topic, next_offset) SELECT topic, n FROM counts ORDER BY topic COLLATE "C"
         ON CONFLICT (topic) DO UPDATE SET next_offset = t.next_offset + EXCLUDED.next_offset
         RETURNING t.topic, t.next_offset
       ), appended AS (
         INSERT INTO events.log (topic, "offset", key, value, headers)
         SELECT b.topic, h.next_offset - c.n + row_number() OVER (PARTITION BY b.topic ORDER BY b.ord) - 1, b.key, b.value, b.headers
           FROM batch b JOIN heads h ON h.topic = b.topic JOIN counts c ON c.topic = b.topic
       ) SELECT pg_notify($5, topic) FROM counts`,
      [records.map((r) => r.topic), records.map((r) => r.key), records.map((r) => r.payload), records.map((r) => JSON.stringify(r.headers)), EVENTS_CHANNEL],
    );
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of counts) busMetrics.published().inc({ bus: "embedded", topic }, n);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const deadLetter = (records: EventRecord[]) => this.#append.submit(records).then(() => undefined);
    const readers = options.topics.map((topic) => new TopicReader(this.db, this.codec, topic, options, this.#wakeup(topic), this.#readerSettings, this.#log, deadLetter));
    if (options.delivery === "broadcast") await Promise.all(readers.map((r) => r.seekToEnd()));
    const running = readers.map((r) => r.run());
    const subscription: Subscription = {
      stop: async () => {
        this.#subscriptions.delete(subscription);
        for (const r of readers) r.stop();
        await Promise.all(running);
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await this.retention.stop();
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    await this.#unlisten?.();
    await this.db.close();
  }

  #wakeup(topic: string): Wakeup {
    let w = this.#wakeups.get(topic);
    if (!w) {
      w = new Wakeup();
      this.#wakeups.set(topic, w);
    }
    return w;
  }
}
