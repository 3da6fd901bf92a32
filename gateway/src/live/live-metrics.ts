import { histogram, sourcesGauge } from "@taskmesh/kit";

/** Open live sockets of this process (every LiveSync in it counts its own). */
export const liveConnections = sourcesGauge("taskmesh_live_connections", "Live sync WebSockets open on this gateway");

/**
 * From a change's commit (TaskUpdate.occurred_at) to its push to the devices connected here. Made
 * at load, so that the series is exported (at zero) before the first push.
 */
export const livePushDelay = histogram(
  "taskmesh_live_push_delay_seconds",
  "Time from a task change's commit to its push to connected devices",
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
