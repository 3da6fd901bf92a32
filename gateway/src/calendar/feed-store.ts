import type { Database } from "@taskmesh/db";
import { randomUUID } from "node:crypto";
import { newSecret, sha256 } from "../auth/account-store.js";
import { CalendarFeed } from "./entities.js";

/** Calendar-feed secrets: tells them apart from API tokens, and leaked ones are easy to scan for. */
export const FEED_SECRET_PREFIX = "tm_cal_";

export interface FeedRow {
  id: string;
  /** Null: every task the user may see. */
  projectId: string | null;
  createdAt: Date;
}

/** Whose feed a secret opens, with what the services need to answer as that user. */
export interface FeedOwner extends FeedRow {
  userId: string;
  timeZone: string;
  email: string;
}

/** The secret URLs of calendar feeds (table auth.calendar_feeds), stored as hashes. */
export class CalendarFeedStore {
  constructor(private readonly db: Database) {}

  /** A new secret for the user's feed (of one project, or of everything), revoking the one before. */
  async regenerate(userId: string, projectId: string | null, now: Date): Promise<{ row: FeedRow; secret: string }> {
    const secret = newSecret(FEED_SECRET_PREFIX);
    const row = { id: randomUUID(), projectId, createdAt: now };
    await this.db.em().transactional(async (em) => {
      await em.nativeUpdate(CalendarFeed, { user: userId, projectId, revokedAt: null }, { revokedAt: now });
      await em.insert(CalendarFeed, { ...row, user: userId, secretHash: sha256(secret) });
    });
    return { row, secret };
  }

  async list(userId: string): Promise<FeedRow[]> {
    return this.db.em().find(CalendarFeed, { user: userId, revokedAt: null }, { fields: ["id", "projectId", "createdAt"], orderBy: { createdAt: "asc", id: "asc" } });
  }

  /** False when the user has no such live feed (including someone else's id). */
  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    return (await this.db.em().nativeUpdate(CalendarFeed, { id, user: userId, revokedAt: null }, { revokedAt: now })) > 0;
  }

  /** The live feed this secret opens, or undefined. */
  async owner(secret: string): Promise<FeedOwner | undefined> {
    if (!secret.startsWith(FEED_SECRET_PREFIX)) return undefined;
    const [row] = await this.db.query<FeedOwner>(
      this.db.em(),
      `SELECT f.id::text, f.project_id::text AS "projectId", f.created_at AS "createdAt", f.user_id::text AS "userId", u.time_zone AS "timeZone", u.email
         FROM auth.calendar_feeds f JOIN auth.users u ON u.id = f.user_id
        WHERE f.secret_hash = $1 AND f.revoked_at IS NULL`,
      [sha256(secret)],
    );
    return row;
  }
}
