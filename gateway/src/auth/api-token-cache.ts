import type { Database } from "@taskmesh/db";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Scope } from "./scopes.js";

/**
 * The channel the auth schema's triggers notify, in the transaction that changes what a cached API
 * token stands for: the token revoked, deleted, its expiry or scopes changed; its user's time zone
 * or e-mail changed, the user signed out everywhere or deleted. The payload is the user's id.
 */
export const CREDENTIALS_CHANNEL = "auth_credentials";
// After a change it made, a replica sends a marker and waits until every replica listening has
// answered it: each answers once it has heard the marker, so the change before it too.
const ECHO = "echo ";
const ACK = "ack ";
// The listening sessions' application_name, followed by the replica's id.
const LISTENER = "taskmesh credentials";

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
  /** How long a change waits for the other replicas to say they heard it (default: staleMs + 1 s). */
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
  readonly #replicaId = randomUUID();
  // Per marker, the replicas yet to answer it, and what to call when none is left.
  readonly #echoes = new Map<string, { waiting: Set<string>; done: () => void }>();
  readonly #userListeners = new Set<(userId: string) => void>();
  #db: Database | undefined;
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
    this.#echoTimeoutMs = options.echoTimeoutMs ?? this.#staleMs + 1_000;
  }

  /** Starts listening; the cache serves from the moment the session is confirmed. */
  async listen(db: Database): Promise<void> {
    this.#db = db;
    await db.listen(CREDENTIALS_CHANNEL, (payload) => this.#notified(payload), {
      pingMs: this.#pingMs,
      applicationName: `${LISTENER} ${this.#replicaId}`,
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

  /** Calls `listener` with the user's id at every change of a user's credentials this replica hears of (its own included). */
  onUserChanged(listener: (userId: string) => void): () => void {
    this.#userListeners.add(listener);
    return () => this.#userListeners.delete(listener);
  }

  /**
   * After a change committed: resolves once every replica listening when it was called (this one
   * included) has heard everything committed before, so none of them serves what changed from
   * memory any more. Each answers a marker sent now (notifications arrive in commit order). A replica
   * that does not answer within `echoTimeoutMs` (its session lost or silent) has stopped serving from
   * memory by then.
   */
  async settled(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    const em = db.em();
    const listeners = await db.query<{ name: string }>(em, `SELECT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`, [`${LISTENER} %`]);
    const waiting = new Set(listeners.map((l) => l.name.slice(LISTENER.length + 1)));
    if (waiting.size === 0) return;
    const marker = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<void>((resolve) => {
      this.#echoes.set(marker, { waiting, done: resolve });
      timer = setTimeout(resolve, this.#echoTimeoutMs);
    });
    try {
      await db.query(em, `SELECT pg_notify($1, $2)`, [CREDENTIALS_CHANNEL, `${ECHO}${marker}`]);
      await answered;
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
    else if (payload.startsWith(ECHO)) this.#answer(payload.slice(ECHO.length));
    else if (payload.startsWith(ACK)) this.#answered(payload.slice(ACK.length));
    else {
      this.forgetUser(payload);
      for (const listener of this.#userListeners) listener(payload);
    }
  }

  /** Heard a marker: every change committed before it has been heard too. */
  #answer(marker: string): void {
    const db = this.#db;
    if (!db) return;
    // Unanswered, the replica that waits gives up after echoTimeoutMs: nothing more to do here.
    db.query(db.em(), `SELECT pg_notify($1, $2)`, [CREDENTIALS_CHANNEL, `${ACK}${marker} ${this.#replicaId}`]).catch(() => {});
  }

  #answered(ack: string): void {
    const [marker = "", replica = ""] = ack.split(" ");
    const echo = this.#echoes.get(marker);
    if (!echo) return;
    echo.waiting.delete(replica);
    if (echo.waiting.size === 0) echo.done();
  }

  /** Empty, and serving from now (`up`) or not until the session is back. */
  #reset(up: boolean): void {
    this.#generation++;
    this.#entries.clear();
    this.#up = up;
    if (up) this.#aliveAt = performance.now();
  }
}
