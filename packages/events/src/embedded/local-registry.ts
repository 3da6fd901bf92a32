import type { Database } from "@taskmesh/db";
import type { SchemaRegistryClient } from "../schema-registry.js";

/**
 * The registry of the embedded bus: ids and versions per subject in `events.schemas`, so frames
 * carry ids exactly as with a real registry. It does not judge compatibility; `buf breaking` in
 * the test command guards the .proto files both buses read.
 */
export function localSchemaRegistry(db: Database): SchemaRegistryClient {
  return {
    async setCompatibility(subject, level) {
      await db.query(db.em(), `INSERT INTO events.subjects (subject, compatibility) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility`, [subject, level]);
    },
    async register(subject, { schema, references }) {
      const refs = JSON.stringify(references);
      return db.em().transactional(async (em) => {
        // Serializes registrations of one subject, so versions do not collide.
        await db.query(em, `INSERT INTO events.subjects (subject, compatibility) VALUES ($1, 'BACKWARD') ON CONFLICT DO NOTHING`, [subject]);
        await db.query(em, `SELECT 1 FROM events.subjects WHERE subject = $1 FOR UPDATE`, [subject]);
        const [same] = await db.query<{ id: number; version: number }>(em, `SELECT id, version FROM events.schemas WHERE subject = $1 AND schema = $2 AND refs = $3::jsonb`, [subject, schema, refs]);
        if (same) return same;
        const [created] = await db.query<{ id: number; version: number }>(
          em,
          `INSERT INTO events.schemas (subject, version, schema, refs)
           SELECT $1, coalesce(max(version), 0) + 1, $2, $3::jsonb FROM events.schemas WHERE subject = $1
           RETURNING id, version`,
          [subject, schema, refs],
        );
        return created!;
      });
    },
  };
}
