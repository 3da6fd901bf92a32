import { metricsPortFromEnv } from "./metrics-server.js";
import type { AccountEmailSettings } from "./auth/account-mail.js";
import { TrustedProxies, trustedProxiesFromEnv } from "./auth/client-address.js";
import type { AllowedHosts } from "./host-check.js";

/** Settings both modes read from the environment. */
export interface EdgeSettings {
  allowedOrigins: string[];
  secureCookie: boolean;
  /** Reverse proxies whose X-Forwarded-For names the client (rate limits key by it). */
  trustedProxies: string[];
  /** Account e-mails: verification of sign-ups (only with SMTP) and password reset. */
  email: AccountEmailSettings;
  /** Where GET /metrics is served (never on the public port); undefined: not served. */
  metricsPort: number | undefined;
  /** Host names answered besides IP addresses and localhost. */
  allowedHosts: AllowedHosts;
}

/**
 * TASKMESH_CORS_ORIGINS: comma-separated browser origins allowed to call cross-origin
 * (e.g. `https://app.example.com`); TASKMESH_COOKIE_SECURE=1 when served over HTTPS;
 * TASKMESH_TRUSTED_PROXIES: comma-separated CIDRs of the reverse proxies in front of the gateway
 * (e.g. `10.0.0.0/8,fd00::/8`), whose X-Forwarded-For is then read for the client's address;
 * SMTP_URL (account e-mails; sign-ups are then verified by e-mail), TASKMESH_EMAIL_FROM, and
 * TASKMESH_PUBLIC_URL (the app's address, for the links in those e-mails; required with SMTP_URL);
 * METRICS_PORT (GET /metrics there); TASKMESH_ALLOWED_HOSTS: comma-separated host names the server
 * answers to besides IP addresses and localhost, or `*` (the default given by the caller otherwise,
 * plus the hosts of TASKMESH_PUBLIC_URL and TASKMESH_CORS_ORIGINS).
 */
export function edgeSettings(env: NodeJS.ProcessEnv, defaults: { publicUrl?: string; allowedHosts?: AllowedHosts } = {}): EdgeSettings {
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
  const publicUrl = env.TASKMESH_PUBLIC_URL || defaults.publicUrl;
  if (publicUrl && !/^https?:\/\/[^/]/.test(publicUrl)) throw new Error(`TASKMESH_PUBLIC_URL: "${publicUrl}" is not an http(s) address`);
  if (env.SMTP_URL && !publicUrl) throw new Error("SMTP_URL is set but TASKMESH_PUBLIC_URL is not: set it to the address users open the app at (the links in account e-mails)");
  const email = { smtpUrl: env.SMTP_URL || undefined, from: env.TASKMESH_EMAIL_FROM ?? "taskmesh <accounts@localhost>", publicUrl };
  return {
    allowedOrigins,
    secureCookie: env.TASKMESH_COOKIE_SECURE === "1",
    trustedProxies,
    email,
    metricsPort: metricsPortFromEnv(env),
    allowedHosts: allowedHostsFrom(env.TASKMESH_ALLOWED_HOSTS, defaults.allowedHosts ?? "any", [env.TASKMESH_PUBLIC_URL ?? "", ...allowedOrigins]),
  };
}

function allowedHostsFrom(setting: string | undefined, fallback: AllowedHosts, urls: string[]): AllowedHosts {
  const listed = setting === undefined ? undefined : setting.split(",").map((h) => h.trim()).filter(Boolean);
  if (listed?.includes("*") || (listed === undefined && fallback === "any")) return "any";
  const fromUrls = urls.filter(Boolean).map((u) => new URL(u).hostname);
  return [...(listed ?? fallback), ...fromUrls];
}
