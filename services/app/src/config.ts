import { edgeSettings, jwtSecret, type EdgeSettings } from "@taskmesh/gateway";
import { vapidKeys, webhookTargetsFromEnv, type VapidKeys, type WebhookTargetOptions } from "@taskmesh/reminders";
import path from "node:path";

export interface EmbeddedConfig {
  port: number;
  host: string;
  dataDir: string;
  /** DATABASE_URL: an external PostgreSQL; without it the app runs its own in `<dataDir>/postgres`. */
  databaseUrl: string | undefined;
  edge: EdgeSettings;
  /** TASKMESH_JWT_SECRET, else a key generated once and kept in the data folder. */
  jwtSecret: Uint8Array;
  /** The built web app (TASKMESH_WEB_DIR, default web/dist). */
  webDir: string | undefined;
  /** Where reminder webhooks may go: TASKMESH_WEBHOOK_ALLOWED_HOSTS, TASKMESH_WEBHOOK_ALLOW_HTTP. */
  webhooks: WebhookTargetOptions;
  /** Web Push: TASKMESH_VAPID_PUBLIC_KEY / _PRIVATE_KEY / _SUBJECT, else keys generated once and kept in the data folder. */
  vapid: VapidKeys | undefined;
}

export function embeddedConfig(env: NodeJS.ProcessEnv = process.env): EmbeddedConfig {
  const dataDir = path.resolve(env.TASKMESH_DATA_DIR ?? ".data");
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  return {
    port,
    // A laptop app: reachable from this machine only unless HOST says otherwise.
    host: env.HOST ?? "127.0.0.1",
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    // Account e-mails link to this machine unless TASKMESH_PUBLIC_URL names the address users open.
    // A local install answers only to this machine's names and addresses unless told otherwise (DNS rebinding).
    edge: edgeSettings(env, { publicUrl: `http://localhost:${port}`, allowedHosts: [] }),
    jwtSecret: jwtSecret(env, dataDir),
    webDir: env.TASKMESH_WEB_DIR,
    webhooks: webhookTargetsFromEnv(env),
    vapid: vapidKeys(env, dataDir),
  };
}
