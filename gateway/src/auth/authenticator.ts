import { Code, ConnectError } from "@connectrpc/connect";
import { API_TOKEN_PREFIX, type AccountStore } from "./account-store.js";
import type { AccessTokens } from "./access-tokens.js";
import { ALL_SCOPES, type Scope } from "./scopes.js";

export interface Identity {
  userId: string;
  timeZone: string;
  /** The account's e-mail (forwarded as x-user-email: project invitations are addressed to it). */
  email?: string;
  /** When the credential stops being valid; undefined for non-expiring API tokens. */
  expiresAt?: Date;
  /** "session": a signed-in access token (every scope); "api-token": a personal API token. */
  kind: "session" | "api-token";
  scopes: readonly Scope[];
}

// How long a replica trusts the session epoch it read: a sign-out everywhere reaches other
// replicas' already-issued access tokens within this delay (on the replica that did it, at once).
const EPOCH_CACHE_MS = 5_000;
const EPOCH_CACHE_MAX = 10_000;

/** Turns a bearer credential (access JWT or personal API token) into the caller's identity. */
export class Authenticator {
  readonly #epochs = new Map<string, { epoch: number; readAt: number }>();
  readonly #changeListeners = new Set<(userId: string) => void>();

  constructor(
    private readonly tokens: AccessTokens,
    private readonly accounts: AccountStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    // What another replica changed (a sign-out everywhere, a revoked token) is refused here at once too.
    accounts.onCredentialsChanged((userId) => this.forgetEpoch(userId));
  }

  /** Calls `listener` with the user's id whenever credentials of that user may no longer be accepted. */
  onCredentialsChanged(listener: (userId: string) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** The identity, or UNAUTHENTICATED saying what is wrong with the credential. */
  async verify(token: string): Promise<Identity> {
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const owner = await this.accounts.apiTokenUser(token, this.now());
      if (!owner) throw unauthenticated("API token unknown, revoked or expired");
      return { ...owner, kind: "api-token" };
    }
    const claims = await this.tokens.verify(token);
    if ("rejected" in claims) throw unauthenticated(claims.rejected);
    if (claims.epoch < (await this.#epoch(claims.userId))) throw unauthenticated("signed out of every session: sign in again");
    return { userId: claims.userId, timeZone: claims.timeZone, email: claims.email, expiresAt: claims.expiresAt, kind: "session", scopes: ALL_SCOPES };
  }

  /** From request headers: `authorization: Bearer <token>`. */
  async fromHeaders(headers: Headers): Promise<Identity> {
    const header = headers.get("authorization");
    if (!header) throw unauthenticated("missing credentials: send `authorization: Bearer <access or API token>`");
    const match = /^Bearer\s+(\S{1,4096})$/i.exec(header.trim());
    if (!match) throw unauthenticated("malformed authorization header: expected `Bearer <token>`");
    return this.verify(match[1]!);
  }

  /**
   * After a change to the user's credentials (a sign-out everywhere here, or any change PostgreSQL
   * notified): this replica reads the session epoch afresh, so older access tokens are refused at
   * once, and its listeners check what they hold.
   */
  forgetEpoch(userId: string): void {
    this.#epochs.delete(userId);
    for (const listener of this.#changeListeners) listener(userId);
  }

  async #epoch(userId: string): Promise<number> {
    const at = Date.now();
    const cached = this.#epochs.get(userId);
    if (cached && at - cached.readAt < EPOCH_CACHE_MS) return cached.epoch;
    // A deleted account's tokens end too.
    const epoch = (await this.accounts.sessionEpoch(userId)) ?? Number.POSITIVE_INFINITY;
    if (this.#epochs.size >= EPOCH_CACHE_MAX) this.#epochs.clear();
    this.#epochs.set(userId, { epoch, readAt: at });
    return epoch;
  }
}

export function unauthenticated(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}
