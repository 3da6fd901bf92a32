import { openKafkaBus, type EventBus } from "@taskmesh/events";
import type { ConfigOf, Deployable } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { clientIfReachable } from "@taskmesh/transport";
import type { recurrenceConfig } from "./config.js";
import { startRecurrenceModule } from "./index.js";

/** The recurrence service as its own process (cluster mode), creating next occurrences from task-events. */
export const recurrenceDeployable: Deployable<ConfigOf<typeof recurrenceConfig>, EventBus> = {
  name: "recurrence",
  bus: { open: openKafkaBus, withoutBus: "completed recurring tasks get no next occurrence" },
  start: (config, { logger, bus }) =>
    startRecurrenceModule({
      events: bus,
      tasks: clientIfReachable(TaskService, config.transport, "tasks"),
      logger,
    }),
};
