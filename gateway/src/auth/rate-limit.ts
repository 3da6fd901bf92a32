import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryLaterSchema } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { addressKey } from "./client-address.js";

export interface RateLimitOptions {
  /** Attempts allowed per window. */
  points: number;
  windowSeconds: number;
}

export interface AuthLimits {
  /** Per client address + e-mail (brute force of one account). */
  perAccount: RateLimitOptions;
  /** Per client address (IPv6 by /64), whatever the e-mails (a spray from one place). */
  perAddress: RateLimitOptions;
  /** For the whole replica (a spray from many places). */
  global: RateLimitOptions;
}

/** RESOURCE_EXHAUSTED with a retry delay: the `retry-after` header (seconds) and a RetryLater detail. */
export function retryLater(what: string, seconds: number): ConnectError {
  return new ConnectError(`${what}: retry in ${seconds} s`, Code.ResourceExhausted, { "retry-after": String(seconds) }, [
    { desc: RetryLaterSchema, value: create(RetryLaterSchema, { retryDelay: durationFromMs(seconds * 1000) }) },
  ]);
}

/**
 * Guards for SignIn/SignUp, in the replica's memory (each replica counts on its own: with N
 * replicas an attacker gets N times the budget): per client address + e-mail, per client address,
 * and for the replica as a whole. Checked before the database or any hashing.
 */
export class AuthRateLimit {
  readonly #account: RateLimiterMemory;
  readonly #address: RateLimiterMemory;
  readonly #global: RateLimiterMemory;

  constructor(
    private readonly action: string,
    options: RateLimitOptions | AuthLimits,
  ) {
    const limits: AuthLimits = "perAccount" in options ? options : { ...defaultLimits(action), perAccount: options };
    const limiter = (o: RateLimitOptions, scope: string) => new RateLimiterMemory({ points: o.points, duration: o.windowSeconds, keyPrefix: `${action}:${scope}` });
    this.#account = limiter(limits.perAccount, "account");
    this.#address = limiter(limits.perAddress, "address");
    this.#global = limiter(limits.global, "global");
  }

  /** Counts an attempt; RESOURCE_EXHAUSTED with the delay (detail + retry-after) when over a limit. */
  async attempt(address: string, email: string): Promise<void> {
    await this.#consume(this.#global, "all", `too many ${this.action} attempts on this server right now`);
    await this.#consume(this.#address, addressKey(address), `too many ${this.action} attempts from this address`);
    await this.#consume(this.#account, key(address, email), `too many ${this.action} attempts for this e-mail from this address`);
  }

  async #consume(limiter: RateLimiterMemory, k: string, what: string): Promise<void> {
    try {
      await limiter.consume(k);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      throw retryLater(what, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    }
  }

  /** A successful sign-in clears the count of this e-mail from this address. */
  async reset(address: string, email: string): Promise<void> {
    await this.#account.delete(key(address, email));
  }
}

/** Defaults besides the per-account limit: generous for an office behind one NAT, tight for a spray. */
export function defaultLimits(action: string): Omit<AuthLimits, "perAccount"> {
  return action === "sign-up"
    ? { perAddress: { points: 60, windowSeconds: 3600 }, global: { points: 300, windowSeconds: 60 } }
    : { perAddress: { points: 30, windowSeconds: 60 }, global: { points: 600, windowSeconds: 60 } };
}

function key(address: string, email: string): string {
  return `${address}|${email.toLowerCase()}`;
}
