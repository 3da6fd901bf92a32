import { create, toBinary, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { EVENT_TYPE_HEADER, TOPIC } from "@taskmesh/events";
import { randomUUID } from "node:crypto";

/** Who and where a change came from, read from request metadata. */
export interface ChangeOrigin {
  userId: string;
  traceparent: string;
  device: string;
}

export interface OutboxRecord {
  topic: string;
  key: string;
  payload: Uint8Array;
  headers: Record<string, string>;
}

type EventCase = NonNullable<MessageInitShape<typeof TaskEventSchema>["event"]>;

/** `owner`: the task's user_id (its project's owner); `origin.userId` is who made the change. */
export function taskEventRecord(origin: ChangeOrigin, owner: string, task: Task, event: EventCase, now: Date): OutboxRecord {
  const message = create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(now),
    userId: owner,
    actorId: origin.userId,
    projectId: task.projectId,
    taskId: task.id,
    version: task.version,
    traceparent: origin.traceparent,
    device: origin.device,
    event,
  });
  const headers: Record<string, string> = { [EVENT_TYPE_HEADER]: event.case ?? "" };
  if (origin.traceparent) headers.traceparent = origin.traceparent;
  return { topic: TOPIC.taskEvents, key: task.id, payload: toBinary(TaskEventSchema, message), headers };
}

export function taskUpdateRecord(userId: string, cursor: string, change: { task: Task } | { deletedId: string }, now: Date): OutboxRecord {
  const message = create(TaskUpdateSchema, {
    eventId: randomUUID(),
    userId,
    cursor,
    occurredAt: timestampFromDate(now),
    change: "task" in change ? { case: "upserted", value: change.task } : { case: "deletedTaskId", value: change.deletedId },
  });
  return { topic: TOPIC.taskUpdates, key: userId, payload: toBinary(TaskUpdateSchema, message), headers: {} };
}

/** Mask paths whose value differs between two snapshots (what an update really changed). */
export function changedPaths(before: Task, after: Task, paths: string[]): string[] {
  const a = toJson(TaskSchema, before) as Record<string, unknown>;
  const b = toJson(TaskSchema, after) as Record<string, unknown>;
  const keys: Record<string, string[]> = {
    due_time: ["dueTime", "dueDate"],
    due_date: ["dueTime", "dueDate"],
    time_zone: ["timeZone"],
    project_id: ["projectId"],
    section_id: ["sectionId"],
    assignee_id: ["assigneeId"],
    parent_id: ["parentId"],
  };
  return paths.filter((p) => (keys[p] ?? [p]).some((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])));
}
