import { ConnectError } from "@connectrpc/connect";
import { useState } from "react";

/**
 * A change made from a form or a field: `attempt(what)` runs it, then `refresh`, and resolves true;
 * when either fails, `problem` says why (for FieldError) and it resolves false. Each attempt clears
 * the problem of the one before.
 */
export function useAttempt(refresh: () => Promise<unknown>) {
  const [problem, setProblem] = useState<string>();
  const attempt = async (what: () => Promise<unknown>): Promise<boolean> => {
    setProblem(undefined);
    try {
      await what();
      await refresh();
      return true;
    } catch (err) {
      setProblem(ConnectError.from(err).rawMessage);
      return false;
    }
  };
  return { problem, attempt };
}
