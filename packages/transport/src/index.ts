export { serviceTransport, transportConfigFromEnv, urlVariable, DAPR_APP_ID_HEADER, DAPR_STREAM_HEADER } from "./transport.js";
export type { TransportConfig, TransportMode } from "./transport.js";
export { resolveSecrets } from "./secrets.js";
export type { SecretsOptions } from "./secrets.js";
export { inProcessTransport } from "./in-process.js";
