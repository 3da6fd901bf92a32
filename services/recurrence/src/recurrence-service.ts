// taskmesh.recurrence.v1.RecurrenceService: parsing and previews on the pure engine (no database, no
// identity needed); series edits (skip, end) on the caller's task through the task service.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { invalidArgument, requireUser, USER_ID_HEADER } from "@taskmesh/kit";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import {
  EndSeriesResponseSchema,
  OccurrenceSchema,
  SkipOccurrenceResponseSchema,
  ParseRecurrenceResponseSchema,
  PreviewOccurrencesResponseSchema,
  type EndSeriesRequest,
  type ParseRecurrenceRequest,
  type PreviewOccurrencesRequest,
  type RecurrenceService,
  type SkipOccurrenceRequest,
} from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode, RecurrenceSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { checkTimeZone, isParseError, parseRecurrenceText, dueWithinRange, previewOccurrences, RecurrenceError, summarize, validateRRule, type Due } from "./engine.js";
import { planEndSeries, planSkip, SeriesEditRefused } from "./series-edits.js";

export interface RecurrenceServiceOptions {
  /** The task service, for SkipOccurrence and EndSeries (called as the caller). */
  tasks?: Client<typeof TaskService>;
  now?: () => Date;
}

/** Engine field names → request field paths. */
function requestField(engineField: string, startCase: "startTime" | "startDate" | undefined): string {
  switch (engineField) {
    case "rrule":
      return "recurrence.rrule";
    case "start":
      return startCase === "startDate" ? "start_date" : "start_time";
    default:
      return engineField;
  }
}

function rethrow(e: unknown, startCase?: "startTime" | "startDate"): never {
  if (e instanceof RecurrenceError) {
    throw invalidArgument([{ field: requestField(e.field, startCase), ruleId: e.ruleId, message: e.message }]);
  }
  throw e;
}

function occurrenceOf(due: Due) {
  return create(OccurrenceSchema, {
    when: "date" in due ? { case: "date", value: due.date } : { case: "time", value: timestampFromDate(due.time) },
  });
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

function parseRecurrence(req: ParseRecurrenceRequest) {
  const parsed = parseRecurrenceText(req.text);
  if (isParseError(parsed)) {
    throw invalidArgument([{ field: "text", ruleId: "text.not_understood", message: `${parsed.error}. Try e.g. "${parsed.example}"` }]);
  }
  let rrule: string;
  try {
    rrule = validateRRule(parsed.rrule);
  } catch (e) {
    if (e instanceof RecurrenceError) throw invalidArgument([{ field: "text", ruleId: e.ruleId, message: e.message }]);
    throw e;
  }
  return create(ParseRecurrenceResponseSchema, {
    recurrence: create(RecurrenceSchema, { rrule, mode: parsed.mode, floating: false }),
    summary: summarize(rrule, parsed.mode),
  });
}

function previewRecurrence(req: PreviewOccurrencesRequest) {
  const startCase = req.start.case;
  try {
    const recurrence = req.recurrence;
    if (!recurrence) throw new RecurrenceError("recurrence", "recurrence.required", "recurrence is required");
    const zone = checkTimeZone(req.timeZone);
    const rrule = validateRRule(recurrence.rrule);
    let start: Due;
    if (req.start.case === "startTime") start = { time: timestampDate(req.start.value) };
    else if (req.start.case === "startDate") start = { date: req.start.value };
    else throw new RecurrenceError("start", "start.required", "start_time or start_date is required");
    const mode = recurrence.mode === RecurrenceMode.AFTER_COMPLETION ? RecurrenceMode.AFTER_COMPLETION : RecurrenceMode.SCHEDULE;
    const count = req.count === 0 ? 10 : req.count;
    if (count < 0 || count > 100) throw new RecurrenceError("count", "count.range", "count must be 0..100 (0 means 10)");
    const all = previewOccurrences({ rrule, mode, floating: recurrence.floating }, start, zone, count);
    // Occurrences after 9999-12-31 cannot be represented: the preview ends before them.
    const beyond = all.findIndex((due) => !dueWithinRange(due));
    const occurrences = beyond === -1 ? all : all.slice(0, beyond);
    return create(PreviewOccurrencesResponseSchema, {
      occurrences: occurrences.map(occurrenceOf),
      summary: summarize(rrule, mode),
    });
  } catch (e) {
    rethrow(e, startCase);
  }
}
