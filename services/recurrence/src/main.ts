// The recurrence service as its own process (cluster mode): PORT (default 8082); with KAFKA_BROKERS
// and SCHEMA_REGISTRY_URL it also creates next occurrences of completed recurring tasks, calling the
// task service through its Dapr sidecar (DAPR_GRPC_PORT) or directly (TASKMESH_TRANSPORT=direct, TASKS_URL).
// Kafka credentials come from the Dapr secrets API when a sidecar runs beside it, else the environment.
import { createClient } from "@connectrpc/connect";
import { kafkaBusFromEnv } from "@taskmesh/events";
import { createLogger, drainOnSignals, startTelemetry, startServer } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { resolveSecrets, serviceTransport, transportConfigFromEnv } from "@taskmesh/transport";
import { startRecurrenceModule } from "./index.js";

const logger = createLogger("recurrence");
await startTelemetry("recurrence", logger);
const env = await resolveSecrets();
const events = await kafkaBusFromEnv(logger, env);
const tasks = events ? createClient(TaskService, tasksTransport()) : undefined;
const recurrence = await startRecurrenceModule({ events, tasks });
const server = await startServer(
  { logger, services: recurrence.services, routes: recurrence.routes, drainDelayMs: Number(env.DRAIN_DELAY_MS ?? 0) },
  Number(env.PORT ?? 8082),
);
logger.info({ port: server.port, consumesEvents: Boolean(events) }, "recurrence service listening");
drainOnSignals([server], logger, async () => {
  await recurrence.stop();
  await events?.close();
});

function tasksTransport() {
  try {
    return serviceTransport(transportConfigFromEnv(["tasks"], env), "tasks");
  } catch (err) {
    logger.fatal(`${(err as Error).message}: the next-occurrence consumer calls the task service`);
    process.exit(2);
  }
}
