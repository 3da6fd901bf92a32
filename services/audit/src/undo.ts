import { create } from "@bufbuild/protobuf";
import { UndoSchema, ActivityKind, type Undo } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { RECURRENCE_DEVICE } from "@taskmesh/kit";
import { maskPathOf, taskWith, type StoredChange } from "./field-changes.js";

export interface UndoInput {
  taskId: string;
  kind: ActivityKind;
  device: string;
  taskVersion: bigint;
  changes: StoredChange[];
}

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
    case ActivityKind.TASK_DELETED:
      return create(UndoSchema, { request: { case: "restoreTask", value: { id: entry.taskId } } });
    default:
      return undefined;
  }
}
