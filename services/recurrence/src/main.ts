// The recurrence service as its own process (cluster mode): PORT (default 8082); with KAFKA_BROKERS,
// SCHEMA_REGISTRY_URL and TASKS_URL it also creates next occurrences of completed recurring tasks.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startRecurrenceModule } from "./index.js";

const logger = createLogger("recurrence");
const events = await kafkaBusFromEnv(logger);
const tasksUrl = process.env.TASKS_URL;
if (events && !tasksUrl) {
  logger.fatal("TASKS_URL is not set: the next-occurrence consumer calls the task service there (e.g. http://tasks:8081)");
  process.exit(2);
}
const tasks = tasksUrl ? createClient(TaskService, createGrpcTransport({ baseUrl: tasksUrl })) : undefined;
const recurrence = await startRecurrenceModule({ events, tasks });
const server = await startServer(
  { logger, services: recurrence.services, routes: recurrence.routes, drainDelayMs: Number(process.env.DRAIN_DELAY_MS ?? 0) },
  Number(process.env.PORT ?? 8082),
);
logger.info({ port: server.port, consumesEvents: Boolean(events) }, "recurrence service listening");
drainOnSignals([server], logger, async () => {
  await recurrence.stop();
  await events?.close();
});
