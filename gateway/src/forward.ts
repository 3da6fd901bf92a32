import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel as Idempotency } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type ConnectRouter, type HandlerContext, type Transport } from "@connectrpc/connect";
import { DEVICE_HEADER, TIME_ZONE_HEADER, USER_ID_HEADER } from "@taskmesh/kit";
import { TaskService, type WatchTasksRequest, type WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { callerOf } from "./auth/auth-interceptor.js";
import type { Identity } from "./auth/index.js";
import { sealed, watchFrom, type WatchCursors } from "./watch-cursors.js";

/** Services reached through one transport (an in-process module, a URL, a sidecar). */
export interface Upstream {
  services: DescService[];
  transport: Transport;
}

// The caller's e-mail, trusted like the user id (the task service addresses project invitations to it).
const EMAIL_HEADER = "x-user-email";
// Client headers worth passing on; everything else (x-user-id first of all) stays at the edge.
const PASSED_THROUGH = ["traceparent", "tracestate", TIME_ZONE_HEADER, DEVICE_HEADER];

/**
 * Registers every method of the upstream services as a handler that forwards the call with the
 * trusted identity header of the caller (authenticated by authInterceptor before it gets here).
 * WatchTasks cursors are sealed per user on the way out and opened on the way in.
 */
export function forwardingRoutes(upstreams: Upstream[], cursors: WatchCursors): (router: ConnectRouter) => void {
  return (router) => {
    for (const { services, transport } of upstreams) {
      for (const service of services) {
        const client = createClient(service, transport);
        for (const method of service.methods) {
          // Calls go through the typed client, by method name (the gateway knows methods only at run time).
          const call: (req: unknown, options: object) => unknown = Reflect.get(client, method.localName);
          const options = (ctx: HandlerContext) => ({
            headers: upstreamHeaders(ctx.requestHeader, callerOf(ctx)),
            signal: ctx.signal,
            timeoutMs: ctx.timeoutMs(),
          });
          const handler = service.typeName === TaskService.typeName && method.name === "WatchTasks" ? watchHandler(cursors, call, options) : handlerFor(method, call, options);
          router.rpc(method as DescMethod, handler as never);
        }
      }
    }
  };
}

function handlerFor(method: DescMethod, call: (req: unknown, options: object) => unknown, options: (ctx: HandlerContext) => object) {
  switch (method.methodKind) {
    case "unary": {
      const idempotent = method.idempotency !== Idempotency.IDEMPOTENCY_UNKNOWN;
      return async (req: unknown, ctx: HandlerContext) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await call(req, options(ctx));
          } catch (err) {
            const again = neverProcessed(err) || ((idempotent || carriesRequestId(req)) && dropped(err));
            if (attempt >= RETRY_ATTEMPTS || ctx.signal.aborted || !again) throw err;
            await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS * attempt));
          }
        }
      };
    }
    case "server_streaming":
      return async function* (req: unknown, ctx: HandlerContext) {
        yield* call(req, options(ctx)) as AsyncIterable<unknown>;
      };
    default:
      // No mesh service streams from the client; refuse loudly rather than half-forward one.
      return () => {
        throw new ConnectError(`${method.parent.typeName}/${method.name}: ${method.methodKind} calls are not forwarded`, Code.Unimplemented);
      };
  }
}

function watchHandler(cursors: WatchCursors, call: (req: unknown, options: object) => unknown, options: (ctx: HandlerContext) => object) {
  return async function* (req: WatchTasksRequest, ctx: HandlerContext) {
    const { userId } = callerOf(ctx);
    const watch = (cursor: string) => call({ ...req, cursor }, options(ctx)) as AsyncIterable<WatchTasksResponse>;
    for await (const message of watchFrom(cursors, userId, req.cursor, watch)) yield sealed(cursors, userId, message);
  };
}

// A replica shutting down may drop a call (its connection closes, its stream is reset). A call it
// refused is tried again whatever it is (HTTP/2 REFUSED_STREAM: never processed); one it dropped only
// if it has no side effects or carries a request id (a CreateTask sent twice with one is one task).
const RETRY_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 25;

function neverProcessed(err: unknown): boolean {
  return err instanceof ConnectError && err.rawMessage.includes("REFUSED_STREAM");
}

/** A write with a request id lands on one row however often it is sent (CreateTask derives the task's id from it). */
function carriesRequestId(req: unknown): boolean {
  const requestId = (req as { requestId?: unknown }).requestId;
  return typeof requestId === "string" && requestId !== "";
}

function dropped(err: unknown): boolean {
  return err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.Canceled);
}

export function upstreamHeaders(incoming: Headers, identity: Identity): Headers {
  const headers = new Headers({ [USER_ID_HEADER]: identity.userId });
  for (const name of PASSED_THROUGH) {
    const value = incoming.get(name);
    if (value) headers.set(name, value);
  }
  if (!headers.has(TIME_ZONE_HEADER)) headers.set(TIME_ZONE_HEADER, identity.timeZone);
  if (identity.email) headers.set(EMAIL_HEADER, identity.email);
  return headers;
}
