import { defineConfig, MikroORM, type EntityManager, type EntitySchema } from "@mikro-orm/postgresql";
import { Migrator } from "@mikro-orm/migrations";
import type { Migration } from "@mikro-orm/migrations";
import { CompiledQuery } from "kysely";
import pg from "pg";

type MigrationClass = new (...args: ConstructorParameters<typeof Migration>) => Migration;
/** One migration of a service's list; also the declared return type of migration factories (a class
 * made inside a function cannot appear in a declaration file: Migration has protected members). */
export interface MigrationEntry {
  name: string;
  class: MigrationClass;
}

export interface DatabaseOptions {
  /** `postgres://user@host:port/db`, or `postgres://user@localhost/db?host=<socket dir>`. */
  url: string;
  /** The service's own schema; its migrations table lives there too. */
  schema: string;
  /** The owner's defineEntity results, one per table its migrations create (the entities tests check them against the migrations with @taskmesh/testing/schema-drift). */
  entities: readonly EntitySchema[];
  migrations: MigrationEntry[];
  poolSize?: number;
  debug?: boolean;
}

/** One unit of work on PostgreSQL; a transactional callback receives the same type. */
export type { EntityManager };

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
  listen(channel: string, onPayload: (payload: string | null) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

function checkDatabaseUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`DATABASE_URL must be a PostgreSQL URL, postgres://user@host:5432/db (got "${url.split(":")[0]}:…")`);
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  checkDatabaseUrl(options.url);
  // MikroORM reads host, port, user and database from the URL but not libpq's `?host=<socket dir>`.
  const socketDir = new URL(options.url).searchParams.get("host");
  const config = defineConfig({
    clientUrl: options.url,
    driverOptions: { ...(socketDir ? { host: socketDir } : {}), onPoolCreated: releaseLostConnections },
    pool: { min: 0, max: options.poolSize ?? 10 },
    // Entities without a schema of their own (the outbox, processed_events) live in the owner's.
    schema: options.schema,
    entities: [...options.entities],
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
  const orm = new MikroORM(config);
  await migrate(orm, options.schema);
  const listeners = new Set<() => Promise<void>>();
  return {
    orm,
    em: () => orm.em.fork(),
    query,
    async listen(channel, onPayload) {
      // LISTEN needs a session of its own, outside the pool; it is re-opened when the server drops it.
      let client: pg.Client | undefined;
      let stopped = false;
      const open = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: options.url });
        c.on("error", () => reopen(c));
        c.on("end", () => reopen(c));
        c.on("notification", (n) => {
          if (n.channel === channel) onPayload(n.payload ?? "");
        });
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
      };
      const reopen = (lost: pg.Client): void => {
        if (stopped || client !== lost) return;
        client = undefined;
        lost.removeAllListeners("end");
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
 * Gives a connection back to the pool as soon as its session ends while it is checked out. Kysely
 * releases a transaction's connection only after its BEGIN, COMMIT or ROLLBACK succeeded, which none
 * can once the session is gone (PostgreSQL restarted, a link cut): each connection lost inside a
 * transaction would keep its place in the pool for good, and once all places are kept every query
 * of the service waits forever. Released here, the pool drops the dead connection and opens a new
 * one for the next caller; the release its holder may still make is then ignored. The pool hands
 * out a new release function with every checkout, so that is where this hooks in, whichever way
 * the connection was taken (pool.connect, pool.query).
 */
function releaseLostConnections(pool: pg.Pool): void {
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
  });
}

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
