/**
 * Edge-triggered wake-ups without lost signals: a reader notes the generation before it looks
 * for work and sleeps only if nothing was signalled since.
 */
export class Wakeup {
  #generation = 0;
  #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  signal(): void {
    this.#generation++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves on the next signal after `seen`, or after `timeoutMs`. */
  wait(seen: number, timeoutMs: number): Promise<void> {
    if (this.#generation !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}
