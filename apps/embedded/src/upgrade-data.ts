// `npm run upgrade-data [-- <data folder>]` (default: TASKMESH_DATA_DIR, else ./.data): moves the
// earlier embedded engine's data into the app's PostgreSQL, with progress.
import path from "node:path";
import { createLogger, defineConfig, processEnv } from "@taskmesh/kit";
import { dataDirSettings } from "./config.js";
import { PGLITE_FOLDER, upgradePgliteData } from "./pglite-upgrade.js";

const dataDir = process.argv[2] ? path.resolve(process.argv[2]) : defineConfig("upgrade-data", { dataDir: dataDirSettings }).parse(processEnv()).dataDir;
const say = (line: string) => process.stderr.write(`${line}\n`);
try {
  const t0 = Date.now();
  const tables = await upgradePgliteData(dataDir, say, createLogger("upgrade-data"));
  say(`\nMoved ${tables.reduce((n, t) => n + t.rows, 0)} rows in ${tables.length} tables in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  say(`The old folder is kept as ${path.join(dataDir, `${PGLITE_FOLDER}.before-upgrade`)}: remove it once the app shows your tasks.`);
} catch (err) {
  say(`\n✖ ${(err as Error).message}`);
  process.exitCode = 1;
}
