// The real embedded app (gateway, services, its own PostgreSQL in a temporary folder) on a free
// port, serving the built web app — what `npm start` runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "@taskmesh/kit";
import { embeddedConfig, startEmbeddedApp } from "@taskmesh/embedded";

const web = path.resolve(import.meta.dirname, "../..");

export interface RunningApp {
  url: string;
  stop(): Promise<void>;
}

/** `env`: more settings, as `npm start` reads them (SMTP_URL, PORT…). */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  // Same step as `npm test`'s pretest, so the file also runs on its own after a source change.
  const build = spawnSync(process.execPath, [path.join(web, "ensure-build.mjs")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("building the web app failed");
  const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-web-test-"));
  const config = embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0", TASKMESH_WEB_DIR: path.join(web, "dist"), ...env });
  const app = await startEmbeddedApp(config, createLogger("web-test"));
  return {
    url: app.server.url,
    async stop() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
