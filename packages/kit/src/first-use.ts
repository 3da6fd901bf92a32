// What a rare path needs (an SMTP connection's library, say) made when that path first runs rather
// than at start: a process that never sends a mail never loads the library, and its source, code and
// objects stay out of the heap.

export interface OnFirstUse<T> {
  /** The value: the first call starts `make`, every later one gets the same promise (a failed `make` is tried again). */
  (): Promise<T>;
  /**
   * `use(value)` once the value is made, if a call has started making it; nothing otherwise (to close
   * on shutdown what was opened, without opening it to close it). A failed `make` is its caller's error.
   */
  ifStarted(use: (value: T) => void): void;
}

export function onFirstUse<T>(make: () => Promise<T>): OnFirstUse<T> {
  let started: Promise<T> | undefined;
  const get = () => {
    started ??= make().catch((err: unknown) => {
      started = undefined;
      throw err;
    });
    return started;
  };
  return Object.assign(get, { ifStarted: (use: (value: T) => void) => void started?.then(use, () => {}) });
}
