// The daprd and scheduler binaries `npm test` built (scripts/infra/dapr.ts), for tests that run a mesh.
import { startDaprMesh, type DaprMesh, type DaprMeshOptions } from "../../../scripts/infra/dapr.js";

export const DAPRD_ENV = "TASKMESH_TEST_DAPRD";
export const DAPR_SCHEDULER_ENV = "TASKMESH_TEST_DAPR_SCHEDULER";

export function testMesh(options: DaprMeshOptions = {}): Promise<DaprMesh> {
  const daprd = process.env[DAPRD_ENV];
  const scheduler = process.env[DAPR_SCHEDULER_ENV];
  if (!daprd || !scheduler) {
    throw new Error(`${DAPRD_ENV} and ${DAPR_SCHEDULER_ENV} are not set: run the tests with \`npm test\`, which builds daprd and the scheduler and sets them`);
  }
  return startDaprMesh({ ...options, binaries: { version: "test", daprd, scheduler } });
}
