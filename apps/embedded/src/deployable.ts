import type { Deployable } from "@taskmesh/kit";
import { mkdirSync } from "node:fs";
import { withDataFolder, type AppSettings } from "./config.js";
import { startEmbeddedApp } from "./embedded.js";

/** `npm start`: the whole app in one process (embedded mode), its events on its own log, data on disk. */
export const appDeployable: Deployable<AppSettings> = {
  name: "taskmesh",
  async start(settings, { logger }) {
    mkdirSync(settings.dataDir, { recursive: true });
    const config = withDataFolder(settings);
    const app = await startEmbeddedApp(config, logger);
    process.stderr.write(`\n  taskmesh is running: open http://localhost:${app.server.port}\n  data: ${config.dataDir}   (Ctrl-C to stop)\n\n`);
    return { server: app.server, stop: () => app.stop() };
  },
};
