// The task service as its tests drive it: the module on a fresh database of the test command's
// PostgreSQL, and clients over Connect's router transport with the request checks on, as calls
// through the gateway get them.
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { openDatabase } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { afterAll, beforeAll } from "vitest";
import { startTasksModule } from "../src/index.js";
import { migrations } from "../src/migrations/index.js";

export type TasksModule = Awaited<ReturnType<typeof startTasksModule>>;

export interface TasksUnderTest {
  readonly module: TasksModule;
  readonly tasks: Client<typeof TaskService>;
  readonly projects: Client<typeof ProjectService>;
  /** Raw SQL on the service's database. */
  sql<Row>(text: string, params?: unknown[]): Promise<Row[]>;
}

export interface TasksUnderTestOptions {
  /** Rows stored before `migration` existed: the migrations before it run, then `sql`, then the module runs the rest. */
  storedBefore?: { migration: string; sql: string };
  /** The service's clock, for relative days (`due:today`) that must be exact. */
  now?: () => Date;
}

/** Starts the module before the tests of the suite that calls it (a file or a describe) and stops it after them. */
export function tasksUnderTest(options: TasksUnderTestOptions = {}): TasksUnderTest {
  let started: { module: TasksModule; tasks: Client<typeof TaskService>; projects: Client<typeof ProjectService>; drop(): Promise<void> } | undefined;
  const running = () => {
    if (!started) throw new Error("the task module starts in the suite's beforeAll: reach it from a test");
    return started;
  };
  beforeAll(async () => {
    const db = await freshDatabase();
    if (options.storedBefore) await storeBefore(db.url, options.storedBefore);
    const module = await startTasksModule({ databaseUrl: db.url, now: options.now });
    const transport = createRouterTransport(module.routes, { router: { interceptors: [createValidateInterceptor()] } });
    started = { module, tasks: createClient(TaskService, transport), projects: createClient(ProjectService, transport), drop: db.drop };
  });
  afterAll(async () => {
    await started?.module.stop();
    await started?.drop();
  });
  return {
    get module() {
      return running().module;
    },
    get tasks() {
      return running().tasks;
    },
    get projects() {
      return running().projects;
    },
    sql: <Row>(text: string, params: unknown[] = []) => running().module.db.query<Row>(running().module.db.em(), text, params),
  };
}

async function storeBefore(url: string, { migration, sql }: { migration: string; sql: string }): Promise<void> {
  const at = migrations.findIndex((m) => m.name === migration);
  if (at < 0) throw new Error(`no migration ${migration}`);
  const old = await openDatabase({ url, schema: "tasks", entities: [], migrations: migrations.slice(0, at) });
  try {
    await old.query(old.em(), sql);
  } finally {
    await old.close();
  }
}
