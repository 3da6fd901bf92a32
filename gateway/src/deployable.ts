import { openKafkaBus, type EventBus } from "@taskmesh/events";
import type { ConfigOf, Deployable } from "@taskmesh/kit";
import type { gatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";
import { clusterUpstreams } from "./mesh.js";

/** The gateway as its own process (cluster mode): accounts, the mesh's services behind authentication, live sync, the web app. */
export const gatewayDeployable: Deployable<ConfigOf<typeof gatewayConfig>, EventBus> = {
  name: "gateway",
  bus: { open: openKafkaBus, withoutBus: "live sync is off: /live refuses sockets, clients refetch instead" },
  async start(config, { logger, bus }) {
    const { upstreams, missing } = clusterUpstreams(config.transport);
    if (missing.length > 0) logger.warn({ missing }, "services without a URL are not exposed");
    const { edge } = config;
    const gateway = await startGateway({
      logger,
      port: config.server.port,
      drainDelayMs: config.server.drainDelayMs,
      upstreams,
      auth: {
        databaseUrl: config.database.url,
        jwtSecret: config.gateway.jwtSecret,
        secureCookie: edge.secureCookie,
        trustedProxies: edge.trustedProxies,
        passwordQueue: edge.passwordQueue,
        email: edge.email,
      },
      bus,
      // Each replica reads every change for the sockets it holds: one consumer group per replica.
      replicaId: config.gateway.replicaId,
      allowedOrigins: edge.allowedOrigins,
      allowedHosts: edge.allowedHosts,
      metricsPort: edge.metricsPort,
      webDir: config.gateway.webDir,
    });
    logger.info({ services: upstreams.flatMap((u) => u.services.map((s) => s.typeName)) }, "services exposed");
    return gateway;
  },
};
