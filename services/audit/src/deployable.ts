import { openKafkaBus, type EventBus } from "@taskmesh/events";
import type { ConfigOf, Deployable } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { clientIfReachable } from "@taskmesh/transport";
import type { auditConfig } from "./config.js";
import { startAuditModule } from "./index.js";

/** The audit service as its own process (cluster mode), recording task-events and reminders. */
export const auditDeployable: Deployable<ConfigOf<typeof auditConfig>, EventBus> = {
  name: "audit",
  bus: { open: openKafkaBus, withoutBus: "the history is served, but no new events are recorded" },
  start: (config, { logger, bus }) =>
    startAuditModule({
      databaseUrl: config.database.url,
      events: bus,
      tasks: clientIfReachable(TaskService, config.transport, "tasks"),
      ...config.audit,
      logger,
    }),
};
