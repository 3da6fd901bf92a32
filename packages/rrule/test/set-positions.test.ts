import { test } from "vitest";
import assert from "node:assert/strict";
import { parseRRule, setPositionsBeyondPeriod } from "../src/index.js";

const reason = (rule: string) => setPositionsBeyondPeriod(parseRRule(rule));

test("a position no period of the rule reaches selects nothing, and says why", () => {
  for (const [rule, why] of [
    ["FREQ=WEEKLY;BYDAY=TU;BYSETPOS=2", "each week of this rule has at most 1 date"],
    ["FREQ=WEEKLY;BYDAY=TU;BYSETPOS=-2", "each week of this rule has at most 1 date"],
    ["FREQ=WEEKLY;BYDAY=MO,TH;BYSETPOS=3,-3", "each week of this rule has at most 2 dates"],
    ["FREQ=DAILY;BYHOUR=9;BYSETPOS=2", "each day of this rule has at most 1 date"],
    ["FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=3", "each month of this rule has at most 2 dates"],
    ["FREQ=MONTHLY;BYDAY=1MO,-1FR;BYSETPOS=-3", "each month of this rule has at most 2 dates"],
    ["FREQ=HOURLY;BYMINUTE=0,30;BYSETPOS=3", "each hour of this rule has at most 2 dates"],
  ] as const) {
    assert.match(reason(rule) ?? "", new RegExp(`^BYSETPOS=.* selects nothing: ${why} to choose from$`), rule);
  }
});

test("a position some period can reach is left to the rule", () => {
  for (const rule of [
    "FREQ=WEEKLY;BYDAY=TU,TH;BYSETPOS=2",
    "FREQ=WEEKLY;BYDAY=TU;BYSETPOS=1,2",
    "FREQ=WEEKLY;BYDAY=TU;BYHOUR=9,17;BYSETPOS=-2",
    // A fifth Monday: some months have one.
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
    "FREQ=DAILY;BYHOUR=9,17;BYSETPOS=2",
    // Yearly periods are as large as BYYEARDAY and BYWEEKNO make them: not worked out.
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=1;BYSETPOS=200",
    "FREQ=WEEKLY;BYDAY=TU",
  ]) {
    assert.equal(reason(rule), undefined, rule);
  }
});
