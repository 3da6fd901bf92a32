import { openDatabase, type Database, type EntityManager } from "@taskmesh/db";
import { createLogger, GroupCommit, type Logger } from "@taskmesh/kit";
import type { EventBus, EventRecord, SubscribeOptions, Subscription } from "../bus.js";
import { EventCodec } from "../codec.js";
import { eventLogEntities } from "../entities.js";
import { busMetrics } from "../metrics.js";
import { DAY_MS, eventLogPruned, RetentionJob } from "../retention.js";
import { registerSchemas } from "../schema-registry.js";
import { TOPICS, type TopicContract } from "../topics.js";
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

// Parameters per INSERT stay far below PostgreSQL's 65,535.
const ROWS_PER_INSERT = 1_000;

class EmbeddedBus implements EventBus {
  readonly system = "taskmesh_event_log";
  readonly #wakeups = new Map<string, Wakeup>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #append: GroupCommit<EventRecord>;
  readonly #readerSettings: ReaderSettings;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly codec: EventCodec,
    options: EmbeddedBusOptions,
    private readonly retention: RetentionJob,
  ) {
    this.#append = new GroupCommit((records) => this.#appendNow(records));
    this.#readerSettings = { ...options, logger: options.logger ?? createLogger("events") };
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

  async #appendNow(records: EventRecord[]): Promise<void> {
    await this.db.em().transactional((tx) => this.#appendIn(tx, records));
  }

  async #appendIn(em: EntityManager, records: EventRecord[]): Promise<void> {
    const byTopic = new Map<string, EventRecord[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) {
        list = [];
        byTopic.set(r.topic, list);
      }
      list.push(r);
    }
    for (const [topic, list] of byTopic) {
      const [head] = await this.db.query<{ first: string }>(
        em,
        `INSERT INTO events.topics (topic, next_offset) VALUES ($1, $2)
         ON CONFLICT (topic) DO UPDATE SET next_offset = events.topics.next_offset + EXCLUDED.next_offset
         RETURNING (next_offset - $2)::text AS first`,
        [topic, list.length],
      );
      const first = BigInt(head!.first);
      for (let start = 0; start < list.length; start += ROWS_PER_INSERT) {
        const chunk = list.slice(start, start + ROWS_PER_INSERT);
        const params = chunk.flatMap((r, i) => [(first + BigInt(start + i)).toString(), r.key, r.payload, JSON.stringify(r.headers)]);
        await this.db.query(em, insertSql(chunk.length), [topic, ...params]);
      }
      await this.db.query(em, `SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, topic]);
    }
    for (const [topic, list] of byTopic) busMetrics.published().inc({ bus: "embedded", topic }, list.length);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const readers = options.topics.map((topic) => new TopicReader(this.db, this.codec, topic, options, this.#wakeup(topic), this.#readerSettings, (r) => this.#append.submit(r).then(() => undefined)));
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

function insertSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => {
    const p = 2 + i * 4;
    return `($1, $${p}::bigint, $${p + 1}, $${p + 2}::bytea, $${p + 3}::jsonb)`;
  });
  return `INSERT INTO events.log (topic, "offset", key, value, headers) VALUES ${values.join(", ")}`;
}
