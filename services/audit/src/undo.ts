import { create, fromJson, type JsonObject } from "@bufbuild/protobuf";
import { UndoSchema, ActivityKind, type Undo } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { RECURRENCE_DEVICE } from "@taskmesh/kit";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { maskPathOf, taskWith, type StoredChange } from "./field-changes.js";

export interface UndoInput {
  eventId: string;
  taskId: string;
  kind: ActivityKind;
  device: string;
  taskVersion: bigint;
  changes: StoredChange[];
  snapshot: JsonObject | null;
}

/** The prefix of request_id of the CreateTask that restores a deleted task (one per deletion). */
export const RESTORE_REQUEST_PREFIX = "audit-undo:";

/**
 * The TaskService request that reverts an entry. expected_version is the version the change
 * produced: an update's undo fails with ABORTED only when one of its fields changed again since
 * (per-field merge), a completion's or reopening's when anything did.
 */
export function undoFor(entry: UndoInput): Undo | undefined {
  // A next occurrence made, or taken back, by the recurrence service follows a completion or its
  // undo: undoing that completion is what undoes it, so "the latest change" is never this one.
  if (entry.device === RECURRENCE_DEVICE) return undefined;
  const ref = { id: entry.taskId, expectedVersion: entry.taskVersion };
  switch (entry.kind) {
    case ActivityKind.TASK_UPDATED: {
      const undoable = entry.changes.filter((c): c is StoredChange & { field: Exclude<StoredChange["field"], "order"> } => c.field !== "order");
      if (undoable.length === 0) return undefined;
      return create(UndoSchema, {
        request: {
          case: "updateTask",
          value: {
            task: taskWith(entry.taskId, undoable, "before"),
            updateMask: { paths: undoable.map((c) => maskPathOf(c.field)) },
            expectedVersion: entry.taskVersion,
          },
        },
      });
    }
    case ActivityKind.TASK_COMPLETED:
      return create(UndoSchema, { request: { case: "reopenTask", value: ref } });
    case ActivityKind.TASK_REOPENED:
      return create(UndoSchema, { request: { case: "completeTask", value: ref } });
    case ActivityKind.TASK_CREATED:
      return create(UndoSchema, { request: { case: "deleteTask", value: ref } });
    case ActivityKind.TASK_DELETED: {
      if (!entry.snapshot) return undefined;
      const last = fromJson(TaskSchema, entry.snapshot, { ignoreUnknownFields: true });
      return create(UndoSchema, {
        request: {
          case: "createTask",
          value: {
            title: last.title,
            notes: last.notes,
            priority: last.priority,
            tags: last.tags,
            due: last.due,
            timeZone: last.timeZone,
            recurrence: last.recurrence,
            reminders: last.reminders,
            seriesId: last.seriesId,
            // Back where it was, not in the Inbox at the top level.
            projectId: last.projectId,
            sectionId: last.sectionId,
            assigneeId: last.assigneeId,
            parentId: last.parentId,
            requestId: `${RESTORE_REQUEST_PREFIX}${entry.eventId}`,
          },
        },
      });
    }
    default:
      return undefined;
  }
}
