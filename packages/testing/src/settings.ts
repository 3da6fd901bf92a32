// The environment variables the test command (scripts/test.ts) sets for the fixtures, each named once
// here and read when asked for: benches set them after this module loads.

/** The PostgreSQL server the test command started, as an admin URL. */
export const POSTGRES_ENV = "TASKMESH_TEST_POSTGRES_URL";

function read(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

export const testSettings = {
  /** TASKMESH_TEST_POSTGRES_URL: fresh databases are made on it. */
  get postgresUrl(): string {
    const url = read(POSTGRES_ENV);
    if (!url) throw new Error(`${POSTGRES_ENV} is not set: run the tests with \`npm test\`, which starts PostgreSQL and sets it`);
    return url;
  },
  /**
   * TASKMESH_TEST_KAFKA_BROKERS (comma-separated host:port) and TASKMESH_TEST_SCHEMA_REGISTRY_URL:
   * the Kafka broker and schema registry the test command started.
   */
  get kafka(): { brokers: string; registryUrl: string } {
    const brokers = read("TASKMESH_TEST_KAFKA_BROKERS");
    const registryUrl = read("TASKMESH_TEST_SCHEMA_REGISTRY_URL");
    if (!brokers || !registryUrl)
      throw new Error("TASKMESH_TEST_KAFKA_BROKERS / TASKMESH_TEST_SCHEMA_REGISTRY_URL are not set: run the tests with `npm test`, which starts Kafka and the registry and sets them");
    return { brokers, registryUrl };
  },
};
