import { useCallback, useEffect, useState } from "react";

export function useDebounced<T>(value: T, delayMs: number): T {
  return useSettling(value, delayMs)[0];
}

/**
 * A value that settles once it has stayed the same for delayMs (typing), and the way to settle one
 * at once (a click, Back): a choice shows its result in the same frame instead of the last one's.
 */
export function useSettling<T>(value: T, delayMs: number): [settled: T, settleNow: (value: T) => void] {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return [settled, useCallback((now: T) => setSettled(() => now), [])];
}
