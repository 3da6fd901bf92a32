/**
 * Runs one flush at a time and folds every call that arrived meanwhile into the next flush:
 * concurrent writers share round trips (Kafka request, DB transaction) instead of queueing
 * behind each other, and flushes happen in call order, so per-key order across calls holds.
 * A flush may return one result per item; each caller gets the results of its own items.
 */
export class GroupCommit<T, R = void> {
  #pending: { items: T[]; resolve: (results: R[]) => void; reject: (err: unknown) => void }[] = [];
  #draining = false;

  constructor(
    // biome-ignore lint/suspicious/noConfusingVoidType: a flush without per-item results is an async function that returns nothing, a Promise<void>
    private readonly flush: (items: T[]) => Promise<R[] | void>,
    private readonly maxItems = 10_000,
  ) {}

  submit(items: T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#pending.length > 0) {
      const group = [this.#pending.shift()!];
      let size = group[0]!.items.length;
      while (this.#pending.length > 0 && size + this.#pending[0]!.items.length <= this.maxItems) {
        const next = this.#pending.shift()!;
        size += next.items.length;
        group.push(next);
      }
      try {
        const results = (await this.flush(group.flatMap((g) => g.items))) ?? [];
        let offset = 0;
        for (const g of group) {
          g.resolve(results.slice(offset, offset + g.items.length));
          offset += g.items.length;
        }
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.#draining = false;
  }
}

/**
 * A GroupCommit per key (a user, say): calls of one key are folded into shared flushes in call
 * order, while different keys flush independently of each other. A key's queue is dropped when
 * it has nothing left to do.
 */
export class KeyedGroupCommit<K, T, R = void> {
  readonly #queues = new Map<K, { commit: GroupCommit<T, R>; pending: number }>();

  constructor(
    // biome-ignore lint/suspicious/noConfusingVoidType: a flush without per-item results is an async function that returns nothing, a Promise<void>
    private readonly flush: (key: K, items: T[]) => Promise<R[] | void>,
    private readonly maxItems = 10_000,
  ) {}

  async submit(key: K, items: T[]): Promise<R[]> {
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = { commit: new GroupCommit<T, R>((batch) => this.flush(key, batch), this.maxItems), pending: 0 };
      this.#queues.set(key, queue);
    }
    queue.pending++;
    try {
      return await queue.commit.submit(items);
    } finally {
      if (--queue.pending === 0) this.#queues.delete(key);
    }
  }

  /** Keys with calls in flight. */
  get size(): number {
    return this.#queues.size;
  }
}
