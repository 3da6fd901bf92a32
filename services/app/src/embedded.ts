import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { openEmbeddedBus } from "@taskmesh/events";
import { startServer, type Logger, type RunningServer, type ServiceModule } from "@taskmesh/kit";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startRecurrenceModule } from "@taskmesh/recurrence";
import { startTasksModule } from "@taskmesh/tasks";
import type { EmbeddedConfig } from "./config.js";
import { landingPage } from "./landing.js";

export interface EmbeddedApp {
  server: RunningServer;
  /** Stops consumers, services and the event log, in that order (after the server drained). */
  close(): Promise<void>;
  /** Drains the server, then closes. */
  stop(): Promise<void>;
}

/**
 * Every service in one process: one database (PGlite on disk by default) holding each service's
 * schema and the event log, services calling each other in-process, one port.
 */
export async function startEmbeddedApp(config: EmbeddedConfig, logger: Logger): Promise<EmbeddedApp> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    const bus = await openEmbeddedBus({ url: config.databaseUrl, logger });
    started.push({ stop: () => bus.close() });
    const tasks = await startTasksModule({ databaseUrl: config.databaseUrl, events: { send: (records) => bus.publish(records) }, logger });
    started.push(tasks);
    // In-process calls still go through validation, as they would over the network.
    const tasksClient = createClient(TaskService, createRouterTransport(tasks.routes, { router: { interceptors: [createValidateInterceptor()] } }));
    const recurrence = await startRecurrenceModule({ events: bus, tasks: tasksClient });
    started.push(recurrence);
    const modules: ServiceModule[] = [tasks, recurrence];
    const server = await startServer(
      {
        logger,
        services: modules.flatMap((m) => m.services),
        routes: (router) => modules.forEach((m) => m.routes(router)),
        http: [landingPage(`http://localhost:${config.port}`)],
      },
      config.port,
      config.host,
    );
    return {
      server,
      close: stopAll,
      async stop() {
        await server.drain();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
