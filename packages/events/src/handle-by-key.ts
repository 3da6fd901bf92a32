/**
 * Handles a batch's messages, those of one key in order and up to `concurrency` keys at once.
 * `handle` returns false to stop (shutdown): that key's later messages are left. Returns how many
 * messages from the start of the batch were all handled: only that run may be acknowledged. When
 * `handle` throws, the other keys' messages in hand finish first (none is left running behind the
 * caller's retry) and no new one starts; then the error is thrown.
 */
export async function handleByKey<M>(messages: M[], concurrency: number, keyOf: (m: M) => string, handle: (m: M) => Promise<boolean>): Promise<number> {
  const done = new Array<boolean>(messages.length).fill(false);
  const chains = new Map<string, number[]>();
  messages.forEach((m, i) => {
    // One at a time: the batch in offset order, as one chain.
    const key = concurrency > 1 ? keyOf(m) : "";
    chains.get(key)?.push(i) ?? chains.set(key, [i]);
  });
  const queue = [...chains.values()];
  let failed = false;
  const workers = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, async () => {
      for (let chain = queue.shift(); chain && !failed; chain = queue.shift()) {
        for (const i of chain) {
          if (failed) return;
          try {
            if (!(await handle(messages[i]!))) break;
          } catch (err) {
            failed = true;
            throw err;
          }
          done[i] = true;
        }
      }
    }),
  );
  const failure = workers.find((w) => w.status === "rejected");
  if (failure) throw failure.reason;
  const firstUndone = done.indexOf(false);
  return firstUndone === -1 ? messages.length : firstUndone;
}
