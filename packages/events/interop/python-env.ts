// A virtualenv with Confluent's Python client for the interop test, built once per
// (requirements, interpreter) in ~/.cache/taskmesh/python/<hash>; concurrent runs wait on a lock.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir, log, rmrf, run, withLock } from "../../../scripts/infra/cache.js";

const REQUIREMENTS = path.join(import.meta.dirname, "requirements.txt");

/** Path of the venv's python. TASKMESH_PYTHON picks the interpreter (default python3.11). */
export async function ensureInteropPython(): Promise<string> {
  const interpreter = process.env.TASKMESH_PYTHON ?? "python3.11";
  const probe = spawnSync(interpreter, ["-c", "import sys; print(sys.version)"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`${interpreter} is needed for the Confluent interop test (set TASKMESH_PYTHON): ${probe.stderr || probe.error}`);
  const hash = createHash("sha256").update(readFileSync(REQUIREMENTS)).update(probe.stdout).digest("hex").slice(0, 16);
  const dir = path.join(cacheDir("python"), hash);
  const python = path.join(dir, "bin", "python");
  const complete = path.join(dir, ".complete");
  if (existsSync(complete)) return python;
  return withLock(`python-${hash}`, async () => {
    if (existsSync(complete)) return python;
    rmrf(dir);
    const t0 = Date.now();
    log("python", `creating ${dir} (confluent-kafka, grpcio-tools)`);
    await run(interpreter, ["-m", "venv", dir]);
    await run(python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r", REQUIREMENTS], { component: "python", what: "pip install" });
    writeFileSync(complete, `${new Date().toISOString()}\n`);
    log("python", `ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return python;
  });
}
