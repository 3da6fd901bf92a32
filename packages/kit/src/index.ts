export { startServer, drainOnSignals } from "./server.js";
export type { ServerOptions, RunningServer, HttpRoute, ServiceModule } from "./server.js";
export { HealthState } from "./health.js";
export { kClientAddress, kUserId, requireUser, USER_ID_HEADER } from "./identity.js";
export { invalidArgument } from "./errors.js";
export type { FieldViolation } from "./errors.js";
export { createLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { metricsRegistry } from "./metrics.js";
