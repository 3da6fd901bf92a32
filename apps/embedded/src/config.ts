// The embedded app's settings (`npm start`): the task, reminders and audit services and the gateway
// in one process read the pieces they read in cluster mode; the app adds its own.
import { auditSettings } from "@taskmesh/audit";
import { edgeSettings, jwtSecret, type EdgeSettings } from "@taskmesh/gateway";
import {
  defineConfig,
  optional,
  optionalDatabaseSettings,
  piece,
  pruneSettings,
  retentionDays,
  secretKey,
  serverSettings,
  telemetrySettings,
  text,
  withDefault,
  type ConfigOf,
  type Env,
} from "@taskmesh/kit";
import { remindersSettings, smtpSettings, vapidKeys, vapidSettings, webhookSettings, type VapidKeys, type WebhookTargetOptions } from "@taskmesh/reminders";
import { tasksSettings } from "@taskmesh/tasks";
import path from "node:path";

/** Also `npm run upgrade-data`'s default folder. */
export const dataDirSettings = piece({ TASKMESH_DATA_DIR: withDefault(text, ".data", "the app's data folder: its PostgreSQL and the keys generated on first start") }, (v) =>
  path.resolve(v.TASKMESH_DATA_DIR),
);

export const appConfig = defineConfig("app", {
  telemetry: telemetrySettings,
  server: serverSettings({ port: 8080 }),
  dataDir: dataDirSettings,
  database: optionalDatabaseSettings("the app runs its own PostgreSQL in <TASKMESH_DATA_DIR>/postgres"),
  // A local install answers only to this machine's names and addresses unless told otherwise (DNS rebinding).
  edge: edgeSettings({ allowedHosts: [], localPublicUrl: true }),
  app: piece(
    {
      // A laptop app: reachable from this machine only unless HOST says otherwise.
      HOST: withDefault(text, "127.0.0.1", "the address the app listens on (`0.0.0.0`: every interface)"),
      TASKMESH_JWT_SECRET: optional(secretKey(32), "the key access tokens are signed with; unset: one generated and kept in the data folder"),
      TASKMESH_WEB_DIR: optional(text, "the built web app to serve (default web/dist)"),
      TASKMESH_EVENT_LOG_RETENTION_DAYS: retentionDays(7, "how long the embedded event log keeps events (as Kafka keeps a topic)"),
    },
    (v) => ({ host: v.HOST, jwtSecret: v.TASKMESH_JWT_SECRET, webDir: v.TASKMESH_WEB_DIR, eventLogRetentionMs: v.TASKMESH_EVENT_LOG_RETENTION_DAYS }),
  ),
  retention: pruneSettings,
  tasks: tasksSettings,
  reminders: remindersSettings,
  audit: auditSettings,
  smtp: smtpSettings,
  webhooks: webhookSettings,
  vapid: vapidSettings,
});

export type AppSettings = ConfigOf<typeof appConfig>;

export interface EmbeddedConfig extends Pick<AppSettings, "server" | "dataDir" | "retention" | "tasks" | "reminders" | "audit" | "smtp"> {
  host: string;
  /** DATABASE_URL: an external PostgreSQL; without it the app runs its own in `<dataDir>/postgres`. */
  databaseUrl: string | undefined;
  edge: EdgeSettings;
  /** TASKMESH_JWT_SECRET, else a key generated once and kept in the data folder. */
  jwtSecret: Uint8Array;
  /** The built web app (TASKMESH_WEB_DIR, default web/dist). */
  webDir: string | undefined;
  eventLogRetentionMs: number;
  webhooks: WebhookTargetOptions;
  /** Web Push: the configured VAPID keys, else keys generated once and kept in the data folder. */
  vapid: VapidKeys | undefined;
}

/** The settings, with what they leave to the data folder (keys generated once, kept there) filled in. */
export function withDataFolder(settings: AppSettings): EmbeddedConfig {
  const { dataDir, server, edge, app } = settings;
  return {
    ...settings,
    host: app.host,
    databaseUrl: settings.database.url,
    // Account e-mails link to this machine unless TASKMESH_PUBLIC_URL names the address users open.
    edge: { ...edge, email: { ...edge.email, publicUrl: edge.email.publicUrl ?? `http://localhost:${server.port}` } },
    jwtSecret: jwtSecret(app.jwtSecret, dataDir),
    webDir: app.webDir,
    eventLogRetentionMs: app.eventLogRetentionMs,
    vapid: vapidKeys(settings.vapid, dataDir),
  };
}

/** The app's configuration from these variables (tests start apps of their own with it). */
export function embeddedConfig(env: Env): EmbeddedConfig {
  return withDataFolder(appConfig.parse(env));
}
