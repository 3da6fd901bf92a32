import { Code, ConnectError } from "@connectrpc/connect";

// A peer that restarts, a dropped or stalled link, a database failing over: the same call made
// again later can succeed. CANCELED too: nothing here cancels the calls it retries, so a cancel is
// a connection closed under a call in flight. Not ABORTED: here it says a version conflict, which
// the same call repeats.
const TRANSIENT_CODES = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Canceled]);
const SOCKET_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNABORTED",
  // an HTTP/2 session or stream closed under the call
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
// SQLSTATE: class 08 is a connection exception; 57P01–57P03 a server shutting down or starting;
// 53300 too many connections; 40001 and 40P01 a serialization failure or deadlock, retried as a whole;
// 57014 a statement cancelled (statement_timeout: a lock held or a server overloaded for a while) and
// 25P03 a session ended idle inside its transaction (its client had stopped talking).
const SQLSTATE = /^(08...|57P0[1-3]|53300|40001|40P01|57014|25P03)$/;
// node-postgres reports a socket lost mid-query, a pool wait that timed out and a query left
// unanswered past query_timeout in words only.
const PG_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Query read timeout/i;

/**
 * True when the error says something was unreachable for a while, not that the request is wrong:
 * worth retrying until it succeeds rather than giving up on the work. Looks through `cause` chains
 * and AggregateErrors (a connect attempt to every address of a host).
 */
export function isTransientError(err: unknown, depth = 0): boolean {
  if (depth > 5 || err === null || typeof err !== "object") return false;
  if (err instanceof ConnectError) {
    if (TRANSIENT_CODES.has(err.code)) return true;
  } else {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && (SOCKET_ERRORS.has(code) || SQLSTATE.test(code))) return true;
    if (err instanceof Error && PG_MESSAGES.test(err.message)) return true;
  }
  if (err instanceof AggregateError && err.errors.some((e) => isTransientError(e, depth + 1))) return true;
  return isTransientError((err as { cause?: unknown }).cause, depth + 1);
}
