import type { Client, ConnectRouter } from "@connectrpc/connect";
import type { EventBus } from "@taskmesh/events";
import type { Logger } from "@taskmesh/kit";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { startNextOccurrenceConsumer } from "./next-occurrence-consumer.js";
import { createRecurrenceServiceImpl } from "./recurrence-service.js";

export * from "./engine.js";
export { createRecurrenceServiceImpl } from "./recurrence-service.js";
export { planNextOccurrence, nextOccurrenceKey } from "./next-occurrence.js";
export { startNextOccurrenceConsumer, RECURRENCE_GROUP } from "./next-occurrence-consumer.js";

export interface RecurrenceModuleOptions {
  /** With both: completed recurring tasks (from task-events) get their next occurrence created. */
  events?: EventBus;
  /** Also needed by SkipOccurrence and EndSeries. */
  tasks?: Client<typeof TaskService>;
  now?: () => Date;
  /** Where the consumer reports series it ends (default: a "recurrence" logger on stdout). */
  logger?: Logger;
}

/** The recurrence service, ready to mount on a server (embedded or standalone), and its consumer. */
export async function startRecurrenceModule(options: RecurrenceModuleOptions = {}) {
  const impl = createRecurrenceServiceImpl({ tasks: options.tasks, now: options.now });
  const consumer = options.events && options.tasks ? await startNextOccurrenceConsumer(options.events, options.tasks, options.logger) : undefined;
  return {
    services: [RecurrenceService],
    routes: (router: ConnectRouter) => router.service(RecurrenceService, impl),
    async stop() {
      await consumer?.stop();
    },
  };
}
