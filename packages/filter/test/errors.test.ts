import { test } from "vitest";
import assert from "node:assert/strict";
import { FilterSyntaxError, LIMITS, parseFilter } from "@taskmesh/filter";

// query → [position, length, fragment of the message]
const CASES: [string, number, number, string][] = [
  ["(tag:a", 0, 1, "unclosed parenthesis: add a ')'"],
  ["#a (#b (#c)", 3, 1, "unclosed parenthesis"],
  ["#a)", 2, 1, "unexpected ')'"],
  ["()", 0, 2, "empty parentheses"],
  ["#a (  ) #b", 3, 4, "empty parentheses"],
  ['"buy milk', 0, 9, 'unclosed quote: add a closing "'],
  ['a "b\\"', 2, 4, "unclosed quote"],
  ['""', 0, 2, "empty quotes"],
  ['"   "', 0, 5, "empty quotes"],
  ["priority:urgent", 9, 6, 'unknown priority "urgent": use high, medium, low or none'],
  ["priority>=", 0, 10, '"priority>=" needs a value'],
  ["status:closed", 7, 6, "use open, completed or all"],
  ["status>open", 6, 1, "status cannot be compared"],
  ["tag>x", 3, 1, "tags cannot be compared"],
  ["due:in-4-hours", 4, 10, "due:in-4-hours is an instant, not a day: compare with it, e.g. due<in-4-hours"],
  ["due before: +8785 hours", 12, 5, '"+8785" counts from now'],
  ["tag:", 0, 4, '"tag:" needs a value, e.g. tag:home'],
  ["tag:a,b", 4, 3, "is not a tag name"],
  ["#", 0, 1, '"#" needs a tag name'],
  ["##", 0, 2, '"##" needs a project name'],
  [", today", 0, 1, "',' needs a term before it, e.g. `today, overdue`"],
  ["today, ,", 5, 1, "',' needs a term after it"],
  ["today ,, | overdue", 6, 2, "',' needs a term after it"],
  ["#a:b", 1, 3, "is not a tag name"],
  ["due:2025-13-45", 4, 10, '("2025-13-45" does not exist): use YYYY-MM-DD'],
  ["due:2025-02-29", 4, 10, "does not exist"],
  ["due:someday", 4, 7, 'due needs a date, not "someday"'],
  ["due:before:", 4, 7, '"due:before:" needs a date after it'],
  ["due:before:2025-1-1", 11, 8, "use YYYY-MM-DD"],
  ["due<overdue", 4, 7, "cannot be combined with a comparison"],
  ["created:none", 8, 4, "every task has a created time"],
  ["updated:overdue", 8, 7, "not available"],
  ["due.foo:x", 0, 8, '"due.foo:" is not a date comparison'],
  ["due.before<x", 0, 11, "is not a date comparison"],
  ["due.before:", 0, 11, '"due.before:" needs a date after it'],
  ["due.none:x", 9, 1, "takes no value"],
  ["created.none:", 0, 13, "only a due can be missing"],
  ["due<999d", 4, 4, "durations run from 1d to 366d"],
  ["due:0d", 4, 2, "durations run from 1d"],
  ["due before:", 0, 11, '"due before:" needs a date after it'],
  ["#a due before: someday", 15, 7, 'due needs a date, not "someday"'],
  ["due before:soon", 11, 4, 'due needs a date, not "soon"'],
  ["due: someday", 5, 7, 'due needs a date, not "someday"'],
  ['tag: "a b"', 6, 3, "is not a tag name"],
  ["created before: -99999 days", 16, 6, '"-99999" counts from now: write +N or -N with days, weeks or hours after it'],
  ["due before: +0 hours", 12, 2, '"+0" counts from now'],
  ["due before: -3", 12, 2, '"-3" counts from now'],
  ["a ###", 2, 3, '"###" is not a project name: write ##home'],
  ["assigned by: ?", 13, 1, '"assigned by:" takes me, others, nobody or a member'],
  ["is:done", 3, 4, "use is:recurring (repeating tasks), is:subtask (tasks with a parent) or is:shared"],
  ["search:", 0, 7, '"search:" needs the words to search for'],
  ["assigned to: !bob", 13, 1, '"assigned to:" takes me, others, nobody or a member'],
  ["assignee:bob@", 9, 4, "or a member's e-mail or its part before the @ (assignee:bob)"],
  ["assignee>bob", 9, 3, "use assignee:me"],
  // Names of Object's prototype are no field, modifier or date word.
  ["due:constructor", 4, 11, 'due needs a date, not "constructor"'],
  ["constructor before: friday", 12, 7, 'unknown field "before:"'],
  ["constructor:x", 0, 12, 'unknown field "constructor:"'],
  ["__proto__: x", 0, 10, 'unknown field "__proto__:"'],
  ["due.constructor:x", 0, 16, '"due.constructor:" is not a date comparison'],
  ["assigned to:", 9, 3, '"assigned to:" takes me, others, nobody or a member'],
  ["completed:none", 10, 4, "use status:open or status:completed"],
  ["foo:bar", 0, 4, 'unknown field "foo:": the fields are tag, priority, status, due, created, updated'],
  ["tga:x", 0, 4, 'did you mean "tag:"?'],
  ["priorty:high", 0, 8, 'did you mean "priority:"?'],
  ["stat:open", 0, 5, 'did you mean "status:"?'],
  ["Note: call", 0, 5, "put it in quotes"],
  ["tag:a AND", 6, 3, "AND needs a term after it"],
  ["tag:a &", 6, 1, "AND needs a term after it"],
  ["AND tag:a", 0, 3, "AND needs a term before it"],
  ["a OR", 2, 2, "OR needs a term after it"],
  ["| a", 0, 1, "OR needs a term before it"],
  ["a OR AND b", 2, 2, "OR needs a term after it"],
  ["(a OR) b", 3, 2, "OR needs a term after it"],
  ["NOT", 0, 3, "NOT needs a term after it"],
  ["a NOT", 2, 3, "NOT needs a term after it"],
  ["a !", 2, 1, "'!' needs a term after it"],
  ["(!)", 1, 1, "'!' needs a term after it"],
  ["-)", 1, 1, "unexpected ')'"], // a lone '-' is a word
  ["due: Feb 30", 5, 6, '"feb-30" does not exist'],
  ["due before: 31 april", 12, 8, '"apr-31" does not exist'],
  ["milk\u0000", 4, 1, "NUL character"],
  ["a".repeat(LIMITS.maxLength + 5), LIMITS.maxLength, 5, `longer than ${LIMITS.maxLength} characters`],
  [`${"(".repeat(33)}a${")".repeat(33)}`, 32, 1, `more than ${LIMITS.maxDepth} levels`],
  [`${"NOT ".repeat(33)}a`, 128, 3, "nests more than 32 levels"],
  [`${"-".repeat(40)}a`, 32, 1, "nests more than 32 levels"],
  [Array.from({ length: 101 }, (_, i) => `t${i}`).join(" "), 390, 4, `more than ${LIMITS.maxTerms} terms`],
];

for (const [query, position, length, fragment] of CASES) {
  test(`error for ${JSON.stringify(query.length > 40 ? `${query.slice(0, 40)}…` : query)}`, () => {
    assert.throws(
      () => parseFilter(query),
      (e: unknown) => {
        assert.ok(e instanceof FilterSyntaxError, `a FilterSyntaxError, got ${String(e)}`);
        assert.ok(e.message.includes(fragment), `message ${JSON.stringify(e.message)} includes ${JSON.stringify(fragment)}`);
        assert.deepEqual([e.position, e.length], [position, length], e.message);
        assert.equal(e.name, "FilterSyntaxError");
        return true;
      },
    );
  });
}

test("limits are inclusive: exactly the maximum still parses", () => {
  assert.doesNotThrow(() => parseFilter("a".repeat(LIMITS.maxLength)));
  assert.doesNotThrow(() => parseFilter(`${"(".repeat(LIMITS.maxDepth)}a${")".repeat(LIMITS.maxDepth)}`));
  assert.doesNotThrow(() => parseFilter(Array.from({ length: LIMITS.maxTerms }, (_, i) => `t${i}`).join(" ")));
});
