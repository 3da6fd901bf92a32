#!/usr/bin/env node
// The compiled CLI (cli/dist, built with the other workspaces by `npm run build` or `npm start`),
// loading every workspace's compiled code as `node --conditions=taskmesh-dist` would; before the
// first build, the TypeScript sources through tsx.
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";

const dist = new URL("../dist/main.js", import.meta.url);
if (existsSync(dist)) {
  registerHooks({ resolve: (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, "taskmesh-dist"] }) });
  await import(dist.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/main.ts", import.meta.url).href);
}
