import type { DescService } from "@bufbuild/protobuf";
import { createRegistry, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, createContextValues, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { fieldPathsInterceptor, invalidArgument, resolveFieldPaths } from "./errors.js";
import { jsonViolation } from "./json-errors.js";
import { createValidateInterceptor } from "@connectrpc/validate";
import type http from "node:http";
import type http2 from "node:http2";
import { constants as http2constants } from "node:http2";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import { EventEmitter, once, setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { grpcWebTextRequest, grpcWebTextResponse, isGrpcWebText } from "./grpc-web-text.js";
import { HealthState } from "./health.js";
import { kClientAddress, kUserId, userIdFromHeaders } from "./identity.js";
import type { Logger } from "./logger.js";
import { metricsRegistry, rpcMetricsInterceptor } from "./metrics.js";
import { internalErrorInterceptor } from "./internal-errors.js";
import { createOnePortServer } from "./one-port.js";
import { stopTelemetry } from "./telemetry.js";
import { rpcServerTracing } from "./tracing.js";
import { requestChecksInterceptor } from "./request-checks.js";
import { reflectionRoutes, servedServices } from "./reflection.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
/** Serves a non-RPC request; returns false when it does not handle the path. */
export type HttpRoute = (req: NodeRequest, res: NodeResponse) => boolean | Promise<boolean>;

/** A service (or several) ready to mount on a server, standalone or with others in embedded mode. */
export interface ServiceModule {
  services: DescService[];
  routes: (router: ConnectRouter) => void;
  stop(): Promise<void>;
}

export interface ServerOptions {
  logger: Logger;
  /** The Connect services hosted; each is registered for health and reflection. */
  services: DescService[];
  routes: (router: ConnectRouter) => void;
  /** Extra HTTP routes (web app, static files), tried after /healthz, /readyz, /metrics. */
  http?: HttpRoute[];
  /** Serve GET /metrics on this port (default true); an edge open to the Internet serves it elsewhere (startMetricsServer). */
  metricsOnMainPort?: boolean;
  /** Run before request validation (the gateway authenticates there: no answer before credentials). */
  interceptors?: Interceptor[];
  /** HTTP/1.1 upgrade requests (WebSocket); without it they are served as plain requests. */
  upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  readMaxBytes?: number;
  /**
   * Responses smaller than this go uncompressed even when the client accepts gzip. Default 64 KiB:
   * gzip of a 50-task page cost a service more CPU than it saved on in-cluster and loopback links.
   */
  compressMinBytes?: number;
  /** How long to keep serving after turning unready, so load balancers notice (Kubernetes preStop). */
  drainDelayMs?: number;
  /** How long in-flight calls may take to finish after the delay. */
  drainTimeoutMs?: number;
  /** How long, once every call is done, clients get to close their connections before they are cut. */
  lingerMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly health: HealthState;
  /**
   * Unready and tell clients to take new calls elsewhere (HTTP/2 GOAWAY, HTTP/1.1 Connection: close)
   * while still serving for `drainDelayMs`; then stop accepting, let unary calls finish, end
   * streams, close.
   */
  drain(): Promise<void>;
}

export async function startServer(options: ServerOptions, port: number, host = "0.0.0.0"): Promise<RunningServer> {
  const { logger } = options;
  const health = new HealthState();
  for (const service of options.services) health.set(service.typeName, false);
  const registry = metricsRegistry();
  const shutdown = new AbortController();
  // Every in-flight call listens for shutdown; hundreds at once is normal, not a leak.
  setMaxListeners(0, shutdown.signal);
  // Streams run until told to stop; unary calls are left to finish before that.
  const streamingPaths = new Set(servedServices(options.services).flatMap((s) => s.methods.filter((m) => m.methodKind !== "unary").map((m) => `/${s.typeName}/${m.name}`)));
  const inFlight = { all: 0, unary: 0 };
  const settled = new EventTarget();
  let draining = false;

  const internalErrors = internalErrorInterceptor(logger);

  const router = createConnectRouter({
    interceptors: [rpcServerTracing(), rpcMetricsInterceptor(), internalErrors, fieldPathsInterceptor(), ...(options.interceptors ?? []), requestChecksInterceptor(), createValidateInterceptor()],
    // Proto3 JSON as the spec reads it: an unknown key or enum name is an error (INVALID_ARGUMENT
    // naming the field), not silently dropped ("PRIORITY_URGENT" became PRIORITY_UNSPECIFIED).
    // The registry: an Any holding a type of the contracts served (a request echoed in an error
    // detail or a payload) can then be written as JSON, not failed as INTERNAL.
    jsonOptions: { ignoreUnknownFields: false, registry: createRegistry(...new Set(servedServices(options.services).map((s) => s.file))) },
    readMaxBytes: options.readMaxBytes ?? 4 * 1024 * 1024,
    // connectNodeAdapter's default, which a bare router lacks: without it a gzip request (grpc-go's
    // and connect-go's clients send them) is refused as UNIMPLEMENTED and no response is compressed.
    acceptCompression: [compressionGzip, compressionBrotli],
    compressMinBytes: options.compressMinBytes ?? 64 * 1024,
    shutdownSignal: shutdown.signal,
  });
  options.routes(router);
  health.routes(router);
  reflectionRoutes(options.services)(router);
  const contextValues = (req: NodeRequest) => createContextValues().set(kUserId, userIdFromHeaders(req.headers)).set(kClientAddress, req.socket.remoteAddress);
  const rpc = rpcHandler(router, contextValues);

  const builtIn: HttpRoute = async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return text(res, 200, "ok\n");
    if (path === "/readyz") return health.ready ? text(res, 200, "ready\n") : text(res, 503, "not ready\n");
    if (path === "/metrics" && options.metricsOnMainPort !== false) {
      writeHead(res, 200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
      return true;
    }
    return false;
  };
  const httpRoutes = [builtIn, ...(options.http ?? [])];

  const handler = (req: NodeRequest, res: NodeResponse): void => {
    const unary = !streamingPaths.has((req.url ?? "/").split("?")[0]!);
    inFlight.all++;
    if (unary) inFlight.unary++;
    res.once("close", () => {
      inFlight.all--;
      if (unary) inFlight.unary--;
      // Only a drain waits for calls to settle.
      if (draining) settled.dispatchEvent(new Event("settled"));
    });
    // A keep-alive client would otherwise reuse the socket just as drain closes it.
    if (draining && req.httpVersionMajor === 1) res.setHeader("connection", "close");
    if (req.httpVersionMajor === 1) drainAbandonedBody(req as http.IncomingMessage);
    void (async () => {
      for (const route of httpRoutes) if (await route(req, res)) return;
      rpc(req, res);
    })().catch((err: unknown) => {
      const errorId = randomUUID();
      logger.error({ err, errorId, path: (req.url ?? "/").split("?")[0] }, "http route failed");
      if (!res.headersSent) text(res, 500, `internal error (id ${errorId}); the server log has the details\n`);
    });
  };

  const { server, h1, h2, sockets, http2Sockets } = createOnePortServer(handler);
  // Only with a handler: while h1 has an 'upgrade' listener, Node hands it every upgrade request.
  if (options.upgrade) h1.on("upgrade", options.upgrade);
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
    if (draining) announceShutdown(s);
  });
  server.listen(port, host);
  await once(server, "listening");
  const actualPort = (server.address() as AddressInfo).port;
  health.setAll(true);

  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    health,
    async drain() {
      draining = true;
      health.setAll(false);
      for (const s of sessions) announceShutdown(s);
      await sleep(options.drainDelayMs ?? 0);
      server.close();
      h1.closeIdleConnections();
      for (const s of sessions) s.close();
      const deadline = Date.now() + (options.drainTimeoutMs ?? 10_000);
      await until(() => inFlight.unary === 0, settled, deadline);
      shutdown.abort(new ConnectError("server is shutting down, retry on another replica", Code.Unavailable));
      await until(() => inFlight.all === 0, settled, deadline);
      // A lingering close: FIN after what is written, reading (and dropping) until the peer closes.
      // Closing a socket with unread input (a PING, a WINDOW_UPDATE) sends an RST, and a peer that
      // gets an RST drops what it has not read yet: the last responses. What is left after a moment
      // is destroyed. An HTTP/2 session ends its own connection, after its final GOAWAY: that frame,
      // naming the last stream served, lets clients resend calls still on the wire (never read);
      // ending the socket under the session first loses it, and those calls fail as cancelled.
      const open = [...sockets].filter((socket) => !socket.destroyed);
      for (const socket of open) {
        socket.resume();
        if (!http2Sockets.has(socket)) socket.end();
      }
      // 'close' comes after an 'error' too (a peer that resets instead of closing).
      const closed = open.map((socket) => new Promise((resolve) => socket.once("close", resolve)));
      const linger = new AbortController();
      await Promise.race([Promise.all(closed), sleep(options.lingerMs ?? 2_000, linger.signal)]);
      linger.abort();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * What connectNodeAdapter does (route by path, run the universal handler), plus: a Connect JSON
 * request that cannot be decoded because of an unknown enum name or key gets an INVALID_ARGUMENT
 * naming the field (protobuf-es names only the enum type), with a buf.validate.Violations detail;
 * gRPC-Web's text mode is served as binary gRPC-Web between base64 codecs (grpc-web-text.ts).
 */
function rpcHandler(router: ConnectRouter, contextValues: (req: NodeRequest) => ContextValues) {
  const paths = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  return (req: NodeRequest, res: NodeResponse): void => {
    const handler = paths.get((req.url ?? "").split("?", 2)[0] ?? "");
    if (!handler) {
      writeHead(res, 404, {});
      res.end();
      return;
    }
    let uReq = universalRequestFromNodeRequest(req as http.IncomingMessage, closedEarly(req, res), undefined, contextValues(req));
    const text = isGrpcWebText(uReq.header.get("content-type"));
    if (text && isAsyncIterable(uReq.body)) uReq = grpcWebTextRequest(uReq, uReq.body);
    let body: Uint8Array[] | undefined;
    const plainJson = handler.method.methodKind === "unary" && /^application\/json\b/i.test(uReq.header.get("content-type") ?? "") && !uReq.header.get("content-encoding");
    if (plainJson && isAsyncIterable(uReq.body)) {
      const captured: Uint8Array[] = [];
      body = captured;
      const inner = uReq.body;
      uReq = {
        ...uReq,
        body: (async function* () {
          for await (const chunk of inner) {
            captured.push(chunk);
            yield chunk;
          }
        })(),
      };
    }
    handler(uReq)
      .then(async (uRes) => {
        // RFC 9110: a 405 names the methods the resource takes (connect-node leaves Allow out).
        if (uRes.status === 405) {
          const header = new Headers(uRes.header);
          header.set("allow", handler.allowedMethods.join(", "));
          uRes = { ...uRes, header };
        }
        if (text) return universalResponseToNodeResponse(grpcWebTextResponse(uRes), res);
        return universalResponseToNodeResponse(body && uRes.status === 400 ? await explainJsonError(handler.method.input, body, uRes) : uRes, res);
      })
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        console.error(`handler for rpc ${handler.method.name} of ${handler.service.typeName} failed`, reason);
      });
  };
}

/**
 * What connect-node watches to abort a call's signal on HTTP/1.1 (it aborts when this emits
 * "close"): a stand-in for the response that closes only when the response closed before it was
 * complete, i.e. the client went away. Handed the response itself, connect-node would abort every
 * call once its response is written, when nothing is left to tell, with a new DOMException each
 * time (an Error with its stack trace, ~10 µs). HTTP/2 requests are watched by their stream.
 */
function closedEarly(req: NodeRequest, res: NodeResponse): http.ServerResponse {
  if (req.httpVersionMajor !== 1) return res as http.ServerResponse;
  const early = new EventEmitter();
  res.once("close", () => {
    if (!res.writableFinished) early.emit("close");
  });
  return early as http.ServerResponse;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

async function explainJsonError(input: DescMessage, chunks: Uint8Array[], uRes: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (!uRes.body) return uRes;
  const out: Uint8Array[] = [];
  for await (const chunk of uRes.body) out.push(chunk);
  const original = Buffer.concat(out);
  const respond = (bytes: Uint8Array) => {
    const header = new Headers(uRes.header);
    if (header.has("content-length")) header.set("content-length", String(bytes.byteLength));
    return {
      ...uRes,
      header,
      body: (async function* () {
        yield bytes;
      })(),
    };
  };
  try {
    const error = errorFromJsonBytes(original, undefined, new ConnectError("", Code.Unknown));
    if (error.code !== Code.InvalidArgument || !error.rawMessage.startsWith("cannot decode")) return respond(original);
    const violation = jsonViolation(input, JSON.parse(Buffer.concat(chunks).toString("utf8")));
    if (!violation) return respond(original);
    const named = invalidArgument([violation]);
    resolveFieldPaths(input, named);
    return respond(errorToJsonBytes(named, {}));
  } catch {
    return respond(original);
  }
}

/**
 * An HTTP/1.1 request whose body connect stopped reading part way and destroyed (a message over
 * readMaxBytes, a stream the handler left) leaves Node's parser inside that body, reading no more:
 * no later request on the connection would ever be answered, and the client would wait on it
 * forever. The rest of the body is read and dropped instead, as Node does with a body nobody read,
 * so the connection serves its next request. (Ending the connection instead races the client, which
 * may already have sent its next call on it.)
 */
function drainAbandonedBody(req: http.IncomingMessage): void {
  // req.socket is gone once the request is destroyed
  const socket = req.socket;
  req.once("close", () => {
    if (req.complete || socket.destroyed) return;
    // Node's own discard: the parser then drops the body's bytes instead of pushing them to req
    (req as http.IncomingMessage & { _dump(): void })._dump();
    socket.resume();
  });
}

/**
 * `res.writeHead(status, headers)` on either response: HTTP/1.1's and HTTP/2's compatibility API take
 * the same arguments, but their overloads (@types/node 24) cannot be called through the union.
 */
export function writeHead(res: NodeResponse, status: number, headers: http.OutgoingHttpHeaders): void {
  (res as http.ServerResponse).writeHead(status, headers);
}

function text(res: NodeResponse, status: number, body: string): true {
  writeHead(res, status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
  return true;
}

/**
 * The first step of a graceful HTTP/2 shutdown: GOAWAY with the highest stream id, so the client
 * sends new calls on a new connection while every call already on the wire is still served.
 */
function announceShutdown(session: http2.Http2Session): void {
  if (!session.closed && !session.destroyed) session.goaway(http2constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
}

/** Resolves when `done()` holds after a change, or at the deadline. */
function until(done: () => boolean, changes: EventTarget, deadline: number): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      changes.removeEventListener("settled", check);
      resolve();
    };
    const check = () => done() && finish();
    const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
    changes.addEventListener("settled", check);
  });
}

/** Resolves after `ms`, or at once when `signal` aborts (its timer then no longer holds the process). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Drains on SIGTERM/SIGINT, then runs `after` (close databases, flush) and exits. Signals that
 * arrive while draining are ignored: one Ctrl-C can reach a process twice (from the terminal to its
 * process group, and relayed by the npm script and scripts/launch.mjs above it), and a second one
 * must not cut the drain short.
 */
export function drainOnSignals(servers: RunningServer[], logger: Logger, after: () => Promise<void>): void {
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) return;
    draining = true;
    logger.info({ signal }, "draining");
    void Promise.all(servers.map((s) => s.drain()))
      .then(after)
      .then(stopTelemetry)
      .then(() => {
        logger.info("stopped");
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "drain failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
