import path from "node:path";

export interface EmbeddedConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
}

export function embeddedConfig(env: NodeJS.ProcessEnv = process.env): EmbeddedConfig {
  const dataDir = path.resolve(env.TASKMESH_DATA_DIR ?? ".data");
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  return {
    port,
    // Until the gateway authenticates callers, identity is a trusted header: stay on loopback.
    host: env.HOST ?? "127.0.0.1",
    dataDir,
    databaseUrl: env.DATABASE_URL ?? `pglite:${path.join(dataDir, "pg")}`,
  };
}
