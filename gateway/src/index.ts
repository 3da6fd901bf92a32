export { startGateway, DEFAULT_WEB_DIR, DEFAULT_READ_MAX_BYTES, type Gateway, type GatewayOptions } from "./gateway.js";
export { forwardingRoutes, type Upstream } from "./forward.js";
export { clusterUpstreams, inProcessUpstream, MESH_SERVICES } from "./mesh.js";
export { edgeSettings, gatewayConfig, type EdgeSettings } from "./config.js";
export { jwtSecret, REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_IN_BODY_HEADER, ACCESS_TOKEN_TTL_SECONDS } from "./auth/index.js";
export { LIVE_PATH } from "./live/live-sync.js";
