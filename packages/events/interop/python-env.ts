// The Python side of the Confluent interop test: confluent-kafka and grpcio-tools, pinned.
import path from "node:path";
import { ensurePythonVenv } from "@taskmesh/testing/infra";

const REQUIREMENTS = path.join(import.meta.dirname, "requirements.txt");

/** Path of the venv's python. TASKMESH_PYTHON picks the interpreter (default python3.11). */
export function ensureInteropPython(): Promise<string> {
  return ensurePythonVenv(REQUIREMENTS);
}
