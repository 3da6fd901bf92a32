import { defineConfig, MikroORM, type EntityManager, type EntitySchema, type Routine } from "@mikro-orm/postgresql";
import { Migration, Migrator } from "@mikro-orm/migrations";
import { CompiledQuery } from "kysely";
import pg from "pg";
import { DEFAULT_PREPARE_THRESHOLD, prepareRepeatedStatements } from "./prepared-statements.js";

type MigrationClass = new (...args: ConstructorParameters<typeof Migration>) => Migration;
/** One migration of a service's list; also the declared return type of migration factories (a class
 * made inside a function cannot appear in a declaration file: Migration has protected members). */
export interface MigrationEntry {
  name: string;
  class: MigrationClass;
}

/** A migration that is statements alone: `up` applies them in order, `down` undoes them. */
export function sqlMigration(name: string, up: readonly string[], down: readonly string[]): MigrationEntry {
  class SqlMigration extends Migration {
    override name = name;
    override up(): void {
      for (const sql of up) this.addSql(sql);
    }
    override down(): void {
      for (const sql of down) this.addSql(sql);
    }
  }
  return { name, class: SqlMigration };
}

export interface DatabaseOptions {
  /** `postgres://user@host:port/db`, or `postgres://user@localhost/db?host=<socket dir>`. */
  url: string;
  /** The service's own schema; its migrations table lives there too. */
  schema: string;
  /** The owner's defineEntity results, one per table its migrations create (the entities tests check them against the migrations with @taskmesh/testing/schema-drift). */
  entities: readonly EntitySchema[];
  /** The functions its migrations create in its schema, described for the same check. */
  routines?: readonly Routine[];
  migrations: MigrationEntry[];
  poolSize?: number;
  debug?: boolean;
}

/**
 * How long a connection may take before it counts as lost. A link that dies without a word (a
 * partition, a server whose host vanished) closes nothing: without these bounds a query on it, a
 * wait for a pool place behind it, or a LISTEN session on it waits forever, and whatever loop
 * awaited it (a scheduler tick, a consumer) stops for good while the process looks alive. Each can
 * be set as a parameter of the database URL (`?query_timeout=20000`), under the name node-postgres
 * and libpq give it.
 */
export interface ConnectionBounds {
  /** The server cancels a statement running longer (`statement_timeout`, ms). */
  statementTimeoutMs: number;
  /** The client gives up on a query unanswered this long and drops its connection (`query_timeout`, ms). */
  queryTimeoutMs: number;
  /** The server ends a session left inside a transaction this long, freeing its locks (`idle_in_transaction_session_timeout`, ms). */
  idleInTransactionTimeoutMs: number;
  /** Opening a connection, or waiting for a pool place, fails after this (`connect_timeout`, s). */
  connectTimeoutMs: number;
  /** TCP keepalive probes start after this much silence (`keepalives_idle`, s). */
  keepAliveIdleMs: number;
  /** A LISTEN session is asked for a sign of life this often; one that does not answer within queryTimeoutMs is re-opened. */
  listenPingMs: number;
}

// Every statement of the services answers in milliseconds; the longest (a retention batch, an
// export) in seconds. statement_timeout, the server's own bound, comes first with a clear error;
// query_timeout, twice as long, is for links where that error cannot arrive. A session idle inside
// a transaction is ended after 10 minutes, freeing the locks a client that is gone would otherwise
// hold for the hours until the server's keepalive finds out; not sooner, because the outbox relay
// keeps its batch's transaction (and its lock) through the Kafka send, whose retries while the
// broker is away can take minutes. Connections open in milliseconds on a LAN, so 10 s means the
// server or the link is down. Keepalive after 10 s of
// silence finds a vanished peer (a host gone, a dropped NAT entry) long before the kernel's default
// two hours; a stalled peer whose kernel still answers the probes is found by the LISTEN ping.
// Migrations run without these bounds: an index on a big table may take minutes.
export const DEFAULT_CONNECTION_BOUNDS: ConnectionBounds = {
  statementTimeoutMs: 30_000,
  queryTimeoutMs: 60_000,
  idleInTransactionTimeoutMs: 600_000,
  connectTimeoutMs: 10_000,
  keepAliveIdleMs: 10_000,
  listenPingMs: 30_000,
};

/** URL parameter → bound, with its unit in the URL (libpq's are seconds, node-postgres's milliseconds). */
const URL_BOUNDS: [param: string, bound: keyof ConnectionBounds, msPerUnit: number][] = [
  ["statement_timeout", "statementTimeoutMs", 1],
  ["query_timeout", "queryTimeoutMs", 1],
  ["idle_in_transaction_session_timeout", "idleInTransactionTimeoutMs", 1],
  ["connect_timeout", "connectTimeoutMs", 1000],
  ["keepalives_idle", "keepAliveIdleMs", 1000],
  ["listen_ping", "listenPingMs", 1],
];

/** The bounds a database URL sets, the defaults for the others; a value that is not a positive whole number is refused. */
export function connectionBounds(url: string): ConnectionBounds {
  const params = new URL(url).searchParams;
  const bounds = { ...DEFAULT_CONNECTION_BOUNDS };
  for (const [param, bound, msPerUnit] of URL_BOUNDS) {
    const value = params.get(param);
    if (value === null) continue;
    if (!/^[1-9]\d{0,8}$/.test(value)) throw new Error(`DATABASE_URL's ${param} must be a positive whole number of ${msPerUnit === 1 ? "milliseconds" : "seconds"} (got "${value}")`);
    bounds[bound] = Number(value) * msPerUnit;
  }
  return bounds;
}

/**
 * From which run on a statement is prepared in each session (prepared-statements.ts): the URL's
 * `prepare_threshold`, read as pgJDBC reads its prepareThreshold, default 5; 0 prepares nothing,
 * for a connection pooler in transaction mode that cannot keep prepared statements (PgBouncer
 * before 1.21, or without max_prepared_statements).
 */
export function prepareThreshold(url: string): number {
  const value = new URL(url).searchParams.get("prepare_threshold");
  if (value === null) return DEFAULT_PREPARE_THRESHOLD;
  if (!/^\d{1,9}$/.test(value)) throw new Error(`DATABASE_URL's prepare_threshold must be a whole number of runs, 0 to prepare nothing (got "${value}")`);
  return Number(value);
}

/** node-postgres client options for the bounds (those on statements left out for migrations). */
function clientOptions(bounds: ConnectionBounds, statements = true) {
  return {
    keepAlive: true,
    keepAliveInitialDelayMillis: bounds.keepAliveIdleMs,
    connectionTimeoutMillis: bounds.connectTimeoutMs,
    ...(statements ? { statement_timeout: bounds.statementTimeoutMs, query_timeout: bounds.queryTimeoutMs, idle_in_transaction_session_timeout: bounds.idleInTransactionTimeoutMs } : {}),
  };
}

/** One unit of work on PostgreSQL; a transactional callback receives the same type. */
export type { EntityManager };
/** The tables of some entities as Kysely types them, for statements typed from the entities: `em.getKysely<InferKyselyDB<…>>()`. */
export type { InferKyselyDB } from "@mikro-orm/postgresql";

export interface Database {
  readonly orm: MikroORM;
  /** A fresh unit of work; use one per request. */
  em(): EntityManager;
  /** Raw parameterised SQL with `$1…$n` placeholders; values are passed to the driver untouched. */
  query<Row>(em: EntityManager, sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * Subscribes to NOTIFY on a channel; resolves once listening. Returns the unsubscribe. After the
   * listening session was lost and re-established, `onPayload(null)` says notifications may have
   * been missed, so listeners re-check everything.
   */
  listen(channel: string, onPayload: (payload: string | null) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** For a listener that must know, at every moment, whether it could be missing notifications. */
export interface ListenOptions {
  /** The session is lost: notifications may be missed from now until `onPayload(null)`. */
  onLost?: () => void;
  /** The session answered a ping: every notification committed before the ping has been delivered. */
  onAlive?: () => void;
  /** How often the session is pinged (default: the database URL's `listen_ping`). */
  pingMs?: number;
  /** The session's `application_name`, so that others can see who listens (pg_stat_activity). */
  applicationName?: string;
}

function checkDatabaseUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`DATABASE_URL must be a PostgreSQL URL, postgres://user@host:5432/db (got "${url.split(":")[0]}:…")`);
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  checkDatabaseUrl(options.url);
  const bounds = connectionBounds(options.url);
  const threshold = prepareThreshold(options.url);
  // MikroORM reads host, port, user and database from the URL but not libpq's `?host=<socket dir>`.
  const socketDir = new URL(options.url).searchParams.get("host");
  const ormConfig = (forMigrations: boolean) =>
    defineConfig({
      clientUrl: options.url,
      driverOptions: {
        ...(socketDir ? { host: socketDir } : {}),
        ...clientOptions(bounds, !forMigrations),
        onPoolCreated: (pool: pg.Pool) => {
          if (!forMigrations && threshold > 0) pool.on("connect", (client) => prepareRepeatedStatements(client, threshold));
          releaseBrokenConnections(pool);
        },
      },
      pool: { min: 0, max: options.poolSize ?? 10 },
      // Entities without a schema of their own (the outbox, processed_events) live in the owner's.
      schema: options.schema,
      entities: [...options.entities],
      routines: [...(options.routines ?? [])],
      extensions: [Migrator],
      discovery: { warnWhenNoEntities: false },
      debug: options.debug ?? false,
      allowGlobalContext: false,
      migrations: {
        migrationsList: options.migrations,
        schema: options.schema,
        tableName: "mikro_orm_migrations",
        snapshot: false,
        transactional: true,
        allOrNothing: true,
        silent: true,
      },
    });
  // Migrations on a pool of their own without the statements' bounds, closed before the service's opens.
  const migrator = new MikroORM(ormConfig(true));
  try {
    await migrate(migrator, options.schema);
  } finally {
    await migrator.close();
  }
  const orm = new MikroORM(ormConfig(false));
  const listeners = new Set<() => Promise<void>>();
  return {
    orm,
    em: () => orm.em.fork(),
    query,
    async listen(channel, onPayload, { onLost, onAlive, pingMs = bounds.listenPingMs, applicationName } = {}) {
      // LISTEN needs a session of its own, outside the pool; it is re-opened when the server drops it,
      // and when it stops answering: a session on a link that died without a word would otherwise
      // wait for notifications forever while every NOTIFY is lost.
      let client: pg.Client | undefined;
      let ping: NodeJS.Timeout | undefined;
      let stopped = false;
      const open = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: options.url, ...clientOptions(bounds), ...(applicationName ? { application_name: applicationName } : {}) });
        c.on("error", () => reopen(c));
        c.on("end", () => reopen(c));
        c.on("notification", (n) => {
          if (n.channel === channel) onPayload(n.payload ?? "");
        });
        try {
          await c.connect();
          await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        } catch (err) {
          c.removeAllListeners();
          void c.end().catch(() => {});
          throw err;
        }
        if (stopped) return void c.end().catch(() => {});
        client = c;
        const keepPinging = () => {
          ping = setTimeout(
            () =>
              c.query("SELECT 1").then(
                () => {
                  if (client !== c) return;
                  onAlive?.();
                  keepPinging();
                },
                () => reopen(c),
              ),
            pingMs,
          );
          ping.unref();
        };
        onAlive?.();
        keepPinging();
      };
      const reopen = (lost: pg.Client): void => {
        if (stopped || client !== lost) return;
        client = undefined;
        clearTimeout(ping);
        onLost?.();
        lost.removeAllListeners("end");
        // A session that stopped answering has its socket destroyed (an active query makes end() do so).
        void lost.end().catch(() => {});
        const retry = (delay: number) =>
          setTimeout(() => {
            if (stopped) return;
            open().then(
              () => onPayload(null),
              () => retry(Math.min(delay * 2, 5_000)),
            );
          }, delay);
        retry(100);
      };
      await open();
      const stop = async () => {
        stopped = true;
        clearTimeout(ping);
        listeners.delete(stop);
        await client?.end().catch(() => {});
      };
      listeners.add(stop);
      return stop;
    },
    async close() {
      await Promise.all([...listeners].map((stop) => stop()));
      await orm.close();
    },
  };
}

/**
 * Gives a connection back to the pool as soon as it breaks while it is checked out, and has the pool
 * drop it. Kysely releases a transaction's connection only after its BEGIN, COMMIT or ROLLBACK
 * succeeded, which none can once the session is gone (PostgreSQL restarted, a link cut): each
 * connection lost inside a transaction would keep its place in the pool for good, and once all
 * places are kept every query of the service waits forever. A query that went unanswered past
 * query_timeout breaks its connection too: node-postgres fails the query but keeps the connection,
 * where the next statement (the transaction's ROLLBACK, the next caller's query) would queue behind
 * the unanswered one. Released with an error, the connection is closed (its socket destroyed while a
 * query is still active) and the pool opens a new one for the next caller; the release its holder
 * may still make is then ignored. The pool hands out a new release function with every checkout, so
 * that is where this hooks in, whichever way the connection was taken (pool.connect, pool.query).
 */
function releaseBrokenConnections(pool: pg.Pool): void {
  pool.on("connect", (client) => {
    let current: ((err?: Error | boolean) => void) | undefined;
    Object.defineProperty(client, "release", {
      configurable: true,
      get: () => current,
      set: (release: (err?: Error | boolean) => void) => {
        let released = false;
        const releaseOnce = (err?: Error | boolean) => {
          client.off("end", lost);
          if (released) return;
          released = true;
          release(err);
        };
        const lost = () => releaseOnce(new Error("the connection's session ended"));
        client.once("end", lost);
        current = releaseOnce;
      },
    });
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.defineProperty(client, "query", {
      configurable: true,
      value: (...args: unknown[]) => {
        const result = query(...args);
        if (result instanceof Promise) {
          result.catch((err: unknown) => {
            if ((err as Error | undefined)?.message === QUERY_READ_TIMEOUT) current?.(new Error("a query went unanswered past query_timeout"));
          });
        }
        return result;
      },
    });
  });
}

/** node-postgres's error for a query that outlived query_timeout. */
const QUERY_READ_TIMEOUT = "Query read timeout";

async function query<Row>(em: EntityManager, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
  const result = await em.getKysely().executeQuery(CompiledQuery.raw(sql, [...params]));
  return result.rows as Row[];
}

async function migrate(orm: MikroORM, schema: string): Promise<void> {
  const em = orm.em.fork();
  // The migration table lives in the service schema, which must exist before the migrator looks.
  await em.getKysely().executeQuery(CompiledQuery.raw(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`));
  await orm.migrator.up();
}
