export { startServer, drainOnSignals, writeHead } from "./server.js";
export type { ServerOptions, RunningServer, HttpRoute, ServiceModule } from "./server.js";
export { HealthState } from "./health.js";
export { canonicalTimeZone, DEVICE_HEADER, isTimeZone, kClientAddress, kUserId, RECURRENCE_DEVICE, requireUser, TIME_ZONE_HEADER, USER_ID_HEADER } from "./identity.js";
export { idForRequest } from "./request-id.js";
export { fieldPathsInterceptor, invalidArgument } from "./errors.js";
export { pageSizeOf } from "./page-size.js";
export type { FieldViolation } from "./errors.js";
export { createLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { histogram, metricsRegistry, sourcesGauge } from "./metrics.js";
export { GroupCommit, KeyedGroupCommit } from "./group-commit.js";
export { onFirstUse, type OnFirstUse } from "./first-use.js";
export { smtpMailer, type Mailer } from "./smtp-mailer.js";
export { errorsMapped } from "./errors-mapped.js";
export { internalErrorInterceptor } from "./internal-errors.js";
export { isTransientError } from "./transient-errors.js";
export { requestChecksInterceptor, requestViolations, timestampInRange } from "./request-checks.js";
export { startTelemetry, stopTelemetry } from "./telemetry.js";
export {
  contextFromHeaders,
  currentTraceparent,
  failSpan,
  injectHeaders,
  linkFromHeaders,
  rpcClientTracing,
  rpcServerTracing,
  SpanKind,
  startSpan,
  setTracingEnabled,
  tracingEnabled,
  withSpan,
} from "./tracing.js";
export type { SpanOptions } from "./tracing.js";
export * from "./config.js";
export { resolveSecrets } from "./secrets.js";
export type { SecretsOptions } from "./secrets.js";
export { CONFIG_EXIT_CODE, runJob, runService } from "./service.js";
export type { BasePieces, Deployable, SelfServedModule } from "./service.js";
