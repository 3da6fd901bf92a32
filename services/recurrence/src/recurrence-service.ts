// taskmesh.recurrence.v1.RecurrenceService on the pure engine: no database, no identity needed.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidArgument } from "@taskmesh/kit";
import {
  OccurrenceSchema,
  ParseRecurrenceResponseSchema,
  PreviewOccurrencesResponseSchema,
  type RecurrenceService,
} from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode, RecurrenceSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import {
  checkTimeZone,
  isParseError,
  parseRecurrenceText,
  previewOccurrences,
  RecurrenceError,
  summarize,
  validateRRule,
  type Due,
} from "./engine.js";

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

export function createRecurrenceServiceImpl(): ServiceImpl<typeof RecurrenceService> {
  return {
    parseRecurrence(req) {
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
    },

    previewOccurrences(req) {
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
        const occurrences = previewOccurrences({ rrule, mode, floating: recurrence.floating }, start, zone, count);
        return create(PreviewOccurrencesResponseSchema, {
          occurrences: occurrences.map((o) =>
            create(OccurrenceSchema, {
              when: "date" in o ? { case: "date", value: o.date } : { case: "time", value: timestampFromDate(o.time) },
            }),
          ),
          summary: summarize(rrule, mode),
        });
      } catch (e) {
        rethrow(e, startCase);
      }
    },
  };
}
