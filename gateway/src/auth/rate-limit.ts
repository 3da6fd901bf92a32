import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryLaterSchema } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimitOptions {
  /** Attempts allowed per window for one client address and e-mail. */
  points: number;
  windowSeconds: number;
}

/**
 * Brute-force guard for SignIn/SignUp, keyed by client address + e-mail, in the replica's memory
 * (each replica counts on its own: with N replicas an attacker gets N times the budget).
 */
export class AuthRateLimit {
  readonly #limiter: RateLimiterMemory;

  constructor(
    private readonly action: string,
    options: RateLimitOptions,
  ) {
    this.#limiter = new RateLimiterMemory({ points: options.points, duration: options.windowSeconds, keyPrefix: action });
  }

  /** Counts an attempt; RESOURCE_EXHAUSTED with the delay (detail + retry-after) when over the limit. */
  async attempt(address: string, email: string): Promise<void> {
    try {
      await this.#limiter.consume(key(address, email));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new ConnectError(
        `too many ${this.action} attempts for this e-mail from this address: retry in ${seconds} s`,
        Code.ResourceExhausted,
        { "retry-after": String(seconds) },
        [{ desc: RetryLaterSchema, value: create(RetryLaterSchema, { retryDelay: durationFromMs(seconds * 1000) }) }],
      );
    }
  }

  /** A successful sign-in clears the count. */
  async reset(address: string, email: string): Promise<void> {
    await this.#limiter.delete(key(address, email));
  }
}

function key(address: string, email: string): string {
  return `${address}|${email.toLowerCase()}`;
}
