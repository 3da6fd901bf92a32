// `npm run bench -- <name> [args]`: runs bench/<name>.ts.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const [name, ...args] = process.argv.slice(2);
const available = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith(".ts") && !["run.ts", "lib.ts"].includes(f))
  .map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join("|")}> [args]`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, `${name}.ts`), ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
