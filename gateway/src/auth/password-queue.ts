import { availableParallelism } from "node:os";
import { retryLater } from "./rate-limit.js";

export interface PasswordQueueOptions {
  /** Hashes run at once (default: half the cores, at least 1: scrypt is ~50 ms of one core each). */
  concurrency?: number;
  /** Hashes allowed to wait (default 16); one more is refused with RESOURCE_EXHAUSTED. */
  maxQueued?: number;
  /** A hash that waited this long is refused rather than started (default 5 s). */
  maxWaitMs?: number;
}

/**
 * A bounded queue in front of password hashing. scrypt runs on libuv's threadpool (4 threads, shared
 * with DNS and the file system), so without a cap a spray of sign-ins with different e-mails keeps
 * every core busy hashing and reads wait behind it: a ListTasks went from 15 ms to 900 ms. Here at
 * most `concurrency` hashes run, a few wait, and the rest are refused at once with a retry delay.
 */
export class PasswordQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxWaitMs: number;
  #running = 0;
  readonly #waiting: { start: () => void; refuse: (err: Error) => void; at: number }[] = [];
  /** Refused because the queue was full or the wait too long (for metrics and the benchmark). */
  refused = 0;

  constructor(options: PasswordQueueOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? Math.floor(availableParallelism() / 2));
    this.maxQueued = Math.max(0, options.maxQueued ?? 16);
    this.maxWaitMs = options.maxWaitMs ?? 5_000;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `work` when a slot is free; RESOURCE_EXHAUSTED (retry later) when too many are waiting. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency && this.#waiting.length === 0) {
      this.#running++;
    } else {
      if (this.#waiting.length >= this.maxQueued) {
        this.refused++;
        throw busy();
      }
      // #next() takes the slot for us before it starts us.
      await new Promise<void>((start, refuse) => this.#waiting.push({ start, refuse, at: Date.now() }));
    }
    try {
      return await work();
    } finally {
      this.#running--;
      this.#next();
    }
  }

  #next(): void {
    while (this.#waiting.length > 0 && this.#running < this.concurrency) {
      const waiter = this.#waiting.shift()!;
      if (Date.now() - waiter.at > this.maxWaitMs) {
        this.refused++;
        waiter.refuse(busy());
        continue;
      }
      this.#running++;
      waiter.start();
    }
  }
}

function busy(): Error {
  return retryLater("too many sign-ins are being checked right now", 1);
}
