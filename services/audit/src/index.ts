import type { Client, ConnectRouter } from "@connectrpc/connect";
import { openDatabase } from "@taskmesh/db";
import { RetentionJob, type EventBus } from "@taskmesh/events";
import { createLogger, type Logger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startActivityConsumer } from "./activity-consumer.js";
import { ActivityStore } from "./activity-store.js";
import { createAuditServiceImpl } from "./audit-service.js";
import { entities } from "./entities.js";
import { AUDIT_SCHEMA, migrations } from "./migrations/index.js";
import { activityPruned, DEFAULT_RETENTION_DAYS } from "./retention.js";

export { AUDIT_GROUP, AUDIT_TOPICS } from "./activity-consumer.js";
export { DEFAULT_RETENTION_DAYS } from "./retention.js";
export { auditConfig, auditSettings } from "./config.js";

export interface AuditModuleOptions {
  databaseUrl: string;
  /** With it, task-events and reminders are recorded (consumer group "audit"). */
  events?: EventBus;
  /** With it, members of a shared project read the history of its tasks (kept under the owner's id). */
  tasks?: Client<typeof TaskService>;
  /** Days entries are kept (default 90). */
  retentionDays?: number;
  /** Time between retention purges (default 1 h); the first runs at start. */
  purgeIntervalMs?: number;
  /** Entries deleted per purge transaction (default 1,000). */
  purgeBatchSize?: number;
  now?: () => Date;
  poolSize?: number;
  logger?: Logger;
}

/** The audit service with its database, consumer and retention job, ready to mount on a server. */
export async function startAuditModule(options: AuditModuleOptions) {
  const logger = options.logger ?? createLogger("audit");
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const db = await openDatabase({ url: options.databaseUrl, schema: AUDIT_SCHEMA, entities, migrations, poolSize: options.poolSize });
  try {
    const log = new ActivityStore(db);
    const consumer = options.events ? await startActivityConsumer(options.events, log) : undefined;
    const retention = new RetentionJob(activityPruned(log, retentionDays), {
      intervalMs: options.purgeIntervalMs,
      batchSize: options.purgeBatchSize,
      now: options.now,
      logger,
    });
    retention.start();
    return {
      services: [AuditService],
      routes: (router: ConnectRouter) => router.service(AuditService, createAuditServiceImpl(log, options.tasks)),
      retention,
      db,
      async stop() {
        await consumer?.stop();
        await retention.stop();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
