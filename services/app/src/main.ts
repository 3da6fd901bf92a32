// `npm start`: the whole app in one process (embedded mode), data on disk under TASKMESH_DATA_DIR.
import { mkdirSync } from "node:fs";
import { createLogger, drainOnSignals, startTelemetry } from "@taskmesh/kit";
import { embeddedConfig } from "./config.js";
import { startEmbeddedApp, type EmbeddedApp } from "./embedded.js";

const logger = createLogger("taskmesh");
await startTelemetry("taskmesh", logger);
const config = embeddedConfig();
mkdirSync(config.dataDir, { recursive: true });

const started = Date.now();
let app: EmbeddedApp;
try {
  app = await startEmbeddedApp(config, logger);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  logger.fatal(code === "EADDRINUSE" ? `port ${config.port} is in use: stop the other process or start with PORT=<another port>` : String(err));
  process.exit(1);
}
const url = `http://localhost:${app.server.port}`;
logger.info({ url, dataDir: config.dataDir, startupMs: Date.now() - started }, "taskmesh is ready");
process.stderr.write(`\n  taskmesh is running: open ${url}\n  data: ${config.dataDir}   (Ctrl-C to stop)\n\n`);

drainOnSignals([app.server], logger, () => app.close());
