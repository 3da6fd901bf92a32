import type { EntityManager } from "@mikro-orm/sql";
import type { Database } from "@taskmesh/db";
import { createHash, randomBytes, randomUUID } from "node:crypto";

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string;
  timeZone: string;
  createdAt: Date;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

const USER_COLUMNS = `id::text, email, password_hash AS "passwordHash", display_name AS "displayName", time_zone AS "timeZone", created_at AS "createdAt"`;
const API_TOKEN_COLUMNS = `id::text, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt"`;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
/** API-token prefix: tells them apart from JWTs and makes leaked ones easy to scan for. */
export const API_TOKEN_PREFIX = "tm_pat_";
// last_used_at is informative: one write per token per minute is plenty.
const LAST_USED_RESOLUTION_MS = 60_000;

export function sha256(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

export function newSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

export type RefreshOutcome =
  | { ok: true; userId: string; next: string }
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused" };

/** All SQL of accounts (schema `auth`); parameterised, scoped to the user where there is one. */
export class AccountStore {
  constructor(private readonly db: Database) {}

  #sql<Row>(sql: string, params: unknown[] = [], em: EntityManager = this.db.em()): Promise<Row[]> {
    return this.db.query<Row>(em, sql, params);
  }

  /** Undefined when the e-mail is taken (whatever its case). */
  async createUser(email: string, passwordHash: string, displayName: string, timeZone: string): Promise<UserRow | undefined> {
    const rows = await this.#sql<UserRow>(
      `INSERT INTO auth.users (id, email, password_hash, display_name, time_zone) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [randomUUID(), email, passwordHash, displayName, timeZone],
    );
    return rows[0];
  }

  async userByEmail(email: string): Promise<UserRow | undefined> {
    return (await this.#sql<UserRow>(`SELECT ${USER_COLUMNS} FROM auth.users WHERE lower(email) = lower($1)`, [email]))[0];
  }

  async user(id: string): Promise<UserRow | undefined> {
    return (await this.#sql<UserRow>(`SELECT ${USER_COLUMNS} FROM auth.users WHERE id = $1::uuid`, [id]))[0];
  }

  async updateUser(id: string, changes: { displayName?: string; timeZone?: string }): Promise<UserRow | undefined> {
    const rows = await this.#sql<UserRow>(
      `UPDATE auth.users SET display_name = coalesce($2, display_name), time_zone = coalesce($3, time_zone)
       WHERE id = $1::uuid RETURNING ${USER_COLUMNS}`,
      [id, changes.displayName ?? null, changes.timeZone ?? null],
    );
    return rows[0];
  }

  /** Starts a refresh-token family (a sign-in on one device); returns the token. */
  async startRefreshFamily(userId: string, now: Date): Promise<string> {
    const token = newSecret();
    await this.#insertRefresh(token, randomUUID(), userId, now, this.db.em());
    return token;
  }

  async #insertRefresh(token: string, familyId: string, userId: string, now: Date, em: EntityManager): Promise<void> {
    await this.#sql(
      `INSERT INTO auth.refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) VALUES ($1, $2::uuid, $3::uuid, $4, $5)`,
      [sha256(token), familyId, userId, now, new Date(now.getTime() + REFRESH_TOKEN_TTL_MS)],
      em,
    );
  }

  /**
   * Rotates a refresh token: marks it used and issues the next of its family, in one transaction
   * (row-locked, so two concurrent uses cannot both succeed). A token used before is a reuse:
   * the whole family is revoked, signing out every holder of that chain.
   */
  async rotateRefresh(token: string, now: Date): Promise<RefreshOutcome> {
    return this.db.em().transactional(async (txEm) => {
      const em = txEm as unknown as EntityManager;
      const [row] = await this.#sql<{ familyId: string; userId: string; expiresAt: Date; usedAt: Date | null; revokedAt: Date | null }>(
        `SELECT family_id::text AS "familyId", user_id::text AS "userId", expires_at AS "expiresAt", used_at AS "usedAt", revoked_at AS "revokedAt"
           FROM auth.refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [sha256(token)],
        em,
      );
      if (!row) return { ok: false, reason: "unknown" } as const;
      if (row.revokedAt) return { ok: false, reason: "revoked" } as const;
      if (row.usedAt) {
        await this.#sql(`UPDATE auth.refresh_tokens SET revoked_at = $2 WHERE family_id = $1::uuid AND revoked_at IS NULL`, [row.familyId, now], em);
        return { ok: false, reason: "reused" } as const;
      }
      if (new Date(row.expiresAt) <= now) return { ok: false, reason: "expired" } as const;
      await this.#sql(`UPDATE auth.refresh_tokens SET used_at = $2 WHERE token_hash = $1`, [sha256(token), now], em);
      const next = newSecret();
      await this.#insertRefresh(next, row.familyId, row.userId, now, em);
      return { ok: true, userId: row.userId, next } as const;
    });
  }

  /** Sign-out: the token's whole family ends (this device's chain). */
  async revokeRefreshFamily(token: string, now: Date): Promise<void> {
    await this.#sql(
      `UPDATE auth.refresh_tokens SET revoked_at = $2
        WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1)`,
      [sha256(token), now],
    );
  }

  async createApiToken(userId: string, name: string, expiresAt: Date | null): Promise<{ row: ApiTokenRow; secret: string }> {
    const secret = newSecret(API_TOKEN_PREFIX);
    const [row] = await this.#sql<ApiTokenRow>(
      `INSERT INTO auth.api_tokens (id, user_id, name, secret_hash, expires_at) VALUES ($1, $2::uuid, $3, $4, $5) RETURNING ${API_TOKEN_COLUMNS}`,
      [randomUUID(), userId, name, sha256(secret), expiresAt],
    );
    return { row: row!, secret };
  }

  async listApiTokens(userId: string): Promise<ApiTokenRow[]> {
    return this.#sql<ApiTokenRow>(
      `SELECT ${API_TOKEN_COLUMNS} FROM auth.api_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL ORDER BY created_at, id`,
      [userId],
    );
  }

  /** False when the user has no such live token (including someone else's id). */
  async revokeApiToken(userId: string, id: string, now: Date): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const rows = await this.#sql(`UPDATE auth.api_tokens SET revoked_at = $3 WHERE user_id = $1::uuid AND id = $2::uuid AND revoked_at IS NULL RETURNING id`, [
      userId,
      id,
      now,
    ]);
    return rows.length > 0;
  }

  /** The owner and time zone of a live API token. */
  async apiTokenUser(secret: string, now: Date): Promise<{ userId: string; timeZone: string } | undefined> {
    const [row] = await this.#sql<{ id: string; userId: string; timeZone: string; lastUsedAt: Date | null }>(
      `SELECT t.id::text, t.user_id::text AS "userId", u.time_zone AS "timeZone", t.last_used_at AS "lastUsedAt"
         FROM auth.api_tokens t JOIN auth.users u ON u.id = t.user_id
        WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`,
      [sha256(secret), now],
    );
    if (!row) return undefined;
    if (!row.lastUsedAt || now.getTime() - new Date(row.lastUsedAt).getTime() > LAST_USED_RESOLUTION_MS) {
      await this.#sql(`UPDATE auth.api_tokens SET last_used_at = $2 WHERE id = $1::uuid`, [row.id, now]);
    }
    return { userId: row.userId, timeZone: row.timeZone };
  }
}
