// The MCP Inspector (npm @modelcontextprotocol/inspector), installed once per version into the
// cache (~/.cache/taskmesh/mcp-inspector/<version>) rather than into the workspace: its web UI's
// dependencies are nothing the project runs.
import { existsSync } from "node:fs";
import path from "node:path";
import { cacheDir, log, run, withLock } from "@taskmesh/testing/infra";

export const INSPECTOR_VERSION = "2.12.0";

/** The inspector's launcher script (run it with node: `node <it> --cli …`). */
export async function inspectorLauncher(): Promise<string> {
  const dir = cacheDir("mcp-inspector", INSPECTOR_VERSION);
  const launcher = path.join(dir, "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
  if (existsSync(launcher)) return launcher;
  await withLock(`mcp-inspector-${INSPECTOR_VERSION}`, async () => {
    if (existsSync(launcher)) return;
    log("mcp-inspector", `installing @modelcontextprotocol/inspector@${INSPECTOR_VERSION} into ${dir}`);
    // Its postinstall only installs the clients of a source checkout: nothing to run for the published package.
    // The npm beside the node running the tests (Node 24's, from the launcher), else the one on PATH.
    const npm = path.join(path.dirname(process.execPath), "npm");
    await run(existsSync(npm) ? npm : "npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "--ignore-scripts", "--no-save", `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`], {
      component: "mcp-inspector",
      what: "npm install",
    });
  });
  return launcher;
}
