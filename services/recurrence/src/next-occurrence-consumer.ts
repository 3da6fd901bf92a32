import { isMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { TOPIC, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger, DEVICE_HEADER, RECURRENCE_DEVICE, USER_ID_HEADER, type Logger } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { planNextOccurrence, withdrawnOccurrence } from "./next-occurrence.js";

export const RECURRENCE_GROUP = "recurrence";

// CreateTask answers in milliseconds. One still unanswered after this is stuck (a task service that
// hangs, a connection that died without a word) and would hold its partition for good: it fails
// with DEADLINE_EXCEEDED, which the bus retries, and the occurrence key makes the retry create at
// most one task.
const CREATE_TASK_DEADLINE_MS = 15_000;

/**
 * Creates the next occurrence of every completed recurring task, and takes it back, untouched,
 * when that completion is undone (the task reopened): one open occurrence of a series, not two.
 * Safe under redelivery, replays and several replicas without a dedupe table: CreateTask is
 * idempotent by the occurrence key, the task service derives the new task's id from it, and the
 * take-back deletes that id only at the version it was made with.
 */
export function startNextOccurrenceConsumer(
  bus: EventBus,
  tasks: Client<typeof TaskService>,
  logger: Logger = createLogger("recurrence"),
  createTaskDeadlineMs = CREATE_TASK_DEADLINE_MS,
): Promise<Subscription> {
  return bus.subscribe({
    group: RECURRENCE_GROUP,
    topics: [TOPIC.taskEvents],
    // Each completion waits on a CreateTask call: other tasks' completions need not queue behind it.
    concurrency: 16,
    async handler({ value }) {
      if (!isMessage(value, TaskEventSchema)) return;
      const headers = { [USER_ID_HEADER]: value.userId, [DEVICE_HEADER]: RECURRENCE_DEVICE };
      const withdrawn = withdrawnOccurrence(value);
      if (withdrawn) {
        await tasks.deleteTask(withdrawn, { headers, timeoutMs: createTaskDeadlineMs }).catch((err: unknown) => {
          // None was made (the series had ended) or it is gone already; or the user has changed it: it stays.
          if ([Code.NotFound, Code.Aborted].includes(ConnectError.from(err).code)) return;
          throw err;
        });
        return;
      }
      const request = planNextOccurrence(value, (task, why, due) =>
        logger.warn(
          { taskId: task.id, seriesId: task.seriesId || task.id, userId: value.userId, rrule: task.recurrence?.rrule, nextDue: due && ("time" in due ? due.time.getTime() : due.date) },
          `series ended: ${why}`,
        ),
      );
      if (!request) return;
      await tasks.createTask(request, { headers, timeoutMs: createTaskDeadlineMs });
    },
  });
}
