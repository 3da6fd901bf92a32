import { openKafkaBus, type EventBus } from "@taskmesh/events";
import type { ConfigOf, Deployable } from "@taskmesh/kit";
import type { tasksConfig } from "./config.js";
import { startTasksModule } from "./index.js";

/** The task and project services as their own process (cluster mode), their outbox relayed to Kafka. */
export const tasksDeployable: Deployable<ConfigOf<typeof tasksConfig>, EventBus> = {
  name: "tasks",
  bus: { open: openKafkaBus, withoutBus: "task events stay in the outbox, unpublished" },
  start: (config, { logger, bus }) =>
    startTasksModule({
      databaseUrl: config.database.url,
      logger,
      events: bus && { system: bus.system, send: (records) => bus.publish(records) },
      ...config.tasks,
      pruneIntervalMs: config.retention.pruneIntervalMs,
    }),
};
