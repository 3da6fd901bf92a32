import { type ConnectRouter, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import { rpcClientTracing, rpcServerTracing } from "@taskmesh/kit";
import { GoawaySafeSessionManager } from "./http2-sessions.js";
import { inProcessTransport } from "./in-process.js";

/**
 * How a service reaches another one:
 * - inprocess: the callee's routes in this process (embedded mode), validated as over the network;
 * - direct: gRPC to the callee's URL (cluster mode without a mesh);
 * - dapr: gRPC to the local daprd, which proxies to the callee's sidecar by app id (cluster mode).
 */
export type TransportConfig =
  | { mode: "inprocess"; routes: Record<string, (router: ConnectRouter) => void> }
  | { mode: "direct"; urls: Record<string, string> }
  | { mode: "dapr"; daprGrpcPort: number; daprHost?: string };

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
      return createGrpcTransport({ baseUrl, sessionManager: new GoawaySafeSessionManager(baseUrl), interceptors: [rpcClientTracing(), daprInvocation(service)] });
    }
  }
}

function daprInvocation(appId: string): Interceptor {
  return (next) => (req) => {
    req.header.set(DAPR_APP_ID_HEADER, appId);
    if (req.stream) req.header.set(DAPR_STREAM_HEADER, "true");
    return next(req);
  };
}

/** TASKS_URL for "tasks". */
export function urlVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_URL`;
}

/**
 * Cluster mode's choice from the environment: TASKMESH_TRANSPORT=dapr (default when DAPR_GRPC_PORT
 * is set, as the sidecar injector does) uses the local daprd; TASKMESH_TRANSPORT=direct uses
 * <SERVICE>_URL for each of `services`.
 */
export function transportConfigFromEnv(services: string[], env: NodeJS.ProcessEnv = process.env): Exclude<TransportConfig, { mode: "inprocess" }> {
  const mode = env.TASKMESH_TRANSPORT ?? (env.DAPR_GRPC_PORT ? "dapr" : "direct");
  if (mode === "dapr") {
    const port = Number(env.DAPR_GRPC_PORT ?? 50001);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`DAPR_GRPC_PORT must be a port number, got "${env.DAPR_GRPC_PORT}"`);
    return { mode, daprGrpcPort: port };
  }
  if (mode === "direct") {
    const urls: Record<string, string> = {};
    for (const service of services) {
      const url = env[urlVariable(service)];
      if (url) urls[service] = url;
    }
    return { mode, urls };
  }
  throw new Error(`TASKMESH_TRANSPORT must be "dapr" or "direct" in a service process, got "${mode}"`);
}
