import { test } from "vitest";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compileFilterToSql, dayRange, parseFilter, type SqlContext } from "@taskmesh/filter";

const pg = (i: number) => `$${i}`;
const CTX = {
  // Sunday 2025-03-30, 12:00 CEST: clocks went 02:00 → 03:00 that night, so today has 23 hours.
  berlinSpring: { now: new Date("2025-03-30T10:00:00Z"), timeZone: "Europe/Berlin", placeholder: pg },
  // Sunday 2025-10-26, 12:00 CET: clocks went 03:00 → 02:00, so today has 25 hours.
  berlinFall: { now: new Date("2025-10-26T11:00:00Z"), timeZone: "Europe/Berlin", placeholder: pg },
  // UTC+14: already Thursday 2025-01-16 02:00 there while UTC is on Wednesday noon.
  kiritimati: { now: new Date("2025-01-15T12:00:00Z"), timeZone: "Pacific/Kiritimati", placeholder: pg },
  // UTC-3:30: still Tuesday 2025-01-14 23:30 there.
  stJohns: { now: new Date("2025-01-15T03:00:00Z"), timeZone: "America/St_Johns", placeholder: pg },
  utc: { now: new Date("2025-01-15T12:00:00Z"), timeZone: "UTC", placeholder: pg },
} satisfies Record<string, SqlContext>;

const TEXT = "search_text";
/** A term with a symbol: its neighbourhoods looked up in the search column, parameters $i and $i+1. */
const NEAR = (i: number) => `(tasks.symbol_query($${i}) IS NULL OR search @@ tasks.symbol_query($${i + 1}))`;
/**
 * Dues on days, from parameter $i: bounds of the list's due (tasks without one last) that hold the viewer's days and every zone's
 * midnight of their dates (what the index of dues looks up), then a due time's instant on the
 * viewer's days or a due date between the first and the last date.
 */
const ON = (i: number) =>
  `(coalesce(due_at, 'infinity'::timestamptz) >= $${i} AND coalesce(due_at, 'infinity'::timestamptz) < $${i + 1} AND CASE WHEN due_date IS NULL THEN due_at >= $${i + 2} AND due_at < $${i + 3} ELSE due_date >= $${i + 4} AND due_date <= $${i + 5} END)`;
/** Dues before, up to, after or from a day on: a bound, then the instant or the date ($i, $i+1, $i+2). */
const SIDE = (bound: string, instant: string, date: string) => (i: number) =>
  `(coalesce(due_at, 'infinity'::timestamptz) ${bound} $${i} AND CASE WHEN due_date IS NULL THEN due_at ${instant} $${i + 1} ELSE due_date ${date} $${i + 2} END)`;
const BEFORE = SIDE("<", "<", "<");
const UP_TO = SIDE("<", "<", "<=");
const AFTER = SIDE(">=", ">=", ">");
const FROM = SIDE(">=", ">=", ">=");
// [query, context, sql, params (Dates as ISO strings)]
const CASES: [string, keyof typeof CTX, string, unknown[]][] = [
  ["", "utc", "TRUE", []],
  ["status:all", "utc", "TRUE", []],
  ["milk", "utc", `(search @@ (SELECT to_tsquery('tasks.folded', $1)) OR ${TEXT} LIKE (SELECT tasks.search_folded($2)))`, ["milk:*", "%milk%"]],
  ["e-mail", "utc", `(search @@ (SELECT to_tsquery('tasks.folded', $1)) OR ${TEXT} LIKE (SELECT tasks.search_folded($2)))`, ["e:* & mail:*", "%e-mail%"]],
  ['"Buy  fresh milk"', "utc", `(search @@ (SELECT to_tsquery('tasks.folded', $1)) OR ${TEXT} LIKE (SELECT tasks.search_folded($2)))`, ["Buy <-> fresh <-> milk", "%Buy  fresh milk%"]],
  ["100%_done\\", "utc", `(${NEAR(1)} AND ${TEXT} LIKE tasks.search_folded($3))`, ["100%_done\\", "100%_done\\", "%100\\%\\_done\\\\%"]],
  ["C++", "utc", `(${NEAR(1)} AND ${TEXT} LIKE tasks.search_folded($3))`, ["C++", "C++", "%C++%"]],
  ["it's", "utc", `(search @@ (SELECT to_tsquery('tasks.folded', $1)) OR ${TEXT} LIKE (SELECT tasks.search_folded($2)))`, ["it:* & s:*", "%it's%"]],
  [
    '"\'; DROP TABLE tasks; --"',
    "utc",
    `(search @@ (SELECT to_tsquery('tasks.folded', $1)) OR ${TEXT} LIKE (SELECT tasks.search_folded($2)))`,
    ["DROP <-> TABLE <-> tasks", "%'; DROP TABLE tasks; --%"],
  ],
  ['"%%"', "utc", `(${NEAR(1)} AND ${TEXT} LIKE tasks.search_folded($3))`, ["%%", "%%", "%\\%\\%%"]],
  ["tag:Home", "utc", "(tags @> ARRAY[$1]::text[])", ["home"]],
  ["tag:none", "utc", "(tags = '{}'::text[])", []],
  ["@home_*", "utc", "(tasks.tag_text(tags) LIKE $1 AND EXISTS (SELECT 1 FROM unnest(tags) AS g(tag) WHERE g.tag LIKE $2))", ["%\x1fhome\\_%\x1f%", "home\\_%"]],
  ["recurring -subtask", "utc", "((recurrence IS NOT NULL) AND (NOT (parent_id IS NOT NULL)))", []],
  ["priority:high", "utc", "(priority = 4)", []],
  ["priority>=medium", "utc", "(priority >= 3)", []],
  ["priority<low", "utc", "(priority < 2)", []],
  ["priority>none", "utc", "(priority > 1)", []],
  ["status:open", "utc", "(status = 1)", []],
  ["status:completed", "utc", "(status = 2)", []],
  ["due:none", "utc", "(coalesce(due_at, 'infinity'::timestamptz) = 'infinity'::timestamptz)", []],
  ["due:any", "utc", "(due_at IS NOT NULL)", []],
  ["due:all-day", "utc", "(due_at IS NOT NULL AND due_date IS NOT NULL)", []],
  [
    "due:overdue",
    "utc",
    "(coalesce(due_at, 'infinity'::timestamptz) < $1 AND status = 1 AND CASE WHEN due_date IS NULL THEN due_at < $2 ELSE due_date < $3 END)",
    ["2025-01-15T12:00:00.000Z", "2025-01-15T12:00:00.000Z", "2025-01-15"],
  ],
  ["due:today", "utc", ON(1), ["2025-01-14T08:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15", "2025-01-15"]],
  // Whole days on DST-change days: 23 and 25 hours.
  ["due:today", "berlinSpring", ON(1), ["2025-03-29T08:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-29T23:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-30", "2025-03-30"]],
  ["due:today", "berlinFall", ON(1), ["2025-10-25T08:00:00.000Z", "2025-10-26T23:00:00.000Z", "2025-10-25T22:00:00.000Z", "2025-10-26T23:00:00.000Z", "2025-10-26", "2025-10-26"]],
  ["due:tomorrow", "berlinSpring", ON(1), ["2025-03-30T08:00:00.000Z", "2025-03-31T22:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-31T22:00:00.000Z", "2025-03-31", "2025-03-31"]],
  ["due:yesterday", "berlinSpring", ON(1), ["2025-03-28T08:00:00.000Z", "2025-03-29T23:00:00.000Z", "2025-03-28T23:00:00.000Z", "2025-03-29T23:00:00.000Z", "2025-03-29", "2025-03-29"]],
  // Today is a Sunday: this week is Monday 03-24 .. Sunday 03-30.
  ["due:this-week", "berlinSpring", ON(1), ["2025-03-23T08:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-23T23:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-24", "2025-03-30"]],
  ["due:next-week", "berlinSpring", ON(1), ["2025-03-30T08:00:00.000Z", "2025-04-06T22:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-04-06T22:00:00.000Z", "2025-03-31", "2025-04-06"]],
  ["due:last-week", "berlinSpring", ON(1), ["2025-03-16T08:00:00.000Z", "2025-03-23T23:00:00.000Z", "2025-03-16T23:00:00.000Z", "2025-03-23T23:00:00.000Z", "2025-03-17", "2025-03-23"]],
  ["due:next-7-days", "berlinSpring", ON(1), ["2025-03-29T08:00:00.000Z", "2025-04-05T22:00:00.000Z", "2025-03-29T23:00:00.000Z", "2025-04-05T22:00:00.000Z", "2025-03-30", "2025-04-05"]],
  // Weekdays from today on (a Sunday): "sunday" is today, "friday" the coming one.
  ["due:sunday", "berlinSpring", ON(1), ["2025-03-29T08:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-29T23:00:00.000Z", "2025-03-30T22:00:00.000Z", "2025-03-30", "2025-03-30"]],
  ["due<friday", "berlinSpring", BEFORE(1), ["2025-04-03T22:00:00.000Z", "2025-04-03T22:00:00.000Z", "2025-04-04"]],
  ["due:monday", "utc", ON(1), ["2025-01-19T08:00:00.000Z", "2025-01-21T00:00:00.000Z", "2025-01-20T00:00:00.000Z", "2025-01-21T00:00:00.000Z", "2025-01-20", "2025-01-20"]],
  ["due:wednesday", "utc", ON(1), ["2025-01-14T08:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15", "2025-01-15"]],
  // Months are calendar months in the zone; spans of days start today.
  ["due:this-month", "berlinSpring", ON(1), ["2025-02-28T08:00:00.000Z", "2025-03-31T22:00:00.000Z", "2025-02-28T23:00:00.000Z", "2025-03-31T22:00:00.000Z", "2025-03-01", "2025-03-31"]],
  ["due:next-month", "utc", ON(1), ["2025-01-31T08:00:00.000Z", "2025-03-01T00:00:00.000Z", "2025-02-01T00:00:00.000Z", "2025-03-01T00:00:00.000Z", "2025-02-01", "2025-02-28"]],
  ["due:last-month", "utc", ON(1), ["2024-11-30T08:00:00.000Z", "2025-01-01T00:00:00.000Z", "2024-12-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "2024-12-01", "2024-12-31"]],
  ["due:next-3-days", "utc", ON(1), ["2025-01-14T08:00:00.000Z", "2025-01-18T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-18T00:00:00.000Z", "2025-01-15", "2025-01-17"]],
  ["due<7d", "utc", UP_TO(1), ["2025-01-22T00:00:00.000Z", "2025-01-22T00:00:00.000Z", "2025-01-21"]],
  ["due.before:eow", "utc", UP_TO(1), ["2025-01-20T00:00:00.000Z", "2025-01-20T00:00:00.000Z", "2025-01-19"]],
  ["completed:yesterday", "utc", "(completed_at >= $1 AND completed_at < $2)", ["2025-01-14T00:00:00.000Z", "2025-01-15T00:00:00.000Z"]],
  // completed_at is NULL for open tasks: NOT keeps them.
  ["NOT completed:today", "utc", "((completed_at >= $1 AND completed_at < $2) IS NOT TRUE)", ["2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z"]],
  ["due:today", "kiritimati", ON(1), ["2025-01-15T08:00:00.000Z", "2025-01-16T16:00:00.000Z", "2025-01-15T10:00:00.000Z", "2025-01-16T10:00:00.000Z", "2025-01-16", "2025-01-16"]],
  ["due:this-week", "kiritimati", ON(1), ["2025-01-12T08:00:00.000Z", "2025-01-19T16:00:00.000Z", "2025-01-12T10:00:00.000Z", "2025-01-19T10:00:00.000Z", "2025-01-13", "2025-01-19"]],
  // 1994-12-31 never happened on Kiritimati (the date line moved): an empty range.
  ["due:1994-12-31", "kiritimati", ON(1), ["1994-12-30T08:00:00.000Z", "1994-12-31T16:00:00.000Z", "1994-12-31T10:00:00.000Z", "1994-12-31T10:00:00.000Z", "1994-12-31", "1994-12-31"]],
  ["due:today", "stJohns", ON(1), ["2025-01-13T08:00:00.000Z", "2025-01-15T03:30:00.000Z", "2025-01-14T03:30:00.000Z", "2025-01-15T03:30:00.000Z", "2025-01-14", "2025-01-14"]],
  ["due:2025-07-01", "stJohns", ON(1), ["2025-06-30T08:00:00.000Z", "2025-07-02T02:30:00.000Z", "2025-07-01T02:30:00.000Z", "2025-07-02T02:30:00.000Z", "2025-07-01", "2025-07-01"]],
  ["due<today", "stJohns", BEFORE(1), ["2025-01-14T03:30:00.000Z", "2025-01-14T03:30:00.000Z", "2025-01-14"]],
  // Hours from now: an instant; an all-day task by its date against the instant's date where the viewer is.
  ["due<in-4-hours", "utc", BEFORE(1), ["2025-01-15T16:00:00.000Z", "2025-01-15T16:00:00.000Z", "2025-01-15"]],
  ["due<in-4-hours", "kiritimati", BEFORE(1), ["2025-01-15T16:00:00.000Z", "2025-01-15T16:00:00.000Z", "2025-01-16"]],
  ["due>3-hours-ago", "stJohns", FROM(1), ["2025-01-13T08:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-14"]],
  ["created>12-hours-ago", "utc", "(created_at >= $1)", ["2025-01-15T00:00:00.000Z"]],
  ["due<=today", "stJohns", UP_TO(1), ["2025-01-15T03:30:00.000Z", "2025-01-15T03:30:00.000Z", "2025-01-14"]],
  ["due>today", "stJohns", AFTER(1), ["2025-01-14T08:00:00.000Z", "2025-01-15T03:30:00.000Z", "2025-01-14"]],
  ["due>=today", "stJohns", FROM(1), ["2025-01-13T08:00:00.000Z", "2025-01-14T03:30:00.000Z", "2025-01-14"]],
  ["due:before:2025-01-31", "utc", BEFORE(1), ["2025-01-31T00:00:00.000Z", "2025-01-31T00:00:00.000Z", "2025-01-31"]],
  ["due:after:2025-01-31", "utc", AFTER(1), ["2025-01-31T08:00:00.000Z", "2025-02-01T00:00:00.000Z", "2025-01-31"]],
  ["created>=2025-01-01", "berlinSpring", "(created_at >= $1)", ["2024-12-31T23:00:00.000Z"]],
  ["updated:today", "utc", "(updated_at >= $1 AND updated_at < $2)", ["2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z"]],
  // NOT of a comparison on the nullable due_at keeps tasks without a due.
  ["NOT due:today", "utc", `(${ON(1)} IS NOT TRUE)`, ["2025-01-14T08:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15", "2025-01-15"]],
  [
    "-due:overdue",
    "utc",
    "((coalesce(due_at, 'infinity'::timestamptz) < $1 AND status = 1 AND CASE WHEN due_date IS NULL THEN due_at < $2 ELSE due_date < $3 END) IS NOT TRUE)",
    ["2025-01-15T12:00:00.000Z", "2025-01-15T12:00:00.000Z", "2025-01-15"],
  ],
  ["NOT (#a OR due<today)", "utc", `(((tags @> ARRAY[$1]::text[]) OR ${BEFORE(2)}) IS NOT TRUE)`, ["a", "2025-01-15T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-15"]],
  ["NOT due:none", "utc", "(NOT (coalesce(due_at, 'infinity'::timestamptz) = 'infinity'::timestamptz))", []],
  ["-tag:work", "utc", "(NOT (tags @> ARRAY[$1]::text[]))", ["work"]],
  ["-created:today", "utc", "(NOT (created_at >= $1 AND created_at < $2))", ["2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z"]],
  [
    "#home !high | (due:today -#work)",
    "utc",
    `(((tags @> ARRAY[$1]::text[]) AND (priority = 4)) OR (${ON(2)} AND (NOT (tags @> ARRAY[$8]::text[]))))`,
    ["home", "2025-01-14T08:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15T00:00:00.000Z", "2025-01-16T00:00:00.000Z", "2025-01-15", "2025-01-15", "work"],
  ],
];

const iso = (params: unknown[]) => params.map((p) => (p instanceof Date ? p.toISOString() : p));

for (const [query, ctx, sql, params] of CASES) {
  test(`sql for ${JSON.stringify(query)} in ${CTX[ctx].timeZone}`, () => {
    const out = compileFilterToSql(parseFilter(query), CTX[ctx]);
    assert.equal(out.sql, sql);
    assert.deepEqual(iso(out.params), params);
    for (const p of out.params) assert.ok(typeof p === "string" || typeof p === "number" || p instanceof Date);
  });
}

test("assignee:name is any member of the caller's projects that e-mail, or its part before the @, names", () => {
  const members = [
    { userId: "u-bob", email: "Bob@example.com" },
    { userId: "u-bob2", email: "bob@elsewhere.org" },
    { userId: "u-bobby", email: "bobby@example.com" },
  ];
  const named = (query: string) => compileFilterToSql(parseFilter(query), { ...CTX.utc, userId: "u-me", members });
  assert.equal(named("assignee:bob").sql, "(assignee_id = ANY($1::text[]))");
  assert.deepEqual(named("assignee:bob").params, [["u-bob", "u-bob2"]]);
  assert.deepEqual(named("assigned to: bob@example.com").params, [["u-bob"]]);
  assert.deepEqual(named("assignee:carol").params, [[]]);
  // Unassigned tasks are not anyone's: NOT selects them too.
  assert.equal(named("-assignee:bob").sql, "((assignee_id = ANY($1::text[])) IS NOT TRUE)");
  // Who assigned it (Todoist's `assigned by:`), by the same names.
  assert.deepEqual([named("assigned by: bob").sql, named("assigned by: bob").params], ["(assigned_by = ANY($1::text[]))", [["u-bob", "u-bob2"]]]);
  assert.deepEqual([named("assigner:me").sql, named("assigner:me").params], ["(assigned_by = $1)", ["u-me"]]);
});

test("is:shared is a task of any of the caller's projects with more than one member; NOT selects the others and tasks of no project", () => {
  const projects = [
    { id: "p-mine", name: "Mine", memberCount: 1 },
    { id: "p-chores", name: "Chores", memberCount: 2 },
    { id: "p-theirs", name: "Theirs", memberCount: 3 },
  ];
  const shared = (query: string) => compileFilterToSql(parseFilter(query), { ...CTX.utc, projects });
  assert.deepEqual([shared("shared").sql, shared("shared").params], ["(project_id = ANY($1::uuid[]))", [["p-chores", "p-theirs"]]]);
  assert.equal(shared("!shared").sql, "((project_id = ANY($1::uuid[])) IS NOT TRUE)");
  assert.deepEqual(compileFilterToSql(parseFilter("is:shared"), CTX.utc).params, [[]]);
});

test("placeholder style and first index are the caller's", () => {
  const node = parseFilter("#a !high milk");
  const q = compileFilterToSql(node, { ...CTX.utc, placeholder: () => "?" });
  assert.equal(q.sql, `((tags @> ARRAY[?]::text[]) AND (priority = 4) AND (search @@ (SELECT to_tsquery('tasks.folded', ?)) OR ${TEXT} LIKE (SELECT tasks.search_folded(?))))`);
  const shifted = compileFilterToSql(node, { ...CTX.utc, firstIndex: 2 });
  assert.equal(shifted.sql, `((tags @> ARRAY[$2]::text[]) AND (priority = 4) AND (search @@ (SELECT to_tsquery('tasks.folded', $3)) OR ${TEXT} LIKE (SELECT tasks.search_folded($4))))`);
  assert.deepEqual(shifted.params, ["a", "milk:*", "%milk%"]);
});

test("an unknown time zone or invalid now is a RangeError, not a syntax error", () => {
  assert.throws(() => compileFilterToSql(parseFilter("#a"), { ...CTX.utc, timeZone: "Mars/Olympus" }), RangeError);
  assert.throws(() => compileFilterToSql(parseFilter("#a"), { ...CTX.utc, now: new Date(Number.NaN) }), RangeError);
});

test("a month's day without its year is the one nearest today: this December's, next January's, the November just past", () => {
  const now = new Date("2026-12-06T12:00:00Z");
  const day = (d: Parameters<typeof dayRange>[0], at = now) => dayRange(d, at, "Europe/Berlin").start.toISOString();
  assert.equal(day("dec-20"), "2026-12-19T23:00:00.000Z");
  assert.equal(day("jan-3"), "2027-01-02T23:00:00.000Z");
  assert.equal(day("nov-20"), "2026-11-19T23:00:00.000Z");
  assert.equal(day("jun-6"), "2027-06-05T22:00:00.000Z", "half a year either way: the later");
  assert.equal(day("feb-29"), "2028-02-28T23:00:00.000Z", "in a year that has one");
  assert.equal(day("dec-6"), "2026-12-05T23:00:00.000Z", "today");
});

test("days counted from today and next week's weekdays: N days ago, in N days, next friday (the one of next week, as quick add reads it)", () => {
  const thursday = new Date("2026-12-03T12:00:00Z");
  const day = (d: Parameters<typeof dayRange>[0], at = thursday) => dayRange(d, at, "Europe/Berlin").firstDate;
  assert.equal(day("365-days-ago"), "2025-12-03");
  assert.equal(day("in-3-days"), "2026-12-06");
  assert.equal(day("next-friday"), "2026-12-11", "not tomorrow: Friday of next week");
  assert.equal(day("next-monday"), "2026-12-07");
  assert.equal(day("next-sunday"), "2026-12-13");
  assert.equal(day("next-monday", new Date("2026-12-06T12:00:00Z")), "2026-12-07", "on a Sunday: tomorrow, the Monday of next week");
  assert.equal(day("friday"), "2026-12-04", "without next: the coming one");
});

test("a day whose midnight is skipped starts at its first instant (São Paulo, 2018-11-04)", () => {
  const { start, end } = dayRange("2018-11-04", new Date("2018-11-04T12:00:00Z"), "America/Sao_Paulo");
  assert.deepEqual([start.toISOString(), end.toISOString()], ["2018-11-04T03:00:00.000Z", "2018-11-05T02:00:00.000Z"]);
});

test("every calendar day of 2024-2026 in DST zones is 23, 24 or 25 hours and days tile without gaps", () => {
  for (const timeZone of ["Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "America/Sao_Paulo"]) {
    let day = new Date("2024-01-01T12:00:00Z");
    let previousEnd: number | undefined;
    for (let i = 0; i < 3 * 366; i++) {
      const { start, end } = dayRange("today", day, timeZone);
      const hours = (end.getTime() - start.getTime()) / 3_600_000;
      assert.ok([23, 23.5, 24, 24.5, 25].includes(hours), `${timeZone} ${start.toISOString()}: ${hours}h`);
      if (previousEnd !== undefined) assert.equal(start.getTime(), previousEnd);
      assert.ok(start <= day && day < end);
      previousEnd = end.getTime();
      day = end; // the first instant of the next day
    }
  }
});

test("unestimated says whether a word or tag:none is in the tree, however deep", () => {
  const unestimated = (query: string) => compileFilterToSql(parseFilter(query), CTX.utc).unestimated;
  assert.equal(unestimated(""), false);
  assert.equal(unestimated("#home !high due:none"), false);
  assert.equal(unestimated("milk"), true);
  assert.equal(unestimated('"%%"'), true);
  assert.equal(unestimated("#home (due:today OR NOT (!high milk))"), true);
  assert.equal(unestimated("due:today OR NOT (!high no labels)"), true);
});

test("onlyWords says whether every parameter is a searched word's: no tag, date, name or symbol", () => {
  const onlyWords = (query: string) => compileFilterToSql(parseFilter(query), CTX.utc).onlyWords;
  assert.equal(onlyWords("milk"), true);
  assert.equal(onlyWords('"fresh milk" OR bread !high status:open'), true);
  assert.equal(onlyWords("status:open"), false, "no parameter at all");
  for (const query of ["milk #home", "milk due:today", "C++", "milk @hom*", "milk 100%"]) assert.equal(onlyWords(query), false, query);
});

test("the README names the text-search configuration the compiler uses", () => {
  const config = /to_tsquery\('([\w.]+)'/.exec(compileFilterToSql(parseFilter("milk"), CTX.utc).sql)?.[1];
  const readme = readFileSync(path.join(import.meta.dirname, "..", "README.md"), "utf8");
  const named = [...readme.matchAll(/configuration is `'([\w.]+)'`/g)].map((m) => m[1]);
  assert.deepEqual(named, [config]);
});

test("columns lists every column the SQL reads; impliesDue holds when no task without a due can match", () => {
  const known = ["search", "search_text", "tags", "priority", "status", "due_at", "due_date", "created_at", "updated_at", "completed_at"];
  const cases: [string, string[], boolean][] = [
    ["", [], false],
    ["milk", ["search", "search_text"], false],
    ["#home !high due:next-7-days", ["due_at", "due_date", "priority", "tags"], true],
    ["status:all due:any", ["due_at"], true],
    ["due:overdue", ["due_at", "due_date", "status"], true],
    ["due:none", ["due_at"], false],
    ["no time", ["due_at", "due_date"], true],
    ["NOT due:today", ["due_at", "due_date"], false],
    ["due:today OR due<yesterday", ["due_at", "due_date"], true],
    ["due:today OR #home", ["due_at", "due_date", "tags"], false],
    ["(due:today OR due:tomorrow) #home", ["due_at", "due_date", "tags"], true],
    ["created:today updated>=yesterday", ["created_at", "updated_at"], false],
  ];
  for (const [query, columns, impliesDue] of cases) {
    const compiled = compileFilterToSql(parseFilter(query), CTX.utc);
    assert.deepEqual(compiled.columns, columns, query);
    assert.equal(compiled.impliesDue, impliesDue, query);
    for (const column of known) if (new RegExp(`\\b${column}\\b`).test(compiled.sql)) assert.ok(compiled.columns.includes(column), `${query}: ${column}`);
  }
});
