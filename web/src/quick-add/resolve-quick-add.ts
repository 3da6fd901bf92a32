// Finishes a quick-add draft with the recurrence service: the phrase becomes an RRULE and a
// readable summary, and a recurring task without a stated date gets its first occurrence as due.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import type { Recurrence } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { cleanTitle, localDate, takeDue, type Due, type QuickAddDraft } from "./parse-quick-add.js";

export interface ResolvedQuickAdd extends QuickAddDraft {
  recurrence?: Recurrence;
  recurrenceSummary?: string;
  /** Why the recurrence phrase was not understood (it stays in the title then). */
  recurrenceError?: string;
}

// Words that trail a recurrence phrase without belonging to it ("every day please") are dropped
// from its end one at a time, this many at most.
const MAX_TRAILING_WORDS = 4;

export async function resolveQuickAdd(
  draft: QuickAddDraft,
  recurrence: Client<typeof RecurrenceService>,
  timeZone: string,
  now: Date = new Date(),
  signal?: AbortSignal,
): Promise<ResolvedQuickAdd> {
  if (!draft.recurrenceText) return draft;
  const words = draft.recurrenceText.split(/\s+/);
  let firstError: string | undefined;
  for (let n = words.length; n >= Math.max(1, words.length - MAX_TRAILING_WORDS); n--) {
    try {
      const parsed = await recurrence.parseRecurrence({ text: words.slice(0, n).join(" ") }, { signal });
      if (!parsed.recurrence) break;
      // Words after the rule go back to the title, and may name the first due ("… by friday").
      const leftover = draft.due ? { rest: words.slice(n).join(" ") } : takeDue(words.slice(n).join(" "), now);
      const due = draft.due ?? leftover.due ?? (await firstOccurrence(recurrence, parsed.recurrence, timeZone, now, signal));
      return {
        ...draft,
        title: cleanTitle(`${draft.title} ${leftover.rest}`),
        recurrence: parsed.recurrence,
        recurrenceSummary: parsed.summary,
        ...(due ? { due } : {}),
      };
    } catch (err) {
      const error = ConnectError.from(err);
      if (error.code !== Code.InvalidArgument) throw err;
      firstError ??= error.rawMessage;
    }
  }
  const { recurrenceText, ...rest } = draft;
  return { ...rest, title: cleanTitle(`${draft.title} ${recurrenceText}`), recurrenceError: firstError ?? "not a recurrence" };
}

/**
 * The first occurrence after now. DTSTART always counts as an occurrence, so the preview starts
 * just before now and the second result is the first one the rule itself produces. Rules with no
 * day or time parts ("every month") start today.
 */
async function firstOccurrence(client: Client<typeof RecurrenceService>, rule: Recurrence, timeZone: string, now: Date, signal?: AbortSignal): Promise<Due | undefined> {
  const parts = rule.rrule.split(";").map((p) => p.split("=")[0]);
  const timed = parts.some((p) => p === "BYHOUR" || p === "BYMINUTE") || /FREQ=(HOURLY|MINUTELY)/.test(rule.rrule);
  if (!timed && parts.every((p) => p === "FREQ" || p === "INTERVAL" || p === "COUNT" || p === "UNTIL")) return { kind: "date", date: localDate(now) };
  const start = timed
    ? ({ case: "startTime", value: timestampFromDate(new Date(Math.floor(now.getTime() / 60_000) * 60_000)) } as const)
    : ({ case: "startDate", value: localDate(new Date(now.getTime() - 86_400_000)) } as const);
  const { occurrences } = await client.previewOccurrences({ recurrence: rule, start, timeZone, count: 2 }, { signal });
  const next = occurrences[1]?.when;
  if (next?.case === "time") return { kind: "time", time: timestampDate(next.value) };
  if (next?.case === "date") return { kind: "date", date: next.value };
  return undefined;
}
