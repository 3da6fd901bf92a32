import { createClient } from "@connectrpc/connect";
import type { EventBus } from "@taskmesh/events";
import { startServer, writeHead, type HttpRoute, type Logger, type RunningServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { fileURLToPath } from "node:url";
import { authInterceptor, startAuthModule, type AuthModuleOptions } from "./auth/index.js";
import type { PasswordQueue } from "./auth/password-queue.js";
import { corsRoute } from "./cors.js";
import { forwardingRoutes, type Upstream } from "./forward.js";
import { startInterchangeModule } from "./interchange/index.js";
import { LiveSync } from "./live/live-sync.js";
import { hostCheckedUpgrade, hostCheckRoute, type AllowedHosts } from "./host-check.js";
import { mcpEndpoint } from "./mcp.js";
import { startMetricsServer, type MetricsServer } from "./metrics-server.js";
import { webApp } from "./static-files.js";
import { WatchCursors } from "./watch-cursors.js";

/** Where `npm run build -w web` puts the web app. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));
/** Largest request message: generous for a task (notes are ≤ 20,000 chars), small for abuse. */
export const DEFAULT_READ_MAX_BYTES = 1024 * 1024;

export interface GatewayOptions {
  logger: Logger;
  port: number;
  host?: string;
  /** The mesh: every service to expose and the transport that reaches it. */
  upstreams: Upstream[];
  auth: AuthModuleOptions;
  /** task-updates and reminders come from here for live sync; without it live sync is off. */
  bus: EventBus | undefined;
  replicaId: string;
  /** Browser origins allowed cross-origin (CORS, WebSocket); the gateway's own needs no entry. */
  allowedOrigins?: readonly string[];
  webDir?: string;
  readMaxBytes?: number;
  drainDelayMs?: number;
  /** How often live sockets are pinged (default 25 s); one missed answer drops the socket. */
  livePingIntervalMs?: number;
  /** Where GET /metrics is served; never on the public port. Unset: not served. */
  metricsPort?: number;
  /** Host names answered besides IP addresses and localhost (DNS rebinding); default "any". */
  allowedHosts?: AllowedHosts;
  /** Largest import file (POST /api/import); default 5 MiB. */
  maxImportBytes?: number;
}

export interface Gateway {
  server: RunningServer;
  /** The queue every password hash goes through (its counters, for metrics and benchmarks). */
  passwordQueue: PasswordQueue;
  live: LiveSync;
  /** The /metrics listener, when metricsPort was given. */
  metrics?: MetricsServer;
  /** Drains the server, closes live sockets and the accounts database. */
  stop(): Promise<void>;
}

/** This port is public: /metrics is on METRICS_PORT, and says so here rather than loading the web app. */
const metricsElsewhere: HttpRoute = (req, res) => {
  if ((req.url ?? "/").split("?")[0] !== "/metrics") return false;
  writeHead(res, 404, { "content-type": "text/plain; charset=utf-8" });
  res.end("not served on this port: set METRICS_PORT and scrape /metrics there\n");
  return true;
};

/** The browser-facing edge on one port: accounts, every mesh service behind authentication, live sync, the web app. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const tasksUpstream = options.upstreams.find((u) => u.services.includes(TaskService));
  if (!tasksUpstream) throw new Error("the gateway needs an upstream serving taskmesh.tasks.v1.TaskService (live sync reads its change feed)");
  const auth = await startAuthModule({ logger: options.logger, ...options.auth });
  const allowedOrigins = options.allowedOrigins ?? [];
  const allowedHosts = options.allowedHosts ?? "any";
  const cursors = new WatchCursors(options.auth.jwtSecret);
  const live = new LiveSync({
    authenticator: auth.authenticator,
    tasks: createClient(TaskService, tasksUpstream.transport),
    bus: options.bus,
    replicaId: options.replicaId,
    allowedOrigins,
    cursors,
    logger: options.logger,
    pingIntervalMs: options.livePingIntervalMs,
  });
  let metrics: MetricsServer | undefined;
  let interchange: Awaited<ReturnType<typeof startInterchangeModule>> | undefined;
  try {
    metrics = options.metricsPort === undefined ? undefined : await startMetricsServer(options.metricsPort, options.host);
    interchange = await startInterchangeModule({
      databaseUrl: options.auth.databaseUrl,
      authenticator: auth.authenticator,
      upstreams: options.upstreams,
      logger: options.logger,
      maxImportBytes: options.maxImportBytes,
    });
    await live.start();
    const services = [...auth.services, ...options.upstreams.flatMap((u) => u.services)];
    const forwarded = forwardingRoutes(options.upstreams, cursors);
    const server = await startServer(
      {
        logger: options.logger,
        services,
        routes: (router) => {
          auth.routes(router);
          forwarded(router);
        },
        interceptors: [authInterceptor(auth.authenticator)],
        http: [
          hostCheckRoute(allowedHosts),
          metricsElsewhere,
          corsRoute(allowedOrigins),
          interchange.route,
          mcpEndpoint(auth.authenticator, auth.accounts, options.upstreams, allowedOrigins, options.auth.jwtSecret),
          webApp(options.webDir ?? DEFAULT_WEB_DIR, [...services.map((s) => `/${s.typeName}/`), "/grpc."]),
        ],
        upgrade: hostCheckedUpgrade(allowedHosts, live.upgrade),
        metricsOnMainPort: false,
        readMaxBytes: options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
        drainDelayMs: options.drainDelayMs,
      },
      options.port,
      options.host,
    );
    return {
      server,
      passwordQueue: auth.passwordQueue,
      live,
      metrics,
      async stop() {
        await live.stop();
        await server.drain();
        await metrics?.close();
        await interchange?.stop();
        await auth.stop();
      },
    };
  } catch (err) {
    await metrics?.close();
    await interchange?.stop();
    await live.stop();
    await auth.stop();
    throw err;
  }
}
