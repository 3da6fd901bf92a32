// The audit service's settings (cluster mode).
import { busSettings, databaseSettings, defineConfig, piece, secretsSettings, serverSettings, telemetrySettings, transportSettings, wholeNumber, withDefault } from "@taskmesh/kit";
import { DEFAULT_RETENTION_DAYS } from "./retention.js";

/** Also the embedded app's. */
export const auditSettings = piece(
  { AUDIT_RETENTION_DAYS: withDefault(wholeNumber(1, 36_500, "days"), DEFAULT_RETENTION_DAYS, "how long the activity history is kept", `${DEFAULT_RETENTION_DAYS} days`) },
  (v) => ({ retentionDays: v.AUDIT_RETENTION_DAYS }),
);

export const auditConfig = defineConfig("audit", {
  telemetry: telemetrySettings,
  secrets: secretsSettings,
  server: serverSettings({ port: 8084 }),
  database: databaseSettings,
  bus: busSettings,
  // The task service lets members of shared projects read their tasks' history.
  transport: transportSettings(["tasks"]),
  audit: auditSettings,
});
