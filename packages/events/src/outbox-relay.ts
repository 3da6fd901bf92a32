import { Migration } from "@mikro-orm/migrations";
import type { Database, EntityManager, MigrationEntry } from "@taskmesh/db";
import { contextFromHeaders, failSpan, injectHeaders, SpanKind, startSpan, tracingEnabled, type Logger } from "@taskmesh/kit";
import { context, trace, type Span } from "@opentelemetry/api";
import { Gauge, register } from "prom-client";
import type { EventRecord, MessagingSystem } from "./bus.js";

/** Where relayed records go: the event bus, with registry framing. Resolves once durable. */
export interface OutboxSink {
  /** Where the records go, for the publish spans; a sink that does not say is not labelled. */
  readonly system?: MessagingSystem;
  send(records: EventRecord[]): Promise<void>;
}

/** A service's outbox: `<schema>.outbox`, the NOTIFY channel its writers signal, the relay's lock. */
export interface Outbox {
  schema: string;
  channel: string;
  /** Advisory lock key: only one relay per outbox publishes at a time, which keeps id order. */
  lockKey: number;
}

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Safety net when a notification is missed (e.g. LISTEN connection re-established). */
  idlePollMs?: number;
}

/** Appends records to the outbox inside the caller's transaction and wakes the relay on commit. */
export async function writeOutbox(db: Database, em: EntityManager, outbox: Outbox, records: readonly EventRecord[]): Promise<void> {
  if (records.length === 0) return;
  // One statement (the CTE always runs): on the hot path of every producer.
  await db.query(
    em,
    `WITH appended AS (
       INSERT INTO ${outbox.schema}.outbox (topic, key, payload, headers)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])
     ) SELECT pg_notify($5, '')`,
    [records.map((r) => r.topic), records.map((r) => r.key), records.map((r) => r.payload), records.map((r) => JSON.stringify(withTraceContext(r.headers))), outbox.channel],
  );
}

/** A record without a traceparent gets the one of the change that wrote it, so its publish joins that trace. */
function withTraceContext(headers: Record<string, string>): Record<string, string> {
  if (!tracingEnabled() || headers.traceparent) return headers;
  const traced = { ...headers };
  injectHeaders(traced);
  return traced;
}

/**
 * Add to a producing service's migrations: creates `<schema>.outbox`. `name` is the one the service
 * first released it under, since applied migrations are recorded by name.
 */
export function outboxMigration(schema: string, name = "Migration20261126000000_outbox"): MigrationEntry {
  class OutboxTable extends Migration {
    override name = name;
    override up(): void {
      // Transactional outbox: events are written with the state change that caused them and
      // published by the relay afterwards, in id order (so in order per key).
      this.addSql(`CREATE TABLE ${schema}.outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    override down(): void {
      this.addSql(`DROP TABLE ${schema}.outbox`);
    }
  }
  return { name, class: OutboxTable };
}

/**
 * A PRODUCER span per record, child of the change that wrote it (the traceparent stored with the
 * row); the record then carries the span's own context, so consumers continue from the publish.
 */
function publishSpan(record: EventRecord, system: MessagingSystem | undefined): Span | undefined {
  const span = startSpan(`${record.topic} publish`, {
    kind: SpanKind.PRODUCER,
    parent: contextFromHeaders(record.headers),
    attributes: {
      ...(system && { "messaging.system": system }),
      "messaging.operation.type": "send",
      "messaging.destination.name": record.topic,
      ...(system === "kafka" && { "messaging.kafka.message.key": record.key }),
    },
  });
  if (span) {
    const headers = { ...record.headers };
    delete headers.tracestate;
    injectHeaders(headers, trace.setSpan(context.active(), span));
    record.headers = headers;
  }
  return span;
}

/** The relays of this process that are running: the backlog gauge reads their databases. */
const running = new Set<OutboxRelay>();

function backlogGauge(): void {
  const name = "taskmesh_outbox_backlog";
  if (register.getSingleMetric(name)) return;
  new Gauge({
    name,
    help: "Events written to the outboxes of this process's services and not yet published",
    async collect() {
      const backlogs = await Promise.all([...running].map((relay) => relay.backlog()));
      this.set(backlogs.reduce((a, b) => a + b, 0));
    },
  });
}

/**
 * Publishes the outbox in id order and deletes what the sink confirmed, in one transaction. A
 * crash between publish and delete republishes that batch: delivery is at least once, and
 * consumers dedupe by event_id.
 */
export class OutboxRelay {
  #running = false;
  #wake: (() => void) | undefined;
  /** A NOTIFY arrived since the last batch began: its records may postdate that batch's read. */
  #notified = false;
  #loop: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly sink: OutboxSink,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions = {},
  ) {
    backlogGauge();
  }

  async start(): Promise<void> {
    this.#running = true;
    running.add(this);
    this.#unlisten = await this.db.listen(this.outbox.channel, () => {
      this.#notified = true;
      this.#wake?.();
    });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    running.delete(this);
    this.#wake?.();
    await this.#loop;
    await this.#unlisten?.();
  }

  async backlog(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(this.db.em(), `SELECT count(*)::int AS n FROM ${this.outbox.schema}.outbox`);
    return row?.n ?? 0;
  }

  /** Publishes one batch; returns how many records went out (0: empty, or another relay holds the lock). */
  async publishBatch(): Promise<number> {
    const limit = this.#limit();
    return this.db.em().transactional(async (em) => {
      // The lock in a statement of its own, before the read: a statement's snapshot is taken as it
      // starts, so a read that tried the lock itself could see the rows a relay committing just
      // then had published and deleted, and publish them again.
      const [lock] = await this.db.query<{ ok: boolean }>(em, `SELECT pg_try_advisory_xact_lock($1) AS ok`, [this.outbox.lockKey]);
      if (!lock?.ok) return 0;
      const rows = await this.db.query<{ id: string; topic: string; key: string; payload: Uint8Array; headers: Record<string, string> }>(
        em,
        // Qualified: a bare "id" in ORDER BY names the text output column (and sorts "10" before "9").
        // The limit is a parameter: a statement without any is not prepared (prepared-statements.ts)
        // and would be planned on every read.
        `SELECT o.id::text AS id, o.topic, o.key, o.payload, o.headers FROM ${this.outbox.schema}.outbox o ORDER BY o.id LIMIT $1`,
        [limit],
      );
      if (rows.length === 0) return 0;
      const records = rows.map(({ topic, key, payload, headers }) => ({ topic, key, payload: new Uint8Array(payload), headers }));
      const spans = records.map((record) => publishSpan(record, this.sink.system));
      try {
        await this.sink.send(records);
      } catch (err) {
        for (const span of spans) failSpan(span, err);
        throw err;
      } finally {
        for (const span of spans) span?.end();
      }
      // By id, not by range: a lower id may commit after this read (other users' writes run
      // concurrently) and must stay for the next batch.
      await this.db.query(em, `DELETE FROM ${this.outbox.schema}.outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  #limit(): number {
    return this.options.batchSize ?? 500;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      let sent = 0;
      this.#notified = false;
      try {
        sent = await this.publishBatch();
        failures = 0;
      } catch (err) {
        failures++;
        const delay = Math.min(5_000, 100 * 2 ** failures);
        this.logger.warn({ err, retryInMs: delay, outbox: this.outbox.schema }, "outbox relay could not publish; will retry");
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      // A batch short of the limit took all its read saw; whatever was written since notified (a
      // writer notifies at commit), so without a notification another read would find nothing.
      // Stopped during the batch: its wake-up came before there was a wait to end.
      if (sent >= this.#limit() || this.#notified || !this.#running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.idlePollMs ?? 2_000);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
