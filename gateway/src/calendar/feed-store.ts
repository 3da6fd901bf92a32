import type { Database } from "@taskmesh/db";
import { randomUUID } from "node:crypto";
import { newSecret, sha256 } from "../auth/account-store.js";

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

const COLUMNS = `f.id::text, f.project_id::text AS "projectId", f.created_at AS "createdAt"`;

/** The secret URLs of calendar feeds (table auth.calendar_feeds), stored as hashes. */
export class CalendarFeedStore {
  constructor(private readonly db: Database) {}

  /** A new secret for the user's feed (of one project, or of everything), revoking the one before. */
  async regenerate(userId: string, projectId: string | null, now: Date): Promise<{ row: FeedRow; secret: string }> {
    const secret = newSecret(FEED_SECRET_PREFIX);
    const em = this.db.em();
    const row = await em.transactional(async (tx) => {
      await this.db.query(tx, `UPDATE auth.calendar_feeds SET revoked_at = $3 WHERE user_id = $1::uuid AND project_id IS NOT DISTINCT FROM $2::uuid AND revoked_at IS NULL`, [userId, projectId, now]);
      const [inserted] = await this.db.query<FeedRow>(
        tx,
        `INSERT INTO auth.calendar_feeds AS f (id, user_id, project_id, secret_hash, created_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5) RETURNING ${COLUMNS}`,
        [randomUUID(), userId, projectId, sha256(secret), now],
      );
      return inserted!;
    });
    return { row, secret };
  }

  async list(userId: string): Promise<FeedRow[]> {
    return this.db.query<FeedRow>(this.db.em(), `SELECT ${COLUMNS} FROM auth.calendar_feeds f WHERE f.user_id = $1::uuid AND f.revoked_at IS NULL ORDER BY f.created_at, f.id`, [userId]);
  }

  /** False when the user has no such live feed (including someone else's id). */
  async revoke(userId: string, id: string, now: Date): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const rows = await this.db.query(this.db.em(), `UPDATE auth.calendar_feeds SET revoked_at = $3 WHERE user_id = $1::uuid AND id = $2::uuid AND revoked_at IS NULL RETURNING id`, [userId, id, now]);
    return rows.length > 0;
  }

  /** The live feed this secret opens, or undefined. */
  async owner(secret: string): Promise<FeedOwner | undefined> {
    if (!secret.startsWith(FEED_SECRET_PREFIX)) return undefined;
    const [row] = await this.db.query<FeedOwner>(
      this.db.em(),
      `SELECT ${COLUMNS}, f.user_id::text AS "userId", u.time_zone AS "timeZone", u.email
         FROM auth.calendar_feeds f JOIN auth.users u ON u.id = f.user_id
        WHERE f.secret_hash = $1 AND f.revoked_at IS NULL`,
      [sha256(secret)],
    );
    return row;
  }
}
