export { clientIfReachable, serviceTransport, DAPR_APP_ID_HEADER, DAPR_STREAM_HEADER } from "./transport.js";
export type { TransportConfig, TransportMode } from "./transport.js";
export { inProcessTransport } from "./in-process.js";
