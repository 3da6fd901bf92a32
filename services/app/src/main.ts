// `npm start`: the whole app in one process (embedded mode), data on disk under TASKMESH_DATA_DIR.
import { mkdirSync } from "node:fs";
import { createLogger, drainOnSignals, startServer } from "@taskmesh/kit";
import { startTasksModule } from "@taskmesh/tasks";
import { embeddedConfig } from "./config.js";
import { landingPage } from "./landing.js";

const logger = createLogger("taskmesh");
const config = embeddedConfig();
mkdirSync(config.dataDir, { recursive: true });

const started = Date.now();
const tasks = await startTasksModule({ databaseUrl: config.databaseUrl });
const publicUrl = `http://localhost:${config.port}`;
let server;
try {
  server = await startServer(
    { logger, services: tasks.services, routes: tasks.routes, http: [landingPage(publicUrl)] },
    config.port,
    config.host,
  );
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  logger.fatal(code === "EADDRINUSE" ? `port ${config.port} is in use: stop the other process or start with PORT=<another port>` : String(err));
  await tasks.stop();
  process.exit(1);
}
logger.info({ url: `http://localhost:${server.port}`, dataDir: config.dataDir, startupMs: Date.now() - started }, "taskmesh is ready");
process.stderr.write(`\n  taskmesh is running: open http://localhost:${server.port}\n  data: ${config.dataDir}   (Ctrl-C to stop)\n\n`);
drainOnSignals([server], logger, () => tasks.stop());
