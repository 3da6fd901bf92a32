import type { Database } from "@taskmesh/db";
import { CHANGES_CHANNEL } from "./task-store.js";

/**
 * One LISTEN per process, fanned out to the WatchTasks streams of each user. A notification only
 * says "this user has news"; streams then read the feed from their own cursor, so a missed or
 * merged notification can delay but never lose a change.
 */
export class ChangeHub {
  readonly #waiters = new Map<string, Set<() => void>>();
  #unlisten: (() => Promise<void>) | undefined;

  async start(db: Database): Promise<void> {
    this.#unlisten = await db.listen(CHANGES_CHANNEL, (userId) => this.#wake(userId));
  }

  async stop(): Promise<void> {
    await this.#unlisten?.();
  }

  subscribe(userId: string, onChange: () => void): () => void {
    let set = this.#waiters.get(userId);
    if (!set) {
      set = new Set();
      this.#waiters.set(userId, set);
    }
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0) this.#waiters.delete(userId);
    };
  }

  #wake(userId: string | null): void {
    const sets = userId === null ? [...this.#waiters.values()] : [this.#waiters.get(userId) ?? []];
    for (const set of sets) for (const fn of set) fn();
  }
}
