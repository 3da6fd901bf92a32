import type { ConnectRouter } from "@connectrpc/connect";
import { openDatabase } from "@taskmesh/db";
import { createLogger, type Logger } from "@taskmesh/kit";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { DAY_MS, RetentionJob } from "@taskmesh/events";
import { ChangeHub } from "./change-hub.js";
import { DEFAULT_FEED_RETENTION_DAYS, deletedTasksPruned, feedPruned } from "./feed-retention.js";
import { entities, routines } from "./entities.js";
import { migrations } from "./migrations/index.js";
import { OutboxRelay, type OutboxSink } from "./outbox-relay.js";
import { createProjectServiceImpl } from "./project-service.js";
import { ProjectStore } from "./project-store.js";
import { SavedFilterStore } from "./saved-filter-store.js";
import { savedFilterHandlers } from "./saved-filters.js";
import { createTaskServiceImpl } from "./task-service.js";
import { TaskStore } from "./task-store.js";

export { OutboxRelay, type OutboxSink } from "./outbox-relay.js";

export interface TasksModuleOptions {
  databaseUrl: string;
  now?: () => Date;
  poolSize?: number;
  /** Where committed events go (the event bus). Without it they stay in the outbox. */
  events?: OutboxSink;
  logger?: Logger;
  /**
   * HMAC key of ListTasks page tokens (TASKMESH_PAGE_TOKEN_SECRET in cluster mode, at least 32
   * bytes, the same on every replica). Without it the service generates one at first start and
   * keeps it in its schema (tasks.server_keys), which every replica then shares.
   */
  pageTokenKey?: Uint8Array;
  /** How long the change feed is kept (default 30 days). */
  feedRetentionMs?: number;
  /** Time between prunings of the feed (default 1 h). */
  pruneIntervalMs?: number;
  /** Silence after which a caught-up WatchTasks stream gets a heartbeat (default 25 s). */
  watchHeartbeatMs?: number;
}

/** The task and project services with their database, ready to mount on a server (embedded or standalone). */
export async function startTasksModule(options: TasksModuleOptions) {
  const db = await openDatabase({ url: options.databaseUrl, schema: "tasks", entities, routines, migrations, poolSize: options.poolSize });
  const hub = new ChangeHub();
  await hub.start(db);
  const store = new TaskStore(db);
  const pageTokenKey = options.pageTokenKey ?? (await store.serverKey("page-token"));
  const projects = new ProjectStore(db);
  const impl = createTaskServiceImpl({ store, projects, hub, pageTokenKey, now: options.now, watchHeartbeatMs: options.watchHeartbeatMs });
  const projectImpl = createProjectServiceImpl({ store, projects, now: options.now });
  const relay = options.events ? new OutboxRelay(db, options.events, options.logger ?? createLogger("tasks-outbox")) : undefined;
  await relay?.start();
  const retentionMs = options.feedRetentionMs ?? DEFAULT_FEED_RETENTION_DAYS * DAY_MS;
  const retention = new RetentionJob([feedPruned(db, retentionMs), deletedTasksPruned(db, retentionMs)], {
    intervalMs: options.pruneIntervalMs,
    now: options.now,
    logger: options.logger ?? createLogger("tasks"),
  });
  retention.start();
  return {
    services: [TaskService, ProjectService],
    routes: (router: ConnectRouter) => router.service(TaskService, { ...impl, ...savedFilterHandlers(new SavedFilterStore(db)) }).service(ProjectService, projectImpl),
    store,
    db,
    retention,
    async stop() {
      await retention.stop();
      await relay?.stop();
      await hub.stop();
      await db.close();
    },
  };
}
export { tasksConfig, tasksSettings } from "./config.js";
