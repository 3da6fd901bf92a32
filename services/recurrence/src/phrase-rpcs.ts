// RecurrenceService's parsing and previews: the pure engine behind the RPCs' shapes, with no
// database, identity or server. The service serves them; the web app runs the same handlers in the
// page (a router transport), so a repeating line is read at once and while offline.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@taskmesh/kit/errors";
import {
  OccurrenceSchema,
  ParseRecurrenceResponseSchema,
  PreviewOccurrencesResponseSchema,
  type ParseRecurrenceRequest,
  type PreviewOccurrencesRequest,
} from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode, RecurrenceSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { checkTimeZone, dueWithinRange, isParseError, parseRecurrenceText, previewOccurrences, RecurrenceError, summarize, validateRRule, type Due } from "./engine.js";

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

export function occurrenceOf(due: Due) {
  return create(OccurrenceSchema, {
    when: "date" in due ? { case: "date", value: due.date } : { case: "time", value: timestampFromDate(due.time) },
  });
}

export function parseRecurrence(req: ParseRecurrenceRequest) {
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

export function previewRecurrence(req: PreviewOccurrencesRequest) {
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
