import { isMessage } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { TOPIC, type EventBus, type Subscription } from "@taskmesh/events";
import { createLogger, USER_ID_HEADER, type Logger } from "@taskmesh/kit";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { planNextOccurrence } from "./next-occurrence.js";

export const RECURRENCE_GROUP = "recurrence";

// CreateTask answers in milliseconds. One still unanswered after this is stuck (a task service that
// hangs, a connection that died without a word) and would hold its partition for good: it fails
// with DEADLINE_EXCEEDED, which the bus retries, and the occurrence key makes the retry create at
// most one task.
const CREATE_TASK_DEADLINE_MS = 15_000;

/**
 * Creates the next occurrence of every completed recurring task. Safe under redelivery, replays and
 * several replicas without a dedupe table: CreateTask is idempotent by the occurrence key, and the
 * task service derives the new task's id from it.
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
      const request = planNextOccurrence(value, (task, due) =>
        logger.warn(
          { taskId: task.id, seriesId: task.seriesId || task.id, userId: value.userId, rrule: task.recurrence?.rrule, nextDue: "time" in due ? due.time.getTime() : due.date },
          "series ended: its next occurrence falls after 9999-12-31, beyond what can be stored",
        ),
      );
      if (!request) return;
      await tasks.createTask(request, { headers: { [USER_ID_HEADER]: value.userId }, timeoutMs: createTaskDeadlineMs });
    },
  });
}
