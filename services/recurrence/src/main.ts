// The recurrence service as its own process (cluster mode): PORT (default 8082).
import { createLogger, drainOnSignals, startServer } from "@taskmesh/kit";
import { startRecurrenceModule } from "./index.js";

const logger = createLogger("recurrence");
const recurrence = startRecurrenceModule();
const server = await startServer(
  { logger, services: recurrence.services, routes: recurrence.routes, drainDelayMs: Number(process.env.DRAIN_DELAY_MS ?? 0) },
  Number(process.env.PORT ?? 8082),
);
logger.info({ port: server.port }, "recurrence service listening");
drainOnSignals([server], logger, () => recurrence.stop());
