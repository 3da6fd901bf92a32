// Builds the web app into web/dist when it is missing or its sources changed since the last build
// (run before `npm start` and `npm test`, so a fresh clone serves the app). Compares a hash of the
// inputs rather than file times, which a checkout or a copy does not keep.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const web = import.meta.dirname;
const root = path.dirname(web);
const stamp = path.join(web, "dist", ".source-hash");
const inputs = ["web/index.html", "web/vite.config.ts", "web/package.json", "web/src", "web/public", "packages/quick-add/src", "packages/proto/src/gen", "package-lock.json"];

function files(rel) {
  const full = path.join(root, rel);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [rel];
  return readdirSync(full)
    .sort()
    .flatMap((entry) => files(path.join(rel, entry)));
}

const hash = createHash("sha256");
for (const file of inputs.flatMap(files))
  hash
    .update(file)
    .update("\0")
    .update(readFileSync(path.join(root, file)))
    .update("\0");
const digest = hash.digest("hex");

if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) process.exit(0);
process.stderr.write("Building the web app (vite build, a few seconds)…\n");
const started = Date.now();
const vite = path.join(root, "node_modules", ".bin", "vite");
// Always the production build npm start serves: started from a test run, NODE_ENV is "test"
// (vitest sets it), and vite would build React's development bundle without the service worker.
const result = spawnSync(vite, ["build", "--logLevel", "warn"], { cwd: web, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
if (result.status !== 0) {
  process.stderr.write(`web app build failed (${result.error?.message ?? `exit ${result.status}`}); run \`npx vite build\` in web/ to see why\n`);
  process.exit(1);
}
writeFileSync(stamp, digest);
process.stderr.write(`web app built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
