// The gateway's settings: the edge (both modes: the embedded app is a gateway too) and the cluster
// gateway's own.
import {
  busSettings,
  databaseSettings,
  defineConfig,
  flag,
  httpUrl,
  list,
  optional,
  piece,
  port,
  secretKey,
  smtpUrl,
  meshServiceSettings,
  text,
  transportSettings,
  wholeNumber,
  withDefault,
  required,
  type Report,
} from "@taskmesh/kit";
import { hostname } from "node:os";
import type { AccountEmailSettings } from "./auth/account-mail.js";
import { TrustedProxies } from "./auth/client-address.js";
import type { PasswordQueueOptions } from "./auth/password-queue.js";
import type { AllowedHosts } from "./host-check.js";
import { MESH_SERVICES } from "./mesh.js";

/** Settings both modes read from the environment. */
export interface EdgeSettings {
  allowedOrigins: string[];
  secureCookie: boolean;
  /** Reverse proxies whose X-Forwarded-For names the client (rate limits key by it). */
  trustedProxies: string[];
  /** Account e-mails: verification of sign-ups (only with SMTP) and password reset; publicUrl undefined: the caller's default. */
  email: AccountEmailSettings;
  /** Where GET /metrics is served (never on the public port); undefined: not served. */
  metricsPort: number | undefined;
  /** Host names answered besides IP addresses and localhost. */
  allowedHosts: AllowedHosts;
  passwordQueue: PasswordQueueOptions;
}

/**
 * The edge: `allowedHosts` when TASKMESH_ALLOWED_HOSTS is unset (plus the hosts of
 * TASKMESH_PUBLIC_URL and TASKMESH_CORS_ORIGINS); `localPublicUrl`: the caller links account
 * e-mails to this machine when TASKMESH_PUBLIC_URL is unset, else SMTP_URL needs it.
 */
export function edgeSettings(defaults: { allowedHosts: AllowedHosts; localPublicUrl: boolean }) {
  return piece(
    {
      TASKMESH_CORS_ORIGINS: optional(list, "browser origins allowed to call cross-origin (e.g. `https://app.example.com`)"),
      TASKMESH_COOKIE_SECURE: withDefault(flag, false, "`1` when served over HTTPS: the refresh cookie is then Secure"),
      TASKMESH_TRUSTED_PROXIES: optional(list, "CIDRs of the reverse proxies in front (e.g. `10.0.0.0/8,fd00::/8`), whose X-Forwarded-For then names the client"),
      SMTP_URL: smtpUrl,
      TASKMESH_EMAIL_FROM: withDefault(text, "taskmesh <accounts@localhost>", "the From of account e-mails"),
      TASKMESH_PUBLIC_URL: optional(
        httpUrl,
        `the address users open the app at, for the links in account e-mails${defaults.localPublicUrl ? " (default: http://localhost:PORT)" : "; required with SMTP_URL"}`,
      ),
      METRICS_PORT: optional(port, "where GET /metrics is served (never on the public port); unset: not served"),
      TASKMESH_ALLOWED_HOSTS: optional(
        list,
        `host names answered besides IP addresses and localhost, or \`*\` (default: ${defaults.allowedHosts === "any" ? "any" : "none"}, plus the hosts of TASKMESH_PUBLIC_URL and TASKMESH_CORS_ORIGINS)`,
      ),
      TASKMESH_PASSWORD_HASH_CONCURRENCY: optional(wholeNumber(1, 1024), "password hashes at once (default: half the cores)"),
      TASKMESH_PASSWORD_HASH_QUEUE: withDefault(wholeNumber(0, 100_000), 16, "password hashes allowed to wait; one more is refused with RESOURCE_EXHAUSTED"),
    },
    (v, report): EdgeSettings => {
      const allowedOrigins = v.TASKMESH_CORS_ORIGINS ?? [];
      for (const origin of allowedOrigins) if (!isOrigin(origin)) report("TASKMESH_CORS_ORIGINS", `"${origin}" is not an origin (scheme://host[:port], no path, no wildcard)`);
      const trustedProxies = v.TASKMESH_TRUSTED_PROXIES ?? [];
      checkProxies(trustedProxies, report);
      if (v.SMTP_URL && !v.TASKMESH_PUBLIC_URL && !defaults.localPublicUrl)
        report("TASKMESH_PUBLIC_URL", "not set while SMTP_URL is: set it to the address users open the app at (the links in account e-mails)");
      const origins = allowedOrigins.filter(isOrigin);
      return {
        allowedOrigins,
        secureCookie: v.TASKMESH_COOKIE_SECURE,
        trustedProxies,
        email: { smtpUrl: v.SMTP_URL, from: v.TASKMESH_EMAIL_FROM, publicUrl: v.TASKMESH_PUBLIC_URL },
        metricsPort: v.METRICS_PORT,
        allowedHosts: allowedHostsFrom(v.TASKMESH_ALLOWED_HOSTS, defaults.allowedHosts, [v.TASKMESH_PUBLIC_URL ?? "", ...origins]),
        passwordQueue: { concurrency: v.TASKMESH_PASSWORD_HASH_CONCURRENCY, maxQueued: v.TASKMESH_PASSWORD_HASH_QUEUE },
      };
    },
  );
}

function isOrigin(origin: string): boolean {
  try {
    return origin !== "*" && new URL(origin).origin === origin;
  } catch {
    return false;
  }
}

function checkProxies(cidrs: string[], report: Report): void {
  try {
    new TrustedProxies(cidrs);
  } catch (err) {
    report("TASKMESH_TRUSTED_PROXIES", (err as Error).message.replace("TASKMESH_TRUSTED_PROXIES: ", ""));
  }
}

function allowedHostsFrom(listed: string[] | undefined, fallback: AllowedHosts, urls: string[]): AllowedHosts {
  if (listed?.includes("*") || (listed === undefined && fallback === "any")) return "any";
  const fromUrls = urls.filter(Boolean).map((u) => new URL(u).hostname);
  return [...(listed ?? fallback), ...fromUrls];
}

/** Every app id the gateway forwards to. */
const TARGETS = [...new Set(MESH_SERVICES.map((s) => s.target))];

export const gatewayConfig = defineConfig(
  "gateway",
  {
    ...meshServiceSettings({ port: 8080 }),
    // Accounts, in schema `auth`.
    database: databaseSettings,
    bus: busSettings,
    transport: transportSettings(TARGETS),
    edge: edgeSettings({ allowedHosts: "any", localPublicUrl: false }),
    gateway: piece(
      {
        TASKMESH_JWT_SECRET: required(secretKey(32), "the key access tokens are signed with, the same on every replica"),
        GATEWAY_REPLICA_ID: withDefault(text, hostname(), "names this replica's live-sync subscription (every replica reads every change)", "the host name"),
        TASKMESH_WEB_DIR: optional(text, "the built web app to serve (default web/dist)"),
      },
      (v) => ({ jwtSecret: v.TASKMESH_JWT_SECRET, replicaId: v.GATEWAY_REPLICA_ID, webDir: v.TASKMESH_WEB_DIR }),
    ),
  },
  (config, report) => {
    if (config.transport?.mode === "direct" && !config.transport.urls.tasks) report("TASKS_URL", "not set; the gateway needs the task service (e.g. http://tasks:8080), or run beside a Dapr sidecar");
  },
);
