// `npm start`: the whole app in one process (embedded mode), data on disk under TASKMESH_DATA_DIR.
import { mkdirSync } from "node:fs";
import { createLogger, drainOnSignals, startServer, type ServiceModule } from "@taskmesh/kit";
import { startRecurrenceModule } from "@taskmesh/recurrence";
import { startTasksModule } from "@taskmesh/tasks";
import { embeddedConfig } from "./config.js";
import { landingPage } from "./landing.js";

const logger = createLogger("taskmesh");
const config = embeddedConfig();
mkdirSync(config.dataDir, { recursive: true });

const started = Date.now();
const tasks = await startTasksModule({ databaseUrl: config.databaseUrl });
const recurrence = startRecurrenceModule();
const modules: ServiceModule[] = [tasks, recurrence];
const stopModules = async () => {
  for (const m of modules.reverse()) await m.stop();
};
const publicUrl = `http://localhost:${config.port}`;
let server;
try {
  server = await startServer(
    {
      logger,
      services: modules.flatMap((m) => m.services),
      routes: (router) => modules.forEach((m) => m.routes(router)),
      http: [landingPage(publicUrl)],
    },
    config.port,
    config.host,
  );
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  logger.fatal(code === "EADDRINUSE" ? `port ${config.port} is in use: stop the other process or start with PORT=<another port>` : String(err));
  await stopModules();
  process.exit(1);
}
logger.info({ url: `http://localhost:${server.port}`, dataDir: config.dataDir, startupMs: Date.now() - started }, "taskmesh is ready");
process.stderr.write(`\n  taskmesh is running: open http://localhost:${server.port}\n  data: ${config.dataDir}   (Ctrl-C to stop)\n\n`);
drainOnSignals([server], logger, stopModules);
