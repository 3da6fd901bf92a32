import { randomBytes } from "node:crypto";
import pg from "pg";

/** Set by the test command (scripts/test.ts) to the PostgreSQL it started. */
export const POSTGRES_ENV = "TASKMESH_TEST_POSTGRES_URL";

export interface FreshDatabase {
  url: string;
  /** Removes the database, closing whatever still uses it. */
  drop(): Promise<void>;
}

/** A new, empty database on the PostgreSQL server the test command started. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const admin = process.env[POSTGRES_ENV];
  if (!admin) throw new Error(`${POSTGRES_ENV} is not set: run the tests with \`npm test\`, which starts PostgreSQL and sets it`);
  const name = `t_${randomBytes(6).toString("hex")}`;
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
