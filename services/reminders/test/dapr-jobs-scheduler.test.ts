// The Dapr Jobs API backend passes the scheduler contract: real daprd sidecars (one per replica,
// same app id) and a real Dapr scheduler, deliveries through AppCallback/OnJobEvent, fires deduped
// in PostgreSQL.
import { afterAll } from "vitest";
import { randomBytes } from "node:crypto";
import { openDatabase } from "@taskmesh/db";
import { createLogger, startServer, type RunningServer } from "@taskmesh/kit";
import { AppCallback, AppCallbackAlpha } from "@taskmesh/proto/dapr/proto/runtime/v1/appcallback_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { freePort, startTestMesh, type DaprMesh } from "@taskmesh/testing/infra";
import { DaprJobsScheduler, daprJobFiresMigration } from "../src/scheduler/dapr-jobs-scheduler.js";
import { schedulerContract } from "./scheduler-contract.js";

const logger = createLogger("dapr-jobs-test");
logger.level = "error";
const schema = "dapr_jobs_test";

let mesh: Promise<DaprMesh> | undefined;
afterAll(async () => (await mesh)?.stop());

schedulerContract({
  name: "Dapr Jobs API",
  async fresh() {
    mesh ??= startTestMesh({ scheduler: true });
    const m = await mesh;
    // a fresh app id per store: its jobs are its own
    const appId = `jobs-${randomBytes(4).toString("hex")}`;
    const database = await freshDatabase();
    const db = await openDatabase({ url: database.url, schema, entities: [], migrations: [daprJobFiresMigration(schema)] });
    const replicas: { server: RunningServer; stopSidecar: () => Promise<void> }[] = [];
    return {
      async open() {
        // the sidecar first, as in a pod: it waits for the app port while the app starts
        const port = await freePort();
        const sidecar = await m.sidecar({ appId, appPort: port, appProtocol: "grpc", scheduler: true });
        const scheduler = new DaprJobsScheduler(db, { daprHttpUrl: `http://127.0.0.1:${sidecar.httpPort}`, schema, logger, retryMs: 200 });
        const server = await startServer({ logger, services: [AppCallback, AppCallbackAlpha], routes: scheduler.routes }, port, "127.0.0.1");
        replicas.push({ server, stopSidecar: () => sidecar.stop() });
        return scheduler;
      },
      async drop() {
        await Promise.all(replicas.map((r) => r.stopSidecar()));
        await Promise.all(replicas.map((r) => r.server.drain()));
        await db.close();
        await database.drop();
      },
    };
  },
});
