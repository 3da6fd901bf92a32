import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { startRecurrenceModule } from "../src/index.js";
import { fieldPathText } from "@taskmesh/testing/connect";

const mod = await startRecurrenceModule();
const client = createClient(RecurrenceService, createRouterTransport(mod.routes, { router: { interceptors: [createValidateInterceptor()] } }));

async function expectInvalid(promise: Promise<unknown>): Promise<{ fields: string[]; messages: string[] }> {
  const err = await promise.then(
    () => assert.fail("expected INVALID_ARGUMENT, got success"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(err.code, Code.InvalidArgument, `expected INVALID_ARGUMENT, got ${Code[err.code]}: ${err.message}`);
  const [v] = err.findDetails(ViolationsSchema);
  const list = v?.violations ?? [];
  return { fields: list.map((x) => fieldPathText(x.field)), messages: list.map((x) => x.message) };
}

describe("ParseRecurrence", () => {
  test("English phrase → RRULE, mode and summary", async () => {
    const res = await client.parseRecurrence({ text: "every 2nd tuesday" });
    assert.equal(res.recurrence?.rrule, "FREQ=MONTHLY;BYDAY=2TU");
    assert.equal(res.recurrence?.mode, RecurrenceMode.SCHEDULE);
    assert.equal(res.summary, "monthly on the 2nd Tuesday");
    const ac = await client.parseRecurrence({ text: "every 3 days after completion" });
    assert.equal(ac.recurrence?.mode, RecurrenceMode.AFTER_COMPLETION);
    assert.equal(ac.summary, "every 3 days after completion");
  });
  test("raw RRULE is normalized and summarized", async () => {
    const res = await client.parseRecurrence({ text: "rrule:freq=weekly;byday=fr,mo;interval=2" });
    assert.equal(res.recurrence?.rrule, "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR,MO");
    assert.equal(res.summary, "every 2 weeks on Monday and Friday");
  });
  test("not understood → INVALID_ARGUMENT on text with an example", async () => {
    const { fields, messages } = await expectInvalid(client.parseRecurrence({ text: "every blue moon" }));
    assert.deepEqual(fields, ["text"]);
    assert.match(messages[0]!, /"blue moon"/);
    assert.match(messages[0]!, /Try e\.g\. "/);
    const bad = await expectInvalid(client.parseRecurrence({ text: "FREQ=DAILY;BYMONTHDAY=40" }));
    assert.deepEqual(bad.fields, ["text"]);
  });
  test("empty text is rejected by the proto rules", async () => {
    const { fields } = await expectInvalid(client.parseRecurrence({ text: "" }));
    assert.deepEqual(fields, ["text"]);
  });
});

describe("PreviewOccurrences", () => {
  /** The occurrences of a series with an all-day start, all of them dates, and how it reads. */
  async function previewDates(rrule: string, mode: RecurrenceMode, startDate: string, timeZone: string, count: number) {
    const res = await client.previewOccurrences({ recurrence: { rrule, mode }, start: { case: "startDate", value: startDate }, timeZone, count });
    assert.ok(res.occurrences.every((o) => o.when.case === "date"));
    return { dates: res.occurrences.map((o) => o.when.value), summary: res.summary };
  }

  test("all-day start: dates, month ends as RFC 5545 reads them, summary", async () => {
    const monthly = await previewDates("FREQ=MONTHLY", RecurrenceMode.SCHEDULE, "2026-01-31", "Europe/Berlin", 4);
    assert.deepEqual(monthly.dates, ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]);
    assert.equal(monthly.summary, "monthly");
    const lastDay = await previewDates("FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", RecurrenceMode.SCHEDULE, "2026-01-31", "Europe/Berlin", 4);
    assert.deepEqual(lastDay.dates, ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]);
    assert.equal(lastDay.summary, "monthly on the 31st, or the last day when shorter");
  });
  test("timed start across DST; count 0 means 10", async () => {
    const res = await client.previewOccurrences({
      recurrence: { rrule: "FREQ=DAILY" },
      start: { case: "startTime", value: timestampFromDate(new Date("2026-03-27T08:00:00Z")) },
      timeZone: "Europe/Berlin",
    });
    assert.equal(res.occurrences.length, 10);
    const times = res.occurrences.map((o) => (o.when.case === "time" ? timestampDate(o.when.value).toISOString() : ""));
    assert.deepEqual(times.slice(0, 4), ["2026-03-27T08:00:00.000Z", "2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z", "2026-03-30T07:00:00.000Z"]);
    assert.equal(res.summary, "every day");
  });
  test("series that ends returns fewer occurrences", async () => {
    const weekly = await previewDates("FREQ=WEEKLY;COUNT=3;BYDAY=MO", RecurrenceMode.AFTER_COMPLETION, "2026-03-02", "UTC", 10);
    assert.deepEqual(weekly.dates, ["2026-03-02", "2026-03-09", "2026-03-16"]);
    assert.equal(weekly.summary, "every Monday, 3 times after completion");
  });

  const base = {
    recurrence: { rrule: "FREQ=DAILY" },
    start: { case: "startDate" as const, value: "2026-03-02" },
    timeZone: "UTC",
  };
  const BAD: Array<[string, Record<string, unknown>, string]> = [
    ["unknown time zone", { timeZone: "Mars/Olympus" }, "time_zone"],
    ["empty time zone", { timeZone: "" }, "time_zone"],
    ["bad rrule", { recurrence: { rrule: "FREQ=SOMETIMES" } }, "recurrence.rrule"],
    ["rrule with a time on an all-day start", { recurrence: { rrule: "FREQ=DAILY;BYHOUR=9" } }, "recurrence.rrule"],
    ["missing recurrence", { recurrence: undefined }, "recurrence"],
    ["start date that is not a calendar date", { start: { case: "startDate", value: "2026-02-30" } }, "start_date"],
    ["start date in the wrong format", { start: { case: "startDate", value: "02/03/2026" } }, "start_date"],
    ["missing start", { start: { case: undefined } }, "start"],
    ["count over 100", { count: 101 }, "count"],
  ];
  for (const [name, patch, field] of BAD) {
    test(`${name} → INVALID_ARGUMENT on ${field}`, async () => {
      const { fields } = await expectInvalid(client.previewOccurrences({ ...base, ...patch } as never));
      assert.deepEqual(fields, [field]);
    });
  }
});
