// The quick-add corpus (quick-add-corpus.ts): every line is read as the web app reads it (parse,
// then the recurrence service in process for the rule and the first due) at a fixed moment and
// zone, and every field of the reading is checked. Rows marked `gap` must still fail, so a fixed
// gap is noticed and its mark removed.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { Temporal } from "temporal-polyfill";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { Priority, RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { createRecurrenceServiceImpl } from "../../services/recurrence/src/recurrence-service.js";
import { parseQuickAdd, resolveQuickAdd, taggedWith, type Due, type ReminderDraft, type ResolvedQuickAdd } from "@taskmesh/quick-add";
import { CORPUS, REFERENCE_NOW, REFERENCE_ZONE, type Reading } from "./quick-add-corpus.js";

const client = createClient(
  RecurrenceService,
  createRouterTransport((router) => router.service(RecurrenceService, createRecurrenceServiceImpl())),
);

const PRIORITY_NAMES: Partial<Record<Priority, Reading["priority"]>> = {
  [Priority.HIGH]: "high",
  [Priority.MEDIUM]: "medium",
  [Priority.LOW]: "low",
  [Priority.NONE]: "none",
};

const wall = (time: Date, zone: string) => Temporal.Instant.fromEpochMilliseconds(time.getTime()).toZonedDateTimeISO(zone).toPlainDateTime().toString({ smallestUnit: "minute" }).replace("T", " ");
const showDue = (due: Due | undefined, zone: string) => (!due ? undefined : due.kind === "date" ? due.date : wall(due.time, zone));
const showReminder = (r: ReminderDraft | undefined, zone: string) => (!r ? undefined : r.kind === "before" ? `before ${r.seconds}` : `at ${wall(r.time, zone)}`);

/** The reading in the corpus's terms, every field present (undefined when absent). */
export async function read(text: string): Promise<Required<Omit<Reading, "gap">> | Record<string, unknown>> {
  const resolved: ResolvedQuickAdd = await resolveQuickAdd(parseQuickAdd(text, REFERENCE_NOW, REFERENCE_ZONE), client, REFERENCE_ZONE, REFERENCE_NOW);
  const zone = resolved.timeZone ?? REFERENCE_ZONE;
  return {
    title: resolved.title,
    due: showDue(resolved.due, zone),
    zone,
    rrule: resolved.recurrence?.rrule,
    after: resolved.recurrence?.mode === RecurrenceMode.AFTER_COMPLETION ? true : undefined,
    priority: resolved.priority === undefined ? undefined : PRIORITY_NAMES[resolved.priority],
    tags: taggedWith(resolved),
    reminder: showReminder(resolved.reminder, zone),
    ruleNotUnderstood: resolved.recurrenceError ? true : undefined,
  };
}

function expected(reading: Reading): Record<string, unknown> {
  return {
    title: reading.title,
    due: reading.due,
    zone: reading.zone ?? REFERENCE_ZONE,
    rrule: reading.rrule,
    after: reading.after,
    priority: reading.priority,
    tags: reading.tags ?? [],
    reminder: reading.reminder,
    ruleNotUnderstood: reading.ruleNotUnderstood,
  };
}

describe(`quick-add corpus (${CORPUS.length} lines, now = Wed 2026-11-25 10:00 ${REFERENCE_ZONE})`, () => {
  test("has at least 200 lines, each once, and at most 5% known gaps", () => {
    assert.ok(CORPUS.length >= 200, `${CORPUS.length} lines`);
    assert.equal(new Set(CORPUS.map(([text]) => text)).size, CORPUS.length, "a line is listed twice");
    const gaps = CORPUS.filter(([, r]) => r.gap).length;
    assert.ok(gaps <= CORPUS.length * 0.05, `${gaps} known gaps`);
  });

  for (const [text, reading] of CORPUS) {
    test(`${reading.gap ? "[known gap] " : ""}${text}`, async () => {
      const got = await read(text);
      if (reading.gap) {
        assert.notDeepEqual(got, expected(reading), `known gap now passes: remove its mark (${reading.gap})`);
        return;
      }
      assert.deepEqual(got, expected(reading));
    });
  }
});
