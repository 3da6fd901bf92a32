import { TrustedProxies, trustedProxiesFromEnv } from "./auth/client-address.js";

/** Settings both modes read from the environment. */
export interface EdgeSettings {
  allowedOrigins: string[];
  secureCookie: boolean;
  /** Reverse proxies whose X-Forwarded-For names the client (rate limits key by it). */
  trustedProxies: string[];
}

/**
 * TASKMESH_CORS_ORIGINS: comma-separated browser origins allowed to call cross-origin
 * (e.g. `https://app.example.com`); TASKMESH_COOKIE_SECURE=1 when served over HTTPS;
 * TASKMESH_TRUSTED_PROXIES: comma-separated CIDRs of the reverse proxies in front of the gateway
 * (e.g. `10.0.0.0/8,fd00::/8`), whose X-Forwarded-For is then read for the client's address.
 */
export function edgeSettings(env: NodeJS.ProcessEnv): EdgeSettings {
  const allowedOrigins = (env.TASKMESH_CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (origin === "*" || new URL(origin).origin !== origin) {
      throw new Error(`TASKMESH_CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path, no wildcard)`);
    }
  }
  const trustedProxies = trustedProxiesFromEnv(env);
  new TrustedProxies(trustedProxies); // refuses a malformed entry at start-up
  return { allowedOrigins, secureCookie: env.TASKMESH_COOKIE_SECURE === "1", trustedProxies };
}
