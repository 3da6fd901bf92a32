// The reminders module wired as in the embedded app: the task service and the reminders service
// on one database with the embedded event log, calls going through validation.
import { isMessage } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { openEmbeddedBus, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ReminderEventSchema, type ReminderEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { startRemindersModule, type RemindersModuleOptions } from "../src/index.js";

export const logger = createLogger("reminders-test");
logger.level = process.env.LOG_LEVEL ?? "error";

export const as = (user: string) => ({ headers: { "x-user-id": user } });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The user's first delivery, once it is `status` ("delivered", "failed"). */
export async function firstDelivery(stack: Stack, userId: string, status: string): Promise<DeliveryRow> {
  const [row] = await eventually(`the delivery ${status}`, async () => {
    const rows = await stack.deliveries(userId);
    return rows[0]?.status === status ? rows : undefined;
  });
  return row!;
}

function validated<T extends Parameters<typeof createClient>[0]>(service: T, routes: Parameters<typeof createRouterTransport>[0]) {
  return createClient(service, createRouterTransport(routes, { router: { interceptors: [createValidateInterceptor()] } }));
}

/** A row of reminders.deliveries: one reminder's webhook or e-mail. */
export interface DeliveryRow {
  channel: string;
  status: string;
  attempts: number;
  not_before: Date;
  last_error: string;
}

export interface Stack {
  tasks: Client<typeof TaskService>;
  projects: Client<typeof ProjectService>;
  reminders: Client<typeof ReminderService>;
  /** Every ReminderEvent published on the bus so far. */
  events: ReminderEvent[];
  fired(taskId: string): ReminderEvent[];
  /** The user's deliveries, oldest first. */
  deliveries(userId: string): Promise<DeliveryRow[]>;
  /** Stops the reminders module (nothing else) and starts it again after `whileDown`. */
  restartReminders(whileDown?: () => Promise<void>): Promise<void>;
  module(): Awaited<ReturnType<typeof startRemindersModule>>;
  stop(): Promise<void>;
}

export async function startStack(url: string, extra: Partial<RemindersModuleOptions> = {}): Promise<Stack> {
  const bus: EventBus = await openEmbeddedBus({ url, logger, idlePollMs: 500 });
  const tasksModule = await startTasksModule({ databaseUrl: url, events: { send: (records) => bus.publish(records) }, logger });
  const tasks = validated(TaskService, tasksModule.routes);
  const projects = validated(ProjectService, tasksModule.routes);
  const start = () => startRemindersModule({ databaseUrl: url, events: bus, tasks, logger, ...extra });
  let remindersModule = await start();
  let reminders = validated(ReminderService, remindersModule.routes);
  const events: ReminderEvent[] = [];
  const watcher: Subscription = await bus.subscribe({
    group: `test-watcher-${Math.random()}`,
    topics: ["reminders"],
    async handler({ value }) {
      if (isMessage(value, ReminderEventSchema)) events.push(value);
    },
  });
  return {
    get tasks() {
      return tasks;
    },
    projects,
    get reminders() {
      return reminders;
    },
    events,
    fired: (taskId) => events.filter((e) => e.taskId === taskId && e.event.case === "fired"),
    deliveries: (userId) =>
      remindersModule.db.query<DeliveryRow>(remindersModule.db.em(), `SELECT channel, status, attempts, not_before, last_error FROM reminders.deliveries WHERE user_id = $1 ORDER BY id`, [userId]),
    async restartReminders(whileDown) {
      await remindersModule.stop();
      await whileDown?.();
      remindersModule = await start();
      reminders = validated(ReminderService, remindersModule.routes);
    },
    module: () => remindersModule,
    async stop() {
      await watcher.stop();
      await remindersModule.stop();
      await tasksModule.stop();
      await bus.close();
    },
  };
}
