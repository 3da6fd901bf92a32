import type { ConnectRouter } from "@connectrpc/connect";
import { openDatabase } from "@taskmesh/db";
import { createLogger, type Logger } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { ChangeHub } from "./change-hub.js";
import { migrations } from "./migrations/index.js";
import { OutboxRelay, type OutboxSink } from "./outbox-relay.js";
import { createTaskServiceImpl } from "./task-service.js";
import { TaskStore } from "./task-store.js";

export { TIME_ZONE_HEADER, idForRequest } from "./task-service.js";
export { OutboxRelay, type OutboxSink } from "./outbox-relay.js";

export interface TasksModuleOptions {
  databaseUrl: string;
  now?: () => Date;
  poolSize?: number;
  /** Where committed events go (the event bus). Without it they stay in the outbox. */
  events?: OutboxSink;
  logger?: Logger;
}

/** The task service with its database, ready to mount on a server (embedded or standalone). */
export async function startTasksModule(options: TasksModuleOptions) {
  const db = await openDatabase({ url: options.databaseUrl, schema: "tasks", entities: [], migrations, poolSize: options.poolSize });
  const hub = new ChangeHub();
  await hub.start(db);
  const store = new TaskStore(db);
  const impl = createTaskServiceImpl({ store, hub, now: options.now });
  const relay = options.events ? new OutboxRelay(db, options.events, options.logger ?? createLogger("tasks-outbox")) : undefined;
  await relay?.start();
  return {
    services: [TaskService],
    routes: (router: ConnectRouter) => router.service(TaskService, impl),
    store,
    db,
    async stop() {
      await relay?.stop();
      await hub.stop();
      await db.close();
    },
  };
}
