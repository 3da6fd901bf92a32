import type { Database, EntityManager } from "@taskmesh/db";
import { hash, randomBytes, randomUUID } from "node:crypto";
import { ApiTokenCache, type ApiTokenOwner } from "./api-token-cache.js";
import { ApiToken, EmailToken, RefreshToken, User } from "./entities.js";
import type { Scope } from "./scopes.js";

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string;
  timeZone: string;
  createdAt: Date;
  sessionEpoch: number;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  scopes: Scope[];
}

export type EmailTokenPurpose = "verify-email" | "reset-password";

/** What a sign-up waiting for its e-mail to be verified will become. */
export interface PendingSignUp {
  passwordHash: string;
  displayName: string;
  timeZone: string;
}

export interface EmailTokenRow {
  email: string;
  userId: string | null;
  pending: PendingSignUp | null;
}

const USER_COLUMNS = `id::text, email, password_hash AS "passwordHash", display_name AS "displayName", time_zone AS "timeZone", created_at AS "createdAt", session_epoch AS "sessionEpoch"`;
const API_TOKEN_COLUMNS = `id::text, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt", scopes`;
// Expired e-mail links are deleted when new ones are made, a day after they stop working.
const EMAIL_TOKEN_KEEP_MS = 24 * 3600 * 1000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
/** API-token prefix: tells them apart from JWTs and makes leaked ones easy to scan for. */
export const API_TOKEN_PREFIX = "tm_pat_";
// last_used_at is informative: one write per token per minute is plenty.
const LAST_USED_RESOLUTION_MS = 60_000;

export function sha256(secret: string): Buffer {
  // One-shot: no Hash object per call (an API token is hashed on every call).
  return hash("sha256", secret, "buffer");
}

export function newSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

export type RefreshOutcome = { ok: true; userId: string; next: string } | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused" };

/** All SQL of accounts (schema `auth`); parameterised, scoped to the user where there is one. */
export class AccountStore {
  /** `tokenCache` serves API tokens once it listens; a cache that does not, never serves. */
  constructor(
    private readonly db: Database,
    private readonly tokenCache = new ApiTokenCache(),
  ) {}

  /** Calls `listener` with the user's id when any replica changes that user's credentials (see ApiTokenCache). */
  onCredentialsChanged(listener: (userId: string) => void): () => void {
    return this.tokenCache.onUserChanged(listener);
  }

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
    return (await this.db.em().findOne(User, { id })) ?? undefined;
  }

  async updateUser(id: string, changes: { displayName?: string; timeZone?: string }): Promise<UserRow | undefined> {
    const rows = await this.#sql<UserRow>(
      `UPDATE auth.users SET display_name = coalesce($2, display_name), time_zone = coalesce($3, time_zone)
       WHERE id = $1::uuid RETURNING ${USER_COLUMNS}`,
      [id, changes.displayName ?? null, changes.timeZone ?? null],
    );
    // The time zone its API tokens carry: the other replicas hear it from the trigger.
    this.tokenCache.forgetUser(id);
    return rows[0];
  }

  /** Starts a refresh-token family (a sign-in on one device); returns the token. */
  async startRefreshFamily(userId: string, now: Date): Promise<string> {
    const token = newSecret();
    await this.#insertRefresh(token, randomUUID(), userId, now, this.db.em());
    return token;
  }

  async #insertRefresh(token: string, familyId: string, userId: string, now: Date, em: EntityManager): Promise<void> {
    await em.insert(RefreshToken, { tokenHash: sha256(token), familyId, user: userId, createdAt: now, expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS) });
  }

  /**
   * Rotates a refresh token: marks it used and issues the next of its family, in one transaction
   * (row-locked, so two concurrent uses cannot both succeed). A token used before is a reuse:
   * the whole family is revoked, signing out every holder of that chain.
   */
  async rotateRefresh(token: string, now: Date): Promise<RefreshOutcome> {
    return this.db.em().transactional(async (em) => {
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

  /** The account's current session epoch; undefined when the account is gone. */
  async sessionEpoch(userId: string): Promise<number | undefined> {
    return (await this.#sql<{ epoch: number }>(`SELECT session_epoch AS epoch FROM auth.users WHERE id = $1::uuid`, [userId]))[0]?.epoch;
  }

  /** The owner of a live refresh token (the latest of its chain: unused, unrevoked, unexpired). */
  async refreshTokenUser(token: string, now: Date): Promise<string | undefined> {
    const rows = await this.#sql<{ userId: string }>(`SELECT user_id::text AS "userId" FROM auth.refresh_tokens WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, [
      sha256(token),
      now,
    ]);
    return rows[0]?.userId;
  }

  /** Signs the account out everywhere: every refresh token revoked, older access tokens refused. */
  async endAllSessions(userId: string, now: Date): Promise<void> {
    await this.db.em().transactional(async (em) => {
      await this.#sql(`UPDATE auth.refresh_tokens SET revoked_at = $2 WHERE user_id = $1::uuid AND revoked_at IS NULL`, [userId, now], em);
      await this.#sql(`UPDATE auth.users SET session_epoch = session_epoch + 1 WHERE id = $1::uuid`, [userId], em);
    });
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.em().nativeUpdate(User, { id: userId }, { passwordHash });
  }

  /** A single-use link's token, valid for `ttlMs`; only its hash is stored. */
  async createEmailToken(purpose: EmailTokenPurpose, email: string, userId: string | null, pending: PendingSignUp | null, now: Date, ttlMs: number): Promise<string> {
    const token = newSecret();
    const em = this.db.em();
    await em.nativeDelete(EmailToken, { expiresAt: { $lt: new Date(now.getTime() - EMAIL_TOKEN_KEEP_MS) } });
    await em.insert(EmailToken, { tokenHash: sha256(token), purpose, email, user: userId, pending, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) });
    return token;
  }

  /** Uses up a link's token: its row if it was unused, unexpired and for `purpose`, else undefined. */
  async takeEmailToken(token: string, purpose: EmailTokenPurpose, now: Date): Promise<EmailTokenRow | undefined> {
    const [row] = await this.#sql<EmailTokenRow>(
      `UPDATE auth.email_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
       RETURNING email, user_id::text AS "userId", pending`,
      [sha256(token), purpose, now],
    );
    return row;
  }

  async createApiToken(userId: string, name: string, expiresAt: Date | null, scopes: readonly Scope[]): Promise<{ row: ApiTokenRow; secret: string }> {
    const secret = newSecret(API_TOKEN_PREFIX);
    const [row] = await this.#sql<ApiTokenRow>(
      `INSERT INTO auth.api_tokens (id, user_id, name, secret_hash, expires_at, scopes) VALUES ($1, $2::uuid, $3, $4, $5, $6::text[]) RETURNING ${API_TOKEN_COLUMNS}`,
      [randomUUID(), userId, name, sha256(secret), expiresAt, scopes],
    );
    return { row: row!, secret };
  }

  async listApiTokens(userId: string): Promise<ApiTokenRow[]> {
    return this.db.em().find(ApiToken, { user: userId, revokedAt: null }, { fields: ["id", "name", "createdAt", "lastUsedAt", "expiresAt", "scopes"], orderBy: { createdAt: "asc", id: "asc" } });
  }

  /** False when the user has no such live token (including someone else's id). */
  async revokeApiToken(userId: string, id: string, now: Date): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const revoked = (await this.db.em().nativeUpdate(ApiToken, { id, user: userId, revokedAt: null }, { revokedAt: now })) > 0;
    if (revoked) await this.#tokensChanged(userId);
    return revoked;
  }

  /** Revokes the API token with this secret (an MCP client's grant), if it is live. */
  async revokeApiTokenBySecret(secret: string, now: Date): Promise<void> {
    const [row] = await this.#sql<{ userId: string }>(`UPDATE auth.api_tokens SET revoked_at = $2 WHERE secret_hash = $1 AND revoked_at IS NULL RETURNING user_id::text AS "userId"`, [
      sha256(secret),
      now,
    ]);
    if (row) await this.#tokensChanged(row.userId);
  }

  /** A revocation is answered once no replica serves the token from memory any more. */
  async #tokensChanged(userId: string): Promise<void> {
    this.tokenCache.forgetUser(userId);
    await this.tokenCache.settled();
  }

  /** The owner, time zone, scopes and expiry of a live API token; from memory while the token cache can serve it. */
  async apiTokenUser(secret: string, now: Date): Promise<{ userId: string; timeZone: string; email: string; scopes: Scope[]; expiresAt?: Date } | undefined> {
    const secretHash = sha256(secret);
    const key = secretHash.toString("base64");
    let owner = this.tokenCache.get(key, now);
    if (!owner) {
      const generation = this.tokenCache.generation;
      const [row] = await this.#sql<{ id: string; userId: string; timeZone: string; email: string; lastUsedAt: Date | null; scopes: Scope[]; expiresAt: Date | null }>(
        `SELECT t.id::text, t.user_id::text AS "userId", u.time_zone AS "timeZone", u.email, t.last_used_at AS "lastUsedAt", t.scopes, t.expires_at AS "expiresAt"
           FROM auth.api_tokens t JOIN auth.users u ON u.id = t.user_id
          WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`,
        [secretHash, now],
      );
      if (!row) return undefined;
      owner = {
        tokenId: row.id,
        userId: row.userId,
        timeZone: row.timeZone,
        email: row.email,
        scopes: row.scopes,
        expiresAt: row.expiresAt ? new Date(row.expiresAt) : undefined,
        lastUsedAt: row.lastUsedAt ? new Date(row.lastUsedAt).getTime() : Number.NEGATIVE_INFINITY,
      } satisfies ApiTokenOwner;
      this.tokenCache.put(key, owner, generation);
    }
    if (now.getTime() - owner.lastUsedAt > LAST_USED_RESOLUTION_MS) {
      // Set first: the calls arriving meanwhile write nothing.
      owner.lastUsedAt = now.getTime();
      await this.#sql(`UPDATE auth.api_tokens SET last_used_at = $2 WHERE id = $1::uuid`, [owner.tokenId, now]);
    }
    return { userId: owner.userId, timeZone: owner.timeZone, email: owner.email, scopes: owner.scopes, expiresAt: owner.expiresAt };
  }
}
