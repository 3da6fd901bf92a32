import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";

// Every service of the embedded process shares one PGlite per data directory (PGlite is
// single-connection and WASM memory is not cheap), each in its own schema, as in cluster mode.
const open = new Map<string, { db: Promise<PGlite>; users: number }>();

/** `dataDir` undefined: in memory. */
export async function acquirePglite(dataDir: string | undefined): Promise<PGlite> {
  const key = dataDir ?? ":memory:";
  let entry = open.get(key);
  if (!entry) {
    entry = { db: PGlite.create(dataDir, { extensions: { pg_trgm } }), users: 0 };
    open.set(key, entry);
  }
  entry.users++;
  return entry.db;
}

export async function releasePglite(dataDir: string | undefined): Promise<void> {
  const key = dataDir ?? ":memory:";
  const entry = open.get(key);
  if (!entry) return;
  if (--entry.users > 0) return;
  open.delete(key);
  await (await entry.db).close();
}
