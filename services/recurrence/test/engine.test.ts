import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { parseRRule, setPositionsBeyondPeriod } from "@taskmesh/rrule";
import { nextOccurrence, previewOccurrences, RecurrenceError, RecurrenceMode, type Due, type NextOccurrenceInput } from "../src/engine.js";

const T = (iso: string): Due => ({ time: new Date(iso) });
const D = (date: string): Due => ({ date });
const show = (d: Due | undefined) => (d === undefined ? undefined : "date" in d ? d.date : d.time.toISOString().replace(".000Z", "Z"));
const local = (d: Due, zone: string) => ("date" in d ? d.date : d.time.toLocaleString("sv-SE", { timeZone: zone, hour12: false }).replace(" ", "T"));

function preview(rrule: string, start: Due, zone: string, count: number, exdates?: string[], mode = RecurrenceMode.SCHEDULE) {
  return previewOccurrences({ rrule, mode }, start, zone, count, { exdates }).map(show);
}

function next(input: Partial<NextOccurrenceInput> & Pick<NextOccurrenceInput, "rrule" | "start" | "timeZone">) {
  return show(nextOccurrence({ completedAt: new Date("2000-01-01T00:00:00Z"), ...input }));
}

describe("DST: wall-clock time is kept", () => {
  const cases: Array<{ name: string; zone: string; start: string; expect: string[] }> = [
    {
      name: "Berlin daily 09:00 across the last Sunday of March (CET→CEST)",
      zone: "Europe/Berlin",
      start: "2026-03-27T08:00:00Z",
      expect: ["2026-03-27T08:00:00Z", "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"],
    },
    {
      name: "Berlin daily 09:00 across the last Sunday of October (CEST→CET)",
      zone: "Europe/Berlin",
      start: "2026-10-24T07:00:00Z",
      expect: ["2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"],
    },
    {
      name: "New York daily 09:00 across spring forward (2026-03-08)",
      zone: "America/New_York",
      start: "2026-03-07T14:00:00Z",
      expect: ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"],
    },
    {
      name: "New York daily 09:00 across fall back (2026-11-01)",
      zone: "America/New_York",
      start: "2026-10-31T13:00:00Z",
      expect: ["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"],
    },
    {
      name: "New York 02:30 on the spring-forward day (gap) moves to 03:30 EDT, then back to 02:30",
      zone: "America/New_York",
      start: "2026-03-07T07:30:00Z",
      expect: ["2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"],
    },
    {
      name: "New York 01:30 on the fall-back day (fold) takes the earlier instant (EDT)",
      zone: "America/New_York",
      start: "2026-10-31T05:30:00Z",
      expect: ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
    },
    {
      name: "Lord Howe (30-minute DST shift) daily 09:00",
      zone: "Australia/Lord_Howe",
      start: "2026-04-03T22:00:00Z",
      expect: ["2026-04-03T22:00:00Z", "2026-04-04T22:30:00Z", "2026-04-05T22:30:00Z"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(preview("FREQ=DAILY", T(c.start), c.zone, c.expect.length), c.expect);
      // and nextOccurrence agrees step by step
      for (let i = 0; i + 1 < c.expect.length; i++) {
        assert.equal(next({ rrule: "FREQ=DAILY", start: T(c.start), timeZone: c.zone, previous: T(c.expect[i]!) }), c.expect[i + 1]);
      }
    });
  }

  test("local time reads 09:00 on every day of a year in Berlin and New York", () => {
    for (const [zone, start] of [
      ["Europe/Berlin", "2026-01-01T08:00:00Z"],
      ["America/New_York", "2026-01-01T14:00:00Z"],
    ] as const) {
      const all = previewOccurrences({ rrule: "FREQ=DAILY" }, T(start), zone, 366);
      assert.equal(all.length, 366);
      for (const o of all) assert.match(local(o, zone), /T09:00:00$/, zone);
    }
  });

  test("weekly rule with BYHOUR in the gap keeps strictly increasing instants", () => {
    const got = preview("FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30", T("2026-03-07T07:30:00Z"), "America/New_York", 5);
    // Mar 7 02:30, 03:30 (EST) · Mar 8: 02:30 → 03:30 EDT, 03:30 EDT is the same instant (dropped) · Mar 9 02:30 EDT
    assert.deepEqual(got, ["2026-03-07T07:30:00Z", "2026-03-07T08:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-09T07:30:00Z"]);
  });
});

describe("month ends: RFC 5545, and the last-day reading written as its own rule", () => {
  const LAST_OR_31 = "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1";
  const cases: Array<{ name: string; rrule: string; start: Due; zone?: string; expect: string[] }> = [
    { name: "monthly from Jan 31 skips months without a 31st", rrule: "FREQ=MONTHLY", start: D("2026-01-31"), expect: ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"] },
    { name: "monthly from Jan 30 skips February", rrule: "FREQ=MONTHLY", start: D("2026-01-30"), expect: ["2026-01-30", "2026-03-30", "2026-04-30"] },
    { name: "monthly from Jan 29 has Feb 29 in a leap year only", rrule: "FREQ=MONTHLY", start: D("2028-01-29"), expect: ["2028-01-29", "2028-02-29", "2028-03-29"] },
    { name: "quarterly from Nov 30 skips Feb", rrule: "FREQ=MONTHLY;INTERVAL=3", start: D("2025-11-30"), expect: ["2025-11-30", "2026-05-30", "2026-08-30", "2026-11-30"] },
    { name: "BYMONTHDAY=31", rrule: "FREQ=MONTHLY;BYMONTHDAY=31", start: D("2026-01-15"), expect: ["2026-01-15", "2026-01-31", "2026-03-31", "2026-05-31"] },
    { name: "the 31st or the last day (2026)", rrule: LAST_OR_31, start: D("2026-01-31"), expect: ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"] },
    { name: "the 31st or the last day (leap year 2028)", rrule: LAST_OR_31, start: D("2028-01-31"), expect: ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"] },
    { name: "the 30th or the last day", rrule: "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", start: D("2026-01-30"), expect: ["2026-01-30", "2026-02-28", "2026-03-30", "2026-04-30"] },
    {
      name: "every 3 months, the 30th or the last day",
      rrule: "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=28,29,30;BYSETPOS=-1",
      start: D("2025-11-30"),
      expect: ["2025-11-30", "2026-02-28", "2026-05-30", "2026-08-30"],
    },
    { name: "last day of the month (BYMONTHDAY=-1)", rrule: "FREQ=MONTHLY;BYMONTHDAY=-1", start: D("2026-01-31"), expect: ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"] },
    { name: "RSCALE=GREGORIAN;SKIP=OMIT is the same as without", rrule: "RSCALE=GREGORIAN;SKIP=OMIT;FREQ=MONTHLY", start: D("2026-01-31"), expect: ["2026-01-31", "2026-03-31", "2026-05-31"] },
    {
      name: "timed, the 31st or the last day at 09:00 Berlin keeps 09:00 local",
      rrule: LAST_OR_31,
      start: T("2026-01-31T08:00:00Z"),
      zone: "Europe/Berlin",
      expect: ["2026-01-31T08:00:00Z", "2026-02-28T08:00:00Z", "2026-03-31T07:00:00Z", "2026-04-30T07:00:00Z"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(preview(c.rrule, c.start, c.zone ?? "Europe/Berlin", c.expect.length), c.expect);
    });
  }
  test("nextOccurrence after Feb 28 goes to Mar 31, not Mar 28 or Mar 3", () => {
    assert.equal(next({ rrule: LAST_OR_31, start: D("2026-01-31"), timeZone: "Europe/Berlin", previous: D("2026-02-28") }), "2026-03-31");
    assert.equal(next({ rrule: LAST_OR_31, start: D("2026-01-31"), timeZone: "Europe/Berlin", previous: D("2026-01-31") }), "2026-02-28");
    assert.equal(next({ rrule: "FREQ=MONTHLY", start: D("2026-01-31"), timeZone: "Europe/Berlin", previous: D("2026-01-31") }), "2026-03-31");
  });
});

describe("leap days: Feb 29 only in leap years, Feb 28 in others when the rule says so", () => {
  test("yearly from 2028-02-29 recurs in leap years", () => {
    assert.deepEqual(preview("FREQ=YEARLY", D("2028-02-29"), "UTC", 3), ["2028-02-29", "2032-02-29", "2036-02-29"]);
    assert.equal(next({ rrule: "FREQ=YEARLY", start: D("2028-02-29"), timeZone: "UTC", previous: D("2028-02-29") }), "2032-02-29");
  });
  test("BYMONTH=2;BYMONTHDAY=29 from 2026", () => {
    assert.deepEqual(preview("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", D("2026-01-10"), "UTC", 3), ["2026-01-10", "2028-02-29", "2032-02-29"]);
  });
  test("Feb 29 or the last day of February (BYMONTHDAY=28,29;BYSETPOS=-1)", () => {
    const rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1";
    assert.deepEqual(preview(rrule, D("2028-02-29"), "UTC", 6), ["2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29", "2033-02-28"]);
    assert.equal(next({ rrule, start: D("2028-02-29"), timeZone: "UTC", previous: D("2031-02-28") }), "2032-02-29");
  });
});

describe("zones far from UTC: weekdays and dates are local", () => {
  test("Pacific/Kiritimati (UTC+14): Friday 08:00 local is Thursday in UTC", () => {
    // 2026-05-01 is a Friday; 08:00 +14 = 2026-04-30T18:00Z (Thursday)
    assert.deepEqual(preview("FREQ=WEEKLY;BYDAY=FR", T("2026-04-30T18:00:00Z"), "Pacific/Kiritimati", 3), ["2026-04-30T18:00:00Z", "2026-05-07T18:00:00Z", "2026-05-14T18:00:00Z"]);
    assert.deepEqual(preview("FREQ=MONTHLY;BYMONTHDAY=1", T("2026-04-30T18:00:00Z"), "Pacific/Kiritimati", 2), ["2026-04-30T18:00:00Z", "2026-05-31T18:00:00Z"]);
  });
  test("Pacific/Pago_Pago (UTC-11): Friday 20:00 local is Saturday in UTC", () => {
    assert.deepEqual(preview("FREQ=WEEKLY;BYDAY=FR", T("2026-05-02T07:00:00Z"), "Pacific/Pago_Pago", 3), ["2026-05-02T07:00:00Z", "2026-05-09T07:00:00Z", "2026-05-16T07:00:00Z"]);
    assert.deepEqual(preview("FREQ=MONTHLY;BYDAY=-1FR", T("2026-05-30T07:00:00Z"), "Pacific/Pago_Pago", 2), ["2026-05-30T07:00:00Z", "2026-06-27T07:00:00Z"]);
  });
  test("Asia/Kathmandu (+05:45): monthly on the 1st at 00:30 local is the previous day in UTC", () => {
    assert.deepEqual(preview("FREQ=MONTHLY", T("2026-04-30T18:45:00Z"), "Asia/Kathmandu", 3), ["2026-04-30T18:45:00Z", "2026-05-31T18:45:00Z", "2026-06-30T18:45:00Z"]);
  });
  test("AFTER_COMPLETION uses the local completion date (Kiritimati)", () => {
    // completed 2026-05-03T11:00Z = 2026-05-04 01:00 local → +1 day → 2026-05-05 08:00 local = 2026-05-04T18:00Z
    assert.equal(
      next({ rrule: "FREQ=DAILY", mode: RecurrenceMode.AFTER_COMPLETION, start: T("2026-04-30T18:00:00Z"), timeZone: "Pacific/Kiritimati", completedAt: new Date("2026-05-03T11:00:00Z") }),
      "2026-05-04T18:00:00Z",
    );
  });
});

describe("all-day tasks, COUNT, UNTIL, EXDATE", () => {
  test("all-day weekly series yields dates", () => {
    assert.deepEqual(preview("FREQ=WEEKLY;BYDAY=MO,TH", D("2026-03-02"), "America/New_York", 4), ["2026-03-02", "2026-03-05", "2026-03-09", "2026-03-12"]);
  });
  test("an all-day series cannot repeat at a time of day", () => {
    assert.throws(
      () => preview("FREQ=DAILY;BYHOUR=9", D("2026-03-02"), "UTC", 2),
      (e: unknown) => e instanceof RecurrenceError && e.field === "rrule",
    );
    assert.throws(() => preview("FREQ=HOURLY", D("2026-03-02"), "UTC", 2), RecurrenceError);
  });
  test("COUNT counts the start and ends the series", () => {
    assert.deepEqual(preview("FREQ=DAILY;COUNT=3", D("2026-03-01"), "UTC", 10), ["2026-03-01", "2026-03-02", "2026-03-03"]);
    assert.equal(next({ rrule: "FREQ=DAILY;COUNT=3", start: D("2026-03-01"), timeZone: "UTC", previous: D("2026-03-02") }), "2026-03-03");
    assert.equal(next({ rrule: "FREQ=DAILY;COUNT=3", start: D("2026-03-01"), timeZone: "UTC", previous: D("2026-03-03") }), undefined);
  });
  test("UNTIL as a date is inclusive in local time", () => {
    assert.deepEqual(preview("FREQ=DAILY;UNTIL=20260303", T("2026-03-01T22:00:00Z"), "Asia/Tokyo", 10), ["2026-03-01T22:00:00Z", "2026-03-02T22:00:00Z"]);
    assert.deepEqual(preview("FREQ=DAILY;UNTIL=20260303", D("2026-03-01"), "UTC", 10), ["2026-03-01", "2026-03-02", "2026-03-03"]);
    assert.equal(next({ rrule: "FREQ=DAILY;UNTIL=20260303", start: D("2026-03-01"), timeZone: "UTC", previous: D("2026-03-03") }), undefined);
  });
  test("UNTIL as a UTC instant is compared as an instant", () => {
    assert.deepEqual(preview("FREQ=DAILY;UNTIL=20260302T080000Z", T("2026-03-01T08:00:00Z"), "Europe/Berlin", 10), ["2026-03-01T08:00:00Z", "2026-03-02T08:00:00Z"]);
    assert.deepEqual(preview("FREQ=DAILY;UNTIL=20260302T075959Z", T("2026-03-01T08:00:00Z"), "Europe/Berlin", 10), ["2026-03-01T08:00:00Z"]);
  });
  test("EXDATE skips a local date, an instant or a local time; COUNT still counts them", () => {
    assert.deepEqual(preview("FREQ=DAILY", D("2026-03-01"), "UTC", 3, ["2026-03-02"]), ["2026-03-01", "2026-03-03", "2026-03-04"]);
    assert.deepEqual(preview("FREQ=DAILY", T("2026-03-01T08:00:00Z"), "Europe/Berlin", 3, ["20260302T080000Z", "2026-03-03T09:00"]), [
      "2026-03-01T08:00:00Z",
      "2026-03-04T08:00:00Z",
      "2026-03-05T08:00:00Z",
    ]);
    assert.deepEqual(preview("FREQ=DAILY;COUNT=3", D("2026-03-01"), "UTC", 10, ["2026-03-02"]), ["2026-03-01", "2026-03-03"]);
    assert.equal(next({ rrule: "FREQ=DAILY", start: D("2026-03-01"), timeZone: "UTC", previous: D("2026-03-01"), exdates: ["2026-03-02", "2026-03-03"] }), "2026-03-04");
    assert.throws(
      () => preview("FREQ=DAILY", D("2026-03-01"), "UTC", 3, ["next tuesday"]),
      (e: unknown) => e instanceof RecurrenceError && e.field === "exdates",
    );
  });
});

describe("nextOccurrence: SCHEDULE", () => {
  test("follows the rule anchored at the start, strictly after previous", () => {
    const base = { rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", start: D("2026-03-02"), timeZone: "Europe/Berlin" };
    assert.equal(next({ ...base, previous: D("2026-03-02") }), "2026-03-06");
    assert.equal(next({ ...base, previous: D("2026-03-06") }), "2026-03-16");
    // a previous due moved off the schedule: the next scheduled one after it
    assert.equal(next({ ...base, previous: D("2026-03-10") }), "2026-03-16");
  });
  test("previous defaults to the start; a start off the rule is still the first occurrence", () => {
    assert.equal(next({ rrule: "FREQ=WEEKLY;BYDAY=MO", start: D("2026-03-04"), timeZone: "UTC" }), "2026-03-09");
    assert.deepEqual(preview("FREQ=WEEKLY;BYDAY=MO", D("2026-03-04"), "UTC", 2), ["2026-03-04", "2026-03-09"]);
  });
  test("a start decades ago is evaluated quickly", () => {
    const t0 = performance.now();
    assert.equal(next({ rrule: "FREQ=DAILY", start: T("1990-01-01T08:00:00Z"), timeZone: "Europe/Berlin", previous: T("2026-06-01T07:00:00Z") }), "2026-06-02T07:00:00Z");
    assert.equal(next({ rrule: "FREQ=MONTHLY", start: D("1990-01-31"), timeZone: "Europe/Berlin", previous: D("2026-02-28") }), "2026-03-31");
    assert.ok(performance.now() - t0 < 2000);
  });
  test("floating: same wall-clock time in the zone the user is in now", () => {
    // due was 09:00 in Berlin (08:00Z); the user is now in New York → next at 09:00 New York
    assert.equal(
      next({ rrule: "FREQ=DAILY", floating: true, start: T("2026-03-02T08:00:00Z"), startTimeZone: "Europe/Berlin", previous: T("2026-03-02T08:00:00Z"), timeZone: "America/New_York" }),
      "2026-03-03T14:00:00Z",
    );
    // pinned: stays at 09:00 Berlin even when asked from New York's point of view
    assert.equal(next({ rrule: "FREQ=DAILY", start: T("2026-03-02T08:00:00Z"), previous: T("2026-03-02T08:00:00Z"), timeZone: "Europe/Berlin" }), "2026-03-03T08:00:00Z");
  });
});

describe("nextOccurrence: AFTER_COMPLETION", () => {
  const ac = RecurrenceMode.AFTER_COMPLETION;
  test("every 3 days after completion: completed 18:00 on the 10th → due the 13th at the original time", () => {
    assert.equal(
      next({
        rrule: "FREQ=DAILY;INTERVAL=3",
        mode: ac,
        start: T("2026-03-08T08:00:00Z"),
        previous: T("2026-03-08T08:00:00Z"),
        timeZone: "Europe/Berlin",
        completedAt: new Date("2026-03-10T17:00:00Z"),
      }),
      "2026-03-13T08:00:00Z",
    );
    // completed at 00:30 local on the 11th (still the 10th in UTC) → the 14th
    assert.equal(
      next({ rrule: "FREQ=DAILY;INTERVAL=3", mode: ac, start: T("2026-03-08T08:00:00Z"), timeZone: "Europe/Berlin", completedAt: new Date("2026-03-10T23:30:00Z") }),
      "2026-03-14T08:00:00Z",
    );
  });
  test("keeps local time across DST and works for all-day tasks", () => {
    assert.equal(next({ rrule: "FREQ=WEEKLY", mode: ac, start: T("2026-03-25T08:00:00Z"), timeZone: "Europe/Berlin", completedAt: new Date("2026-03-26T12:00:00Z") }), "2026-04-02T07:00:00Z");
    assert.equal(next({ rrule: "FREQ=MONTHLY", mode: ac, start: D("2026-01-05"), timeZone: "UTC", completedAt: new Date("2026-01-31T10:00:00Z") }), "2026-02-28");
  });
  test("with BYDAY: the first matching day on or after the interval", () => {
    // completed Wed 2026-03-11 → one week later is Wed 03-18 → next Monday 03-23
    assert.equal(next({ rrule: "FREQ=WEEKLY;BYDAY=MO", mode: ac, start: D("2026-03-09"), timeZone: "UTC", completedAt: new Date("2026-03-11T10:00:00Z") }), "2026-03-23");
  });
  test("UNTIL, COUNT (with completedCount) and EXDATE", () => {
    const base = { mode: ac, start: D("2026-03-01"), timeZone: "UTC", completedAt: new Date("2026-03-10T10:00:00Z") };
    assert.equal(next({ ...base, rrule: "FREQ=DAILY;INTERVAL=3;UNTIL=20260312" }), undefined);
    assert.equal(next({ ...base, rrule: "FREQ=DAILY;INTERVAL=3;UNTIL=20260313" }), "2026-03-13");
    assert.equal(next({ ...base, rrule: "FREQ=DAILY;COUNT=2", completedCount: 2 }), undefined);
    assert.equal(next({ ...base, rrule: "FREQ=DAILY;COUNT=2", completedCount: 1 }), "2026-03-11");
    assert.equal(next({ ...base, rrule: "FREQ=DAILY;INTERVAL=3", exdates: ["2026-03-13"] }), "2026-03-16");
  });
  test("preview assumes each occurrence is completed on its due", () => {
    assert.deepEqual(preview("FREQ=DAILY;INTERVAL=3", D("2026-03-01"), "UTC", 3, undefined, ac), ["2026-03-01", "2026-03-04", "2026-03-07"]);
  });
});

describe("bad input", () => {
  const isErr = (field: string) => (e: unknown) => e instanceof RecurrenceError && e.field === field;
  test("unknown time zone", () => {
    assert.throws(() => preview("FREQ=DAILY", D("2026-03-01"), "Mars/Olympus", 2), isErr("time_zone"));
    assert.throws(() => next({ rrule: "FREQ=DAILY", start: D("2026-03-01"), timeZone: "" }), isErr("time_zone"));
  });
  test("invalid rule", () => {
    for (const rrule of ["", "FREQ=SOMETIMES", "FREQ=DAILY;BYDAY=XX", "FREQ=DAILY;COUNT=2;UNTIL=20260101", "FREQ=WEEKLY;BYDAY=2MO", "INTERVAL=2", "FREQ=DAILY;FOO=1"]) {
      assert.throws(() => preview(rrule, D("2026-03-01"), "UTC", 2), isErr("rrule"), rrule);
    }
  });
  test("invalid start date", () => {
    assert.throws(() => preview("FREQ=DAILY", D("2026-02-30"), "UTC", 2), isErr("start"));
  });
});

// The write paths refuse a rule whose BYSETPOS no period reaches without evaluating it
// (@taskmesh/rrule's setPositionsBeyondPeriod); evaluated, such rules must indeed give nothing
// after DTSTART, and the ones it lets through must give dates.
test("what setPositionsBeyondPeriod refuses gives no date after the start, what it lets through does", () => {
  const start = T("2026-12-01T09:00:00Z");
  for (const rrule of ["FREQ=WEEKLY;BYDAY=TU;BYSETPOS=2", "FREQ=DAILY;BYHOUR=9;BYSETPOS=-2", "FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=3"]) {
    assert.ok(setPositionsBeyondPeriod(parseRRule(rrule)), rrule);
    assert.deepEqual(preview(rrule, start, "UTC", 3), ["2026-12-01T09:00:00Z"], rrule);
  }
  for (const rrule of ["FREQ=WEEKLY;BYDAY=TU,TH;BYSETPOS=2", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5", "FREQ=DAILY;BYHOUR=9,17;BYSETPOS=2", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"]) {
    assert.equal(setPositionsBeyondPeriod(parseRRule(rrule)), undefined, rrule);
    assert.equal(preview(rrule, start, "UTC", 3).length, 3, rrule);
  }
});
