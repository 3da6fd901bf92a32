import { cors } from "@connectrpc/connect";
import { DEVICE_HEADER, TIME_ZONE_HEADER, writeHead, type HttpRoute } from "@taskmesh/kit";

const ALLOWED_HEADERS = [...cors.allowedHeaders, "authorization", TIME_ZONE_HEADER, DEVICE_HEADER, "x-refresh-in-body", "traceparent"].join(", ");
const EXPOSED_HEADERS = [...cors.exposedHeaders, "retry-after"].join(", ");

/**
 * CORS for browser apps served from other origins (the gateway's own web app needs none). Listed
 * origins get credentials (the refresh cookie); a preflight from any other origin is refused.
 */
export function corsRoute(allowedOrigins: readonly string[]): HttpRoute {
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || !allowed.has(origin)) {
      if (req.method === "OPTIONS" && typeof origin === "string") {
        writeHead(res, 403, { "content-type": "text/plain; charset=utf-8" });
        res.end(`origin ${origin} is not allowed: add it to TASKMESH_CORS_ORIGINS\n`);
        return true;
      }
      return false;
    }
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-allow-credentials", "true");
    res.setHeader("vary", "Origin");
    res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
    if (req.method !== "OPTIONS") return false;
    writeHead(res, 204, {
      "access-control-allow-methods": cors.allowedMethods.join(", "),
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "7200",
    });
    res.end();
    return true;
  };
}
