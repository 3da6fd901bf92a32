import type { Database } from "@taskmesh/db";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Scope } from "./scopes.js";

/**
 * The channel the auth schema's triggers notify, in the transaction that changes what a cached API
 * token stands for: the token revoked, deleted, its expiry or scopes changed; its user's time zone
 * or e-mail changed, or the user deleted. The payload is the user's id.
 */
export const CREDENTIALS_CHANNEL = "auth_credentials";
// A replica's own marker, sent after a change it made, to know when its listener has seen the change.
const ECHO = "echo ";

/** What a live API token stands for, as its lookup read it. */
export interface ApiTokenOwner {
  tokenId: string;
  userId: string;
  timeZone: string;
  email: string;
  scopes: Scope[];
  expiresAt?: Date;
  /** When the token's last use was recorded (ms). */
  lastUsedAt: number;
}

export interface ApiTokenCacheOptions {
  maxEntries?: number;
  /** How often the listening session is asked for a sign of life. */
  pingMs?: number;
  /** How long after its last sign of life the listening session still counts as hearing everything. */
  staleMs?: number;
  /** How long a change waits for its own notification to come back. */
  echoTimeoutMs?: number;
}

/**
 * Live API tokens by secret hash, so a call with one costs no round trip, kept exact in effect by
 * PostgreSQL: every change to a token or its user notifies CREDENTIALS_CHANNEL in the changing
 * transaction, and each replica drops that user's entries when it hears it. The cache serves only
 * while its listening session is up and answered a ping less than `staleMs` ago (a session lost or
 * gone silent could be missing notifications); it is emptied when the session is lost. A lookup that
 * started before a notification (or before the session came up) is not cached: it may have read the
 * token before the change. Expiry is checked on every use. Bounded: the oldest entry goes first.
 */
export class ApiTokenCache {
  readonly #entries = new Map<string, ApiTokenOwner>();
  readonly #echoes = new Map<string, () => void>();
  readonly #maxEntries: number;
  readonly #pingMs: number;
  readonly #staleMs: number;
  readonly #echoTimeoutMs: number;
  #up = false;
  #aliveAt = 0;
  // Moves on at every notification and every change of the session: a lookup started in an older
  // generation may have read what a notification since then changed.
  #generation = 0;

  constructor(options: ApiTokenCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#pingMs = options.pingMs ?? 2_000;
    this.#staleMs = options.staleMs ?? 5_000;
    this.#echoTimeoutMs = options.echoTimeoutMs ?? 1_000;
  }

  /** Starts listening; the cache serves from the moment the session is confirmed. */
  async listen(db: Database): Promise<void> {
    await db.listen(CREDENTIALS_CHANNEL, (payload) => this.#notified(payload), {
      pingMs: this.#pingMs,
      onAlive: () => {
        this.#aliveAt = performance.now();
      },
      onLost: () => this.#reset(false),
    });
    this.#reset(true);
  }

  /** The generation to hand back to `put` with what a lookup started now reads. */
  get generation(): number {
    return this.#generation;
  }

  /** The token's owner when cached, the session hears every change, and the token has not expired at `now`. */
  get(secretHash: string, now: Date): ApiTokenOwner | undefined {
    if (!this.#live()) return undefined;
    const entry = this.#entries.get(secretHash);
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt <= now) {
      this.#entries.delete(secretHash);
      return undefined;
    }
    return entry;
  }

  /** Caches a lookup's answer, unless something may have changed since it started (`generation`). */
  put(secretHash: string, owner: ApiTokenOwner, generation: number): void {
    if (!this.#up || generation !== this.#generation) return;
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(secretHash, owner);
  }

  /** After this replica changed a user's credentials: its own calls see the change at once. */
  forgetUser(userId: string): void {
    this.#generation++;
    for (const [hash, entry] of this.#entries) if (entry.userId === userId) this.#entries.delete(hash);
  }

  /**
   * Resolves once this replica's listener has heard everything committed before the call (its own
   * marker came back, notifications arrive in commit order), so a change is answered only after
   * the other replicas, listening the same way, have about as surely heard it too. At once when
   * the cache is not serving; after `echoTimeoutMs` at most.
   */
  async settled(notify: (payload: string) => Promise<void>): Promise<void> {
    if (!this.#live()) return;
    const marker = `${ECHO}${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    const echoed = new Promise<void>((resolve) => {
      this.#echoes.set(marker, resolve);
      timer = setTimeout(resolve, this.#echoTimeoutMs);
    });
    try {
      await notify(marker);
      await echoed;
    } finally {
      clearTimeout(timer);
      this.#echoes.delete(marker);
    }
  }

  #live(): boolean {
    return this.#up && performance.now() - this.#aliveAt < this.#staleMs;
  }

  #notified(payload: string | null): void {
    if (payload === null) this.#reset(true);
    else if (payload.startsWith(ECHO)) this.#echoes.get(payload)?.();
    else this.forgetUser(payload);
  }

  /** Empty, and serving from now (`up`) or not until the session is back. */
  #reset(up: boolean): void {
    this.#generation++;
    this.#entries.clear();
    this.#up = up;
    if (up) this.#aliveAt = performance.now();
    if (!up) for (const resolve of this.#echoes.values()) resolve();
  }
}
