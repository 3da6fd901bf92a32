import { create, fromJson } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type ServiceImpl } from "@connectrpc/connect";
import { invalidArgument, pageSizeOf, requireUser, USER_ID_HEADER } from "@taskmesh/kit";
import { ActivityEntrySchema, type ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { CommentSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { ActivityStore, ActivityRow } from "./activity-store.js";
import { decodePageToken, encodePageToken, listFingerprint, PageTokenError, type PagePosition } from "./page-token.js";
import { changeSummary, entrySummary, TimeFormat } from "./summary.js";
import { undoFor } from "./undo.js";

const PAGE_SIZE = { default: 50, max: 500 };

/**
 * `tasks`: the task service, which says whether the caller may see a task. A task of a project shared
 * with the caller has its history under its owner's user id; with it, a member reads that history.
 */
export function createAuditServiceImpl(log: ActivityStore, tasks?: Client<typeof TaskService>): ServiceImpl<typeof AuditService> {
  return {
    async listActivity(req, ctx) {
      const userId = requireUser(ctx);
      const fingerprint = listFingerprint(req.taskId, req.kinds);
      let after: PagePosition | undefined;
      try {
        after = req.pageToken ? decodePageToken(fingerprint, req.pageToken) : undefined;
      } catch (err) {
        if (!(err instanceof PageTokenError)) throw err;
        throw invalidArgument([{ field: "page_token", ruleId: "page_token.invalid", message: err.message }]);
      }
      const pageSize = pageSizeOf(req.pageSize, PAGE_SIZE);
      const filter = { userId, taskId: req.taskId || undefined, kinds: req.kinds, after, limit: pageSize + 1 };
      let rows = await log.list(filter);
      if (rows.length === 0 && req.taskId && tasks && (await mayRead(tasks, userId, req.taskId))) {
        rows = await log.list({ ...filter, userId: undefined });
      }
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        entries: page.map(entryFromRow),
        nextPageToken: rows.length > pageSize && last ? encodePageToken(fingerprint, last) : "",
      };
    },
  };
}

/** Whether the task service shows the task to the caller (a member of its project). */
async function mayRead(tasks: Client<typeof TaskService>, userId: string, taskId: string): Promise<boolean> {
  try {
    await tasks.getTask({ id: taskId }, { headers: { [USER_ID_HEADER]: userId } });
    return true;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return false;
    throw err;
  }
}

export function entryFromRow(row: ActivityRow): ActivityEntry {
  const occurredAt = new Date(row.occurredAt);
  const taskVersion = BigInt(row.taskVersion);
  const when = new TimeFormat(row.timeZone, occurredAt);
  const fireTime = row.reminder?.fireTime;
  const changeSummaries = row.changes.map((c) => changeSummary(c, when));
  return create(ActivityEntrySchema, {
    id: row.eventId,
    taskId: row.taskId,
    kind: row.kind,
    occurTime: timestampFromDate(occurredAt),
    actor: row.actor,
    device: row.device,
    taskVersion,
    taskTitle: row.taskTitle,
    changes: row.changes.map((c, i) => ({
      field: c.field,
      before: fromJson(ValueSchema, c.before),
      after: fromJson(ValueSchema, c.after),
      summary: changeSummaries[i],
    })),
    summary: entrySummary({ ...row, taskVersion, changeSummaries, when }),
    reminder: row.reminder ? { reminderId: row.reminder.id, fireTime: fireTime ? timestampFromMs(Date.parse(fireTime)) : undefined, reason: row.reminder.reason ?? "" } : undefined,
    undo: undoFor({ ...row, taskVersion }),
    comment: row.comment ? fromJson(CommentSchema, row.comment, { ignoreUnknownFields: true }) : undefined,
  });
}
