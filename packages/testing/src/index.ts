import { randomBytes } from "node:crypto";
import pg from "pg";
import { testSettings } from "./settings.js";

export { POSTGRES_ENV } from "./settings.js";

/** The Kafka broker and schema registry the test command started, as a service's bus settings and environment. */
export interface TestKafka {
  brokers: string[];
  registryUrl: string;
  env: { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string };
}

export function testKafka(): TestKafka {
  const { brokers, registryUrl } = testSettings.kafka;
  return { brokers: brokers.split(","), registryUrl, env: { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl } };
}

export interface FreshDatabase {
  url: string;
  /** Removes the database, closing whatever still uses it. */
  drop(): Promise<void>;
}

/** A new, empty database on the PostgreSQL server the test command started. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const admin = testSettings.postgresUrl;
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
