import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type ConnectRouter, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import { errorsMapped, reaches, rpcClientTracing, rpcServerTracing, urlVariable, type ClusterTransport } from "@taskmesh/kit";
import { GoawaySafeSessionManager } from "./http2-sessions.js";
import { inProcessTransport } from "./in-process.js";

/**
 * How a service reaches another one:
 * - inprocess: the callee's routes in this process (embedded mode), validated as over the network;
 * - direct: gRPC to the callee's URL (cluster mode without a mesh);
 * - dapr: gRPC to the local daprd, which proxies to the callee's sidecar by app id (cluster mode).
 */
export type TransportConfig = { mode: "inprocess"; routes: Record<string, (router: ConnectRouter) => void> } | ClusterTransport;

export type TransportMode = TransportConfig["mode"];

/** daprd's gRPC proxy routes a call to the app with this id. */
export const DAPR_APP_ID_HEADER = "dapr-app-id";
/**
 * Marks streaming calls for daprd: its resiliency timeout and retries then cover only the stream's
 * establishment, so a long WatchTasks is not cut at the unary timeout.
 */
export const DAPR_STREAM_HEADER = "dapr-stream";

/** A Connect transport to `service` (its app id in the mesh: tasks, recurrence, reminders, audit, gateway). */
export function serviceTransport(config: TransportConfig, service: string): Transport {
  switch (config.mode) {
    case "inprocess": {
      const routes = config.routes[service];
      if (!routes) throw new Error(`no in-process routes for service "${service}" (have: ${Object.keys(config.routes).join(", ") || "none"})`);
      return inProcessTransport(routes, { interceptors: [rpcClientTracing(), rpcServerTracing(), createValidateInterceptor()] });
    }
    case "direct": {
      const baseUrl = config.urls[service];
      if (!baseUrl) throw new Error(`no URL for service "${service}": set ${urlVariable(service)} (e.g. http://${service}:8080)`);
      return createGrpcTransport({ baseUrl, sessionManager: new GoawaySafeSessionManager(baseUrl), interceptors: [rpcClientTracing()] });
    }
    case "dapr": {
      const baseUrl = `http://${config.daprHost ?? "127.0.0.1"}:${config.daprGrpcPort}`;
      return createGrpcTransport({ baseUrl, sessionManager: new GoawaySafeSessionManager(baseUrl), interceptors: [rpcClientTracing(), daprInvocation(service), passedDeadlinesExceeded()] });
    }
  }
}

/** A client of `service` at `target` when the transport reaches it (a direct one needs its URL), else undefined. */
export function clientIfReachable<T extends DescService>(service: T, transport: ClusterTransport, target: string): Client<T> | undefined {
  return reaches(transport, target) ? createClient(service, serviceTransport(transport, target)) : undefined;
}

function daprInvocation(appId: string): Interceptor {
  return (next) => (req) => {
    req.header.set(DAPR_APP_ID_HEADER, appId);
    if (req.stream) req.header.set(DAPR_STREAM_HEADER, "true");
    return next(req);
  };
}

/**
 * A call whose deadline passed ends with DEADLINE_EXCEEDED, as gRPC says. daprd's proxy ends such a
 * call itself, with CANCELED ("context canceled"), and when that answer is read before this
 * process's own deadline timer has run (a busy event loop runs it late), the caller would see
 * CANCELED for a deadline.
 */
export function passedDeadlinesExceeded(): Interceptor {
  return (next) => async (req) => {
    const timeout = /^(\d+)m$/.exec(req.header.get("grpc-timeout") ?? "");
    if (!timeout) return next(req);
    const deadline = Date.now() + Number(timeout[1]);
    return errorsMapped(next(req), (err) =>
      ConnectError.from(err).code === Code.Canceled && !req.signal.aborted && Date.now() >= deadline ? new ConnectError(`the deadline of ${timeout[1]} ms passed`, Code.DeadlineExceeded) : err,
    );
  };
}
