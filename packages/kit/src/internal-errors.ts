import type { Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import type { Logger } from "./logger.js";
import { errorsMapped } from "./errors-mapped.js";
import { requestViolations } from "./request-checks.js";
import { isTransientError } from "./transient-errors.js";

const WITH_ID = /\(id [0-9a-f-]{36}\)/;

/** True when an INTERNAL/UNKNOWN error already carries an error id (logged where it happened). */
function hasErrorId(err: ConnectError): boolean {
  return WITH_ID.test(err.rawMessage);
}

/**
 * gRPC carries an error's message in a header (grpc-message), and clients cap headers (grpc-go at
 * 16 KiB): a message that echoes a long input would make the whole answer unreadable.
 */
const MAX_MESSAGE_CHARS = 1024;

function capped(err: ConnectError): ConnectError {
  if (err.rawMessage.length <= MAX_MESSAGE_CHARS) return err;
  const short = new ConnectError(`${err.rawMessage.slice(0, MAX_MESSAGE_CHARS)}… (${err.rawMessage.length} characters in all)`, err.code, err.metadata, undefined, err.cause);
  short.details = err.details;
  return short;
}

/**
 * Never leak internals to callers, never answer a bare `internal`: every error that is not a
 * deliberate status (a thrown Error, an INTERNAL/UNKNOWN ConnectError from a library or an
 * in-process upstream, a response that could not be encoded) is logged with its stack and an
 * error id, and the caller gets INTERNAL with that id to quote.
 */
export function internalErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const rpc = `${req.service.typeName}/${req.method.name}`;
    const internal = (err: unknown, what: string) => {
      const id = randomUUID();
      const cause = err instanceof ConnectError ? err.cause : undefined;
      logger.error({ err, cause, errorId: id, rpc }, what);
      return new ConnectError(`internal error (id ${id}); the server log has the details`, Code.Internal);
    };
    const answered = (err: unknown): ConnectError => {
      if (err instanceof ConnectError && !((err.code === Code.Internal || err.code === Code.Unknown) && !hasErrorId(err))) return capped(err);
      if (isTransientError(err)) {
        const id = randomUUID();
        logger.warn({ err, errorId: id, rpc }, "a dependency is unavailable");
        return new ConnectError(`a service this call needs is unavailable (id ${id}); try again shortly`, Code.Unavailable);
      }
      return internal(err, "internal error");
    };
    const res = await errorsMapped(next(req), answered);
    if (res.stream) return res;
    // A Timestamp outside 0001–9999 cannot be written as JSON: Connect would answer a bare
    // `internal` after this interceptor, with nothing logged. Caught here instead.
    const bad = requestViolations(req.method.output, res.message as Message, false);
    if (bad.length > 0) throw internal(new Error(`response cannot be encoded: ${bad.map((v) => `${v.field} ${v.message}`).join("; ")}`), "internal error");
    return res;
  };
}
