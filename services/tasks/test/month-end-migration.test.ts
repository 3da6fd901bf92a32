// Migration20261204200000_month_end_rules against PostgreSQL: stored repeat rules that relied on the
// old unwritten month-end reading get it written out, and still give the same dates; every other rule
// is left as it was.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { previewOccurrences, type Due } from "../../recurrence/src/engine.js";
import { migrations } from "../src/migrations/index.js";

const NAME = "Migration20261204200000_month_end_rules";
const S = 1;
const AC = 2;

interface Row {
  rrule: string;
  mode?: number;
  start?: { date: string } | { time: string };
  due?: { date: string } | { time: string };
  zone?: string;
  expect: string;
}

const LAST_31 = "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1";
const ROWS: Record<string, Row> = {
  monthlyFrom31: { rrule: "FREQ=MONTHLY", start: { date: "2027-01-31" }, expect: LAST_31 },
  monthlyFrom30Timed: {
    rrule: "FREQ=MONTHLY;INTERVAL=2;BYHOUR=9;BYMINUTE=0",
    start: { time: "2027-01-30T08:00:00Z" },
    zone: "Europe/Berlin",
    expect: "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=28,29,30;BYHOUR=9;BYMINUTE=0;BYSETPOS=-1",
  },
  // 23:30 UTC on the 28th is the 29th in Berlin: the day is the task's zone's.
  monthlyFrom29InZone: { rrule: "FREQ=MONTHLY", start: { time: "2027-01-28T23:30:00Z" }, zone: "Europe/Berlin", expect: "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1" },
  monthlyNoStartUsesDue: { rrule: "FREQ=MONTHLY;COUNT=5", due: { date: "2027-03-31" }, expect: "FREQ=MONTHLY;COUNT=5;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" },
  byMonthDay31: { rrule: "freq=monthly;bymonthday=31;until=20271231", start: { date: "2027-01-15" }, expect: "FREQ=MONTHLY;UNTIL=20271231;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" },
  byMonthDay30AfterCompletion: { rrule: "FREQ=MONTHLY;BYMONTHDAY=30", mode: AC, start: { date: "2027-01-30" }, expect: "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1" },
  yearlyFromFeb29: { rrule: "FREQ=YEARLY", start: { date: "2028-02-29" }, expect: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1" },
  yearlyFeb29: { rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", start: { date: "2027-01-10" }, expect: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1" },
  // Left alone: the old reading did not change their dates, or never applied.
  monthlyFrom28: { rrule: "FREQ=MONTHLY", start: { date: "2027-01-28" }, expect: "FREQ=MONTHLY" },
  monthlyAfterCompletion: { rrule: "FREQ=MONTHLY", mode: AC, start: { date: "2027-01-31" }, expect: "FREQ=MONTHLY" },
  lastDay: { rrule: "FREQ=MONTHLY;BYMONTHDAY=-1", start: { date: "2027-01-31" }, expect: "FREQ=MONTHLY;BYMONTHDAY=-1" },
  twoDays: { rrule: "FREQ=MONTHLY;BYMONTHDAY=15,31", start: { date: "2027-01-15" }, expect: "FREQ=MONTHLY;BYMONTHDAY=15,31" },
  byDay: { rrule: "FREQ=MONTHLY;BYDAY=-1FR", start: { date: "2027-01-29" }, expect: "FREQ=MONTHLY;BYDAY=-1FR" },
  rscale: { rrule: "RSCALE=GREGORIAN;SKIP=OMIT;FREQ=MONTHLY", start: { date: "2027-01-31" }, expect: "RSCALE=GREGORIAN;SKIP=OMIT;FREQ=MONTHLY" },
  explicit: { rrule: LAST_31, start: { date: "2027-01-31" }, expect: LAST_31 },
  weekly: { rrule: "FREQ=WEEKLY", start: { date: "2027-01-31" }, expect: "FREQ=WEEKLY" },
  yearlyJan31: { rrule: "FREQ=YEARLY", start: { date: "2027-01-31" }, expect: "FREQ=YEARLY" },
  severalTimes: { rrule: "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9,17;BYMINUTE=0", start: { time: "2027-01-31T08:00:00Z" }, expect: "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9,17;BYMINUTE=0" },
};

const ids = Object.fromEntries(Object.keys(ROWS).map((k, i) => [k, `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`]));
let url = "";
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await freshDatabase();
  url = db.url;
  drop = db.drop;
  const old = await openDatabase({
    url,
    schema: "tasks",
    entities: [],
    migrations: migrations.slice(
      0,
      migrations.findIndex((m) => m.name === NAME),
    ),
  });
  for (const [key, r] of Object.entries(ROWS)) {
    const due = r.due ?? r.start!;
    await old.query(
      old.em(),
      `INSERT INTO tasks.tasks (id, user_id, title, due_date, due_time, time_zone, recurrence, created_at, updated_at)
       VALUES ($1, 'month-ends', $2, $3, $4, $5, $6::jsonb, now(), now())`,
      [
        ids[key],
        key,
        "date" in due ? due.date : null,
        "time" in due ? due.time : null,
        r.zone ?? "UTC",
        JSON.stringify({ rrule: r.rrule, mode: r.mode ?? S, floating: false, ...(r.start ? { start: r.start } : {}), exdates: [], occurrence: 1 }),
      ],
    );
  }
  await old.close();
});
afterAll(async () => drop?.());

test("rules that relied on the old month-end reading are written out; others stay as they were", async () => {
  const db = await openDatabase({ url, schema: "tasks", entities: [], migrations });
  try {
    const rows = await db.query<{ title: string; rrule: string }>(db.em(), `SELECT title, recurrence->>'rrule' AS rrule FROM tasks.tasks WHERE user_id = 'month-ends'`);
    const got = Object.fromEntries(rows.map((r) => [r.title, r.rrule]));
    assert.deepEqual(got, Object.fromEntries(Object.entries(ROWS).map(([k, r]) => [k, r.expect])));
  } finally {
    await db.close();
  }
});

test("the written-out rules give the dates the old reading gave", () => {
  const show = (d: Due) => ("date" in d ? d.date : d.time.toISOString());
  const dates = (rrule: string, r: Row) => {
    const s = r.start ?? r.due!;
    return previewOccurrences({ rrule }, "date" in s ? { date: s.date } : { time: new Date(s.time) }, r.zone ?? "UTC", 6).map(show);
  };
  assert.deepEqual(dates(ROWS.monthlyFrom31!.expect, ROWS.monthlyFrom31!), ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30"]);
  assert.deepEqual(dates(ROWS.monthlyFrom29InZone!.expect, ROWS.monthlyFrom29InZone!).slice(0, 3), ["2027-01-28T23:30:00.000Z", "2027-02-27T23:30:00.000Z", "2027-03-28T22:30:00.000Z"]);
  assert.deepEqual(dates(ROWS.yearlyFromFeb29!.expect, ROWS.yearlyFromFeb29!).slice(0, 3), ["2028-02-29", "2029-02-28", "2030-02-28"]);
  assert.deepEqual(dates(ROWS.monthlyNoStartUsesDue!.expect, ROWS.monthlyNoStartUsesDue!), ["2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31"]);
});
