// taskmesh.recurrence.v1.RecurrenceService: parsing and previews on the pure engine (phrase-rpcs.ts);
// series edits (skip, end) on the caller's task through the task service.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { requireUser, USER_ID_HEADER } from "@taskmesh/kit";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import {
  EndSeriesResponseSchema,
  SkipOccurrenceResponseSchema,
  type EndSeriesRequest,
  type RecurrenceService,
  type SkipOccurrenceRequest,
} from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { occurrenceOf, parseRecurrence, previewRecurrence } from "./phrase-rpcs.js";
import { planEndSeries, planSkip, SeriesEditRefused } from "./series-edits.js";

export interface RecurrenceServiceOptions {
  /** The task service, for SkipOccurrence and EndSeries (called as the caller). */
  tasks?: Client<typeof TaskService>;
  now?: () => Date;
}

/** What the handlers share. */
interface Deps {
  tasks: Client<typeof TaskService> | undefined;
  now: () => Date;
}

export function createRecurrenceServiceImpl(options: RecurrenceServiceOptions = {}): ServiceImpl<typeof RecurrenceService> {
  const deps: Deps = { tasks: options.tasks, now: options.now ?? (() => new Date()) };
  return {
    skipOccurrence: (req, ctx) => skipOccurrence(deps, req, ctx),
    endSeries: (req, ctx) => endSeries(deps, req, ctx),
    parseRecurrence,
    previewOccurrences: previewRecurrence,
  };
}

/** Loads the caller's task at the version they saw, plans an edit of its series, applies it. */
async function editSeries<T>(
  { tasks }: Deps,
  ctx: HandlerContext,
  req: { taskId: string; expectedVersion: bigint },
  plan: (task: Task) => T & { update: Parameters<Client<typeof TaskService>["updateTask"]>[0] },
): Promise<{ task: Task | undefined; planned: T }> {
  if (!tasks) {
    throw new ConnectError("series edits need the task service: start the recurrence service with TASKS_URL", Code.Unavailable);
  }
  const callOptions = { headers: { [USER_ID_HEADER]: requireUser(ctx) }, signal: ctx.signal };
  const { task } = await tasks.getTask({ id: req.taskId }, callOptions);
  if (!task) throw new ConnectError("task not found", Code.NotFound);
  if (req.expectedVersion !== 0n && req.expectedVersion !== task.version) {
    throw new ConnectError(`the task changed since version ${req.expectedVersion} (now ${task.version}): reload it and try again`, Code.Aborted);
  }
  let planned: ReturnType<typeof plan>;
  try {
    planned = plan(task);
  } catch (e) {
    if (e instanceof SeriesEditRefused) throw new ConnectError(e.message, Code.FailedPrecondition);
    throw e;
  }
  const updated = await tasks.updateTask(planned.update, callOptions);
  return { task: updated.task, planned };
}

async function skipOccurrence(deps: Deps, req: SkipOccurrenceRequest, ctx: HandlerContext) {
  const { task, planned } = await editSeries(deps, ctx, req, (t) => planSkip(t, deps.now()));
  return create(SkipOccurrenceResponseSchema, { task, skipped: occurrenceOf(planned.skipped) });
}

async function endSeries(deps: Deps, req: EndSeriesRequest, ctx: HandlerContext) {
  const { task, planned } = await editSeries(deps, ctx, req, planEndSeries);
  return create(EndSeriesResponseSchema, { task, summary: planned.summary });
}
