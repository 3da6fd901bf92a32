// The task service's settings (cluster mode), from the shared pieces and its own.
import { busSettings, databaseSettings, defineConfig, optional, piece, pruneSettings, retentionDays, secretKey, meshServiceSettings } from "@taskmesh/kit";
import { DEFAULT_FEED_RETENTION_DAYS } from "./feed-retention.js";

/** Also the embedded app's: the task service reads them in both modes. */
export const tasksSettings = piece(
  {
    TASKMESH_PAGE_TOKEN_SECRET: optional(secretKey(32), "the HMAC key of ListTasks page tokens, the same on every replica; unset: one generated and kept in the database"),
    TASKMESH_FEED_RETENTION_DAYS: retentionDays(DEFAULT_FEED_RETENTION_DAYS, "how long the change feed (what WatchTasks and /live resume from) is kept, and a deleted task can be restored"),
  },
  (v) => ({ pageTokenKey: v.TASKMESH_PAGE_TOKEN_SECRET, feedRetentionMs: v.TASKMESH_FEED_RETENTION_DAYS }),
);

export const tasksConfig = defineConfig("tasks", {
  ...meshServiceSettings({ port: 8081 }),
  database: databaseSettings,
  bus: busSettings,
  retention: pruneSettings,
  tasks: tasksSettings,
});
