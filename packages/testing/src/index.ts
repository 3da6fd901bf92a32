import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";

/** Set by the test command (scripts/test.ts) to the PostgreSQL it started. */
export const POSTGRES_ENV = "TASKMESH_TEST_POSTGRES_URL";

export interface DatabaseTarget {
  name: "pglite" | "postgres";
  /** A new, empty database; `drop` removes it. */
  fresh(): Promise<{ url: string; drop(): Promise<void> }>;
}

/** Every suite that touches a database runs once per target: same tests, both engines. */
export function databaseTargets(): DatabaseTarget[] {
  return [
    {
      name: "pglite",
      async fresh() {
        const dir = mkdtempSync(path.join(tmpdir(), "taskmesh-pglite-"));
        return { url: `pglite:${dir}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
    {
      name: "postgres",
      async fresh() {
        const admin = process.env[POSTGRES_ENV];
        if (!admin) {
          throw new Error(`${POSTGRES_ENV} is not set: run the tests with \`npm test\`, which starts PostgreSQL and sets it`);
        }
        const name = `t_${randomBytes(6).toString("hex")}`;
        await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`));
        const url = new URL(admin);
        url.pathname = `/${name}`;
        return {
          url: url.toString(),
          drop: () => withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
        };
      },
    },
  ];
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
