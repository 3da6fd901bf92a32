// Virtualenvs for tests that compare with Python libraries, built once per (requirements file,
// interpreter) in ~/.cache/taskmesh/python/<hash>; concurrent runs wait on a lock.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir, log, rmrf, run, withLock } from "./cache.js";
import { infraSettings } from "./settings.js";

/** The interpreter the venvs are made with: TASKMESH_PYTHON, default python3.11. */
export function pythonInterpreter(): string {
  return infraSettings.python;
}

/**
 * Path of the python of a venv with `requirementsFile` installed (pinned versions, so the hash of the
 * file names the environment), made with pythonInterpreter().
 */
export async function ensurePythonVenv(requirementsFile: string): Promise<string> {
  const interpreter = pythonInterpreter();
  const probe = spawnSync(interpreter, ["-c", "import sys; print(sys.version)"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`${interpreter} is needed for ${requirementsFile} (set TASKMESH_PYTHON): ${probe.stderr || probe.error}`);
  const requirements = readFileSync(requirementsFile);
  const hash = createHash("sha256").update(requirements).update(probe.stdout).digest("hex").slice(0, 16);
  const dir = path.join(cacheDir("python"), hash);
  const python = path.join(dir, "bin", "python");
  const complete = path.join(dir, ".complete");
  if (existsSync(complete)) return python;
  return withLock(`python-${hash}`, async () => {
    if (existsSync(complete)) return python;
    rmrf(dir);
    const t0 = Date.now();
    const packages = requirements
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    log("python", `creating ${dir} (${packages.join(", ")})`);
    await run(interpreter, ["-m", "venv", dir]);
    await run(python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r", requirementsFile], { component: "python", what: "pip install" });
    writeFileSync(complete, `${new Date().toISOString()}\n`);
    log("python", `ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return python;
  });
}
