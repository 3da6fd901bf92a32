import type { Database } from "@taskmesh/db";
import { randomUUID } from "node:crypto";
import { SavedFilter } from "./entities.js";

/** The database access of the saved filters. */
export class SavedFilterStore {
  constructor(private readonly db: Database) {}

  list(userId: string): Promise<SavedFilter[]> {
    return this.db.em().find(SavedFilter, { userId }, { orderBy: { createdAt: "asc", id: "asc" } });
  }

  /**
   * Saves `query` under `name` (renaming it when the user has saved it before); undefined, and
   * nothing saved, when the user has `max` other saved filters.
   */
  save(userId: string, name: string, query: string, max: number): Promise<SavedFilter | undefined> {
    return this.db.em().transactional(async (em) => {
      // One user's saves take turns, so the count below holds until the insert.
      await this.db.query(em, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`tasks.saved_filters:${userId}`]);
      if ((await em.count(SavedFilter, { userId, query: { $ne: query } })) >= max) return undefined;
      return em.upsert(SavedFilter, { id: randomUUID(), userId, name, query }, { onConflictFields: ["userId", "query"], onConflictMergeFields: ["name"] });
    });
  }

  /** Whether the user had the filter. */
  async delete(userId: string, id: string): Promise<boolean> {
    return (await this.db.em().nativeDelete(SavedFilter, { id, userId })) > 0;
  }
}
