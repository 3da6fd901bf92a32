#!/usr/bin/env node
// The compiled CLI (cli/dist, built with the other workspaces by `npm run build` or `npm start`),
// loading every workspace's compiled code as `node --conditions=taskmesh-dist` would; before the
// first build, the TypeScript sources through tsx. On a node older than the project's (a desktop
// agent or a shell may start it with the machine's), it runs again on the project's Node 24, as
// `npm start` does: the same cache, fetched once if missing.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";
import { ensureNode, nodeTooOld, runAsOnlyChild } from "../../scripts/project-node.mjs";

if (nodeTooOld()) {
  // Quiet: stdout may be JSON or an MCP stdio session, and a note on every command is noise.
  runAsOnlyChild(await ensureNode({ note: false }), [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
} else {
  const dist = new URL("../dist/main.js", import.meta.url);
  if (existsSync(dist)) {
    module.registerHooks({ resolve: (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, "taskmesh-dist"] }) });
    await import(dist.href);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    await import(new URL("../src/main.ts", import.meta.url).href);
  }
}
