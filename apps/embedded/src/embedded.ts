import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { startAuditModule } from "@taskmesh/audit";
import { openEmbeddedBus } from "@taskmesh/events";
import { inProcessUpstream, startGateway } from "@taskmesh/gateway";
import type { Logger, RunningServer, ServiceModule } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startRecurrenceModule } from "@taskmesh/recurrence";
import { startRemindersModule } from "@taskmesh/reminders";
import { startTasksModule } from "@taskmesh/tasks";
import type { EmbeddedConfig } from "./config.js";
import { needsUpgrade, POSTGRES_FOLDER } from "./pglite-upgrade.js";
import { startPostgresServer } from "./postgres-server.js";

export interface EmbeddedApp {
  server: RunningServer;
  /** The database every service of the app uses. */
  databaseUrl: string;
  /** Stops consumers, services and the event log, in that order (after the server drained). */
  close(): Promise<void>;
  /** Drains the server, then closes. */
  stop(): Promise<void>;
}

/**
 * Every service in one process: one database (a PostgreSQL server the app runs as its child, data
 * under the data folder, unless DATABASE_URL names another) holding each service's schema and the event log, services calling each other in-process, and the gateway on one port
 * in front of them all (accounts, authentication, live sync, the web app).
 */
export async function startEmbeddedApp(config: EmbeddedConfig, logger: Logger): Promise<EmbeddedApp> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      if (needsUpgrade(config.dataDir)) {
        throw new Error(
          `${config.dataDir} holds tasks of an earlier taskmesh (embedded PGlite). Move them once with \`npm run upgrade-data\` (about a minute; the old folder is kept), then start again.`,
        );
      }
      const postgres = await startPostgresServer(path.join(config.dataDir, POSTGRES_FOLDER), logger);
      started.push(postgres);
      databaseUrl = postgres.url;
    }
    const { pruneIntervalMs } = config.retention;
    const bus = await openEmbeddedBus({ url: databaseUrl, logger, retentionMs: config.eventLogRetentionMs, pruneIntervalMs });
    started.push({ stop: () => bus.close() });
    const tasks = await startTasksModule({ databaseUrl, events: { system: bus.system, send: (records) => bus.publish(records) }, logger, ...config.tasks, pruneIntervalMs });
    started.push(tasks);
    const tasksClient = createClient(TaskService, inProcessUpstream(tasks).transport);
    const recurrence = await startRecurrenceModule({ events: bus, tasks: tasksClient });
    started.push(recurrence);
    const audit = await startAuditModule({ databaseUrl, events: bus, tasks: tasksClient, logger, ...config.audit });
    started.push(audit);
    const reminders = await startRemindersModule({
      databaseUrl,
      events: bus,
      tasks: tasksClient,
      smtp: config.smtp,
      webhooks: config.webhooks,
      vapid: config.vapid,
      logger,
      ...config.reminders,
      pruneIntervalMs,
    });
    started.push(reminders);
    const modules: ServiceModule[] = [tasks, recurrence, audit, reminders];
    const gateway = await startGateway({
      logger,
      port: config.server.port,
      drainDelayMs: config.server.drainDelayMs,
      host: config.host,
      upstreams: modules.map(inProcessUpstream),
      auth: {
        databaseUrl,
        jwtSecret: config.jwtSecret,
        secureCookie: config.edge.secureCookie,
        trustedProxies: config.edge.trustedProxies,
        passwordQueue: config.edge.passwordQueue,
        email: config.edge.email,
      },
      bus,
      replicaId: "embedded",
      allowedOrigins: config.edge.allowedOrigins,
      allowedHosts: config.edge.allowedHosts,
      metricsPort: config.edge.metricsPort,
      webDir: config.webDir,
    });
    return {
      server: gateway.server,
      databaseUrl,
      close: stopAll,
      async stop() {
        await gateway.stop();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
