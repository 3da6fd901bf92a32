import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { isParseError, parseRecurrenceText, RecurrenceMode, summarize, validateRRule } from "../src/engine.js";

const S = RecurrenceMode.SCHEDULE;
const AC = RecurrenceMode.AFTER_COMPLETION;

// phrase → canonical RRULE, mode, summary
const TABLE: Array<[string, string, RecurrenceMode, string]> = [
  ["daily", "FREQ=DAILY", S, "every day"],
  ["every day", "FREQ=DAILY", S, "every day"],
  ["every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", S, "every weekday"],
  ["weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", S, "every weekday"],
  ["weekly", "FREQ=WEEKLY", S, "every week"],
  ["every week on monday", "FREQ=WEEKLY;BYDAY=MO", S, "every Monday"],
  ["every monday", "FREQ=WEEKLY;BYDAY=MO", S, "every Monday"],
  ["every 2 weeks on monday and friday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", S, "every 2 weeks on Monday and Friday"],
  ["Every two weeks on Mon, Fri", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", S, "every 2 weeks on Monday and Friday"],
  ["every mon, wed and fri", "FREQ=WEEKLY;BYDAY=MO,WE,FR", S, "every Monday, Wednesday and Friday"],
  ["every other week", "FREQ=WEEKLY;INTERVAL=2", S, "every 2 weeks"],
  ["every other monday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", S, "every 2 weeks on Monday"],
  ["biweekly", "FREQ=WEEKLY;INTERVAL=2", S, "every 2 weeks"],
  ["fortnightly", "FREQ=WEEKLY;INTERVAL=2", S, "every 2 weeks"],
  ["every weekend", "FREQ=WEEKLY;BYDAY=SA,SU", S, "every weekend"],
  ["monthly", "FREQ=MONTHLY", S, "monthly"],
  ["every month", "FREQ=MONTHLY", S, "monthly"],
  ["every month on the 1st", "FREQ=MONTHLY;BYMONTHDAY=1", S, "monthly on the 1st"],
  ["every 15th", "FREQ=MONTHLY;BYMONTHDAY=15", S, "monthly on the 15th"],
  ["every 1st and 15th", "FREQ=MONTHLY;BYMONTHDAY=1,15", S, "monthly on the 1st and 15th"],
  ["every last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1", S, "monthly on the last day"],
  // "the 31st" as people mean it is its own rule; RFC 5545's reading (skip the month) on request.
  ["every month on the 31st", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", S, "monthly on the 31st, or the last day when shorter"],
  ["every 30th", "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", S, "monthly on the 30th, or the last day when shorter"],
  ["every 2 months on the 29th at 9am", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=28,29;BYHOUR=9;BYMINUTE=0;BYSETPOS=-1", S, "every 2 months on the 29th, or the last day when shorter at 9am"],
  ["every month on the 31st, skipping months without a 31st", "FREQ=MONTHLY;BYMONTHDAY=31", S, "monthly on the 31st, skipping months without a 31st"],
  ["every 1st and 31st", "FREQ=MONTHLY;BYMONTHDAY=1,31", S, "monthly on the 1st and 31st, skipping the days a month lacks"],
  ["every month on the 31st at 9am and 5pm", "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9,17;BYMINUTE=0", S, "monthly on the 31st, skipping months without a 31st at 9am and 5pm"],
  ["monthly on the last friday", "FREQ=MONTHLY;BYDAY=-1FR", S, "monthly on the last Friday"],
  ["every 2nd tuesday", "FREQ=MONTHLY;BYDAY=2TU", S, "monthly on the 2nd Tuesday"],
  ["every second tuesday of the month", "FREQ=MONTHLY;BYDAY=2TU", S, "monthly on the 2nd Tuesday"],
  ["every month on the 1st and 3rd monday", "FREQ=MONTHLY;BYDAY=1MO,3MO", S, "monthly on the 1st Monday and the 3rd Monday"],
  ["monthly on the last weekday", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", S, "monthly on the last weekday"],
  ["every 3 months on the 2nd to last day", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-2", S, "every 3 months on the 2nd to last day"],
  ["every 3 days", "FREQ=DAILY;INTERVAL=3", S, "every 3 days"],
  ["every 3rd day", "FREQ=DAILY;INTERVAL=3", S, "every 3 days"],
  ["every 3 days after completion", "FREQ=DAILY;INTERVAL=3", AC, "every 3 days after completion"],
  ["every! 2 weeks", "FREQ=WEEKLY;INTERVAL=2", AC, "every 2 weeks after completion"],
  ["every month after it is done", "FREQ=MONTHLY", AC, "monthly after completion"],
  ["yearly", "FREQ=YEARLY", S, "every year"],
  ["every year", "FREQ=YEARLY", S, "every year"],
  ["annually", "FREQ=YEARLY", S, "every year"],
  ["every year on february 29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1", S, "every year on February 29, or February 28 in common years"],
  ["every feb 29th", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1", S, "every year on February 29, or February 28 in common years"],
  ["every feb 29th, in leap years only", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", S, "every year on February 29, in leap years only"],
  ["every 4th thursday of november", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", S, "every year on the 4th Thursday of November"],
  ["every year in march and september", "FREQ=YEARLY;BYMONTH=3,9", S, "every year in March and September"],
  ["every quarter", "FREQ=MONTHLY;INTERVAL=3", S, "every 3 months"],
  ["quarterly", "FREQ=MONTHLY;INTERVAL=3", S, "every 3 months"],
  ["bimonthly", "FREQ=MONTHLY;INTERVAL=2", S, "every 2 months"],
  ["hourly", "FREQ=HOURLY", S, "every hour"],
  ["every 2 hours", "FREQ=HOURLY;INTERVAL=2", S, "every 2 hours"],
  ["every weekday until 2026-12-31", "FREQ=WEEKLY;UNTIL=20261231;BYDAY=MO,TU,WE,TH,FR", S, "every weekday until 2026-12-31"],
  ["every monday for 10 times", "FREQ=WEEKLY;COUNT=10;BYDAY=MO", S, "every Monday, 10 times"],
  ["every monday 10 times", "FREQ=WEEKLY;COUNT=10;BYDAY=MO", S, "every Monday, 10 times"],
  ["every day, once", "FREQ=DAILY;COUNT=1", S, "every day, once"],
  ["every weekday at 9am", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0", S, "every weekday at 9am"],
  ["every day at 9am and 5pm", "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0", S, "every day at 9am and 5pm"],
  ["every day at 17:30", "FREQ=DAILY;BYHOUR=17;BYMINUTE=30", S, "every day at 5:30pm"],
  // a time without "at", as typed in quick add
  ["every other tuesday 7am", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=7;BYMINUTE=0", S, "every 2 weeks on Tuesday at 7am"],
  ["every weekday 9:30", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=30", S, "every weekday at 9:30am"],
  ["every day 9am and 5pm", "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0", S, "every day at 9am and 5pm"],
  // days left out
  ["every weekday except friday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH", S, "every Monday, Tuesday, Wednesday and Thursday"],
  ["every day except sunday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA", S, "every Monday, Tuesday, Wednesday, Thursday, Friday and Saturday"],
  ["every day but not saturday and sunday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", S, "every weekday"],
  // parts of the day give no time by themselves
  ["every night at 10pm", "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", S, "every day at 10pm"],
  ["every sunday morning", "FREQ=WEEKLY;BYDAY=SU", S, "every Sunday"],
  ["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO", S, "every Monday"],
  ["RRULE:freq=monthly;byday=-1fr;interval=1", "FREQ=MONTHLY;BYDAY=-1FR", S, "monthly on the last Friday"],
  ["FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", S, "every year (BYWEEKNO=20;BYDAY=MO)"],
];

describe("phrase → RRULE → summary", () => {
  for (const [phrase, rrule, mode, summary] of TABLE) {
    test(phrase, () => {
      const got = parseRecurrenceText(phrase);
      assert.ok(!isParseError(got), isParseError(got) ? got.error : "");
      assert.equal(got.rrule, rrule);
      assert.equal(got.mode, mode);
      assert.equal(validateRRule(got.rrule), rrule);
      assert.equal(summarize(got.rrule, got.mode), summary);
      // round trip: the summary parses back to the same rule (except rules shown in RRULE form)
      if (!summary.includes("(")) {
        const back = parseRecurrenceText(summary);
        assert.ok(!isParseError(back), isParseError(back) ? back.error : "");
        assert.deepEqual(back, got);
      }
    });
  }
});

describe("phrases that are not understood", () => {
  const BAD: Array<[string, RegExp]> = [
    ["", /empty/],
    ["every", /every" what/],
    ["every banana", /"banana"/],
    ["sometimes", /expected "every/],
    ["every 2 weeks on", /expected weekdays/],
    ["every month on the 32nd", /no day 32/],
    ["every year on february 30", /no day 30/],
    ["every monday, or the last day when shorter", /goes with a day of the month/],
    ["every month on the 15th, skipping months without a 15th", /did not understand|goes with a day some months lack/],
    ["every 6th friday", /at most 5/],
    ["every day until next week", /end date "next" is not understood/],
    ["every weekday until 2026-02-30", /not a calendar date/],
    ["every day at 9:30am and 5pm", /same minutes/],
    ["every day at 25:00", /not a time|did not understand/],
    ["every monday for 0 times", /COUNT/],
    ["every day please", /"please"/],
    ["every day except", /expected weekdays after "except"/],
    ["every 2nd tuesday except monday", /"except" works with days of the week/],
    ["every weekend except saturday and sunday", /no day is left/],
    ["every 3 days 7", /did not understand "7"/],
    ["FREQ=DAILY;COUNT=0", /COUNT must be/],
    ["FREQ=DAILY;BYDAY=1MO", /only works with FREQ=MONTHLY/],
    ["FREQ=SECONDLY", /every second/],
    ["DTSTART:20260101T000000Z;FREQ=DAILY", /DTSTART/],
  ];
  for (const [phrase, message] of BAD) {
    test(JSON.stringify(phrase), () => {
      const got = parseRecurrenceText(phrase);
      assert.ok(isParseError(got), `expected an error, got ${JSON.stringify(got)}`);
      assert.match(got.error, message);
      assert.ok(got.example.length > 0);
      // the example given always works
      assert.ok(!isParseError(parseRecurrenceText(got.example)), got.example);
    });
  }
});

test("names of Object's prototype are words it does not know, not entries of its tables", () => {
  for (const text of ["constructor", "every constructor", "every 2 __proto__", "every toString", "every month on the valueOf"]) {
    const parsed = parseRecurrenceText(text);
    assert.ok(isParseError(parsed), `${text}: ${JSON.stringify(parsed)}`);
    assert.match(parsed.error, /could not understand/, text);
  }
});
