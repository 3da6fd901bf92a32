import type { ConnectRouter } from "@connectrpc/connect";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { createRecurrenceServiceImpl } from "./recurrence-service.js";

export * from "./engine.js";
export { createRecurrenceServiceImpl } from "./recurrence-service.js";

/**
 * The recurrence service, ready to mount on a server (embedded or standalone). Pure: no database yet.
 * The TaskCompleted consumer that creates the next occurrence (with `nextOccurrence`) is wired by the app.
 */
export function startRecurrenceModule() {
  const impl = createRecurrenceServiceImpl();
  return {
    services: [RecurrenceService],
    routes: (router: ConnectRouter) => router.service(RecurrenceService, impl),
    async stop() {},
  };
}
