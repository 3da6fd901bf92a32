import { test } from "vitest";
import assert from "node:assert/strict";
import { explainFilter, normalizeFilter, parseFilter, type FilterNode, resolveNames } from "@taskmesh/filter";

// query → [canonical text (normalizeFilter), explanation (explainFilter)]
const CASES: [string, string, string][] = [
  ["", "", "all tasks"],
  ["   \t\n ", "", "all tasks"],
  ["milk", "milk", 'title/notes contain "milk"'],
  ["buy milk", "buy AND milk", 'title/notes contain "buy" AND title/notes contain "milk"'],
  ['"buy milk"', '"buy milk"', 'title/notes contain the phrase "buy milk"'],
  ['"say \\"hi\\" \\\\ bye"', '"say \\"hi\\" \\\\ bye"', 'title/notes contain the phrase "say \\"hi\\" \\\\ bye"'],
  [
    "e-mail 50%_off C# a<b x=1",
    "e-mail AND 50%_off AND C# AND a<b AND x=1",
    'title/notes contain "e-mail" AND title/notes contain "50%_off" AND title/notes contain "C#" AND title/notes contain "a<b" AND title/notes contain "x=1"',
  ],
  ["https://example.com/a", "https://example.com/a", 'title/notes contain "https://example.com/a"'],
  ["10:30", "10:30", 'title/notes contain "10:30"'],
  ["tag:home", "tag:home", "tag:home"],
  ["#Home", "#home", "tag:home"],
  ["TAGS:Work/Client.A", "tag:work/client.a", "tag:work/client.a"],
  ["tag:none", "tag:none", "no tags"],
  ["#none", "tag:none", "no tags"],
  ["#über", "#über", "tag:über"],
  ["priority:high", "priority:high", "priority = high"],
  ["priority=LOW", "priority:low", "priority = low"],
  ["priority>=medium", "priority>=medium", "priority >= medium"],
  ["priority>low", "priority>low", "priority > low"],
  ["priority<=none", "priority<=none", "priority <= none"],
  ["priority<high", "priority<high", "priority < high"],
  ["!high", "priority:high", "priority = high"],
  ["!Medium !low", "priority:medium AND priority:low", "priority = medium AND priority = low"],
  ["!highest", "NOT highest", 'NOT title/notes contain "highest"'],
  ["!none", "NOT none", 'NOT title/notes contain "none"'],
  ["! high", "NOT high", 'NOT title/notes contain "high"'],
  ["!(tag:a)", "NOT tag:a", "NOT tag:a"],
  ["status:open", "status:open", "status = open"],
  ["status:Completed", "status:completed", "status = completed"],
  ["status:done", "status:completed", "status = completed"],
  ["status:all", "status:all", "any status"],
  ["due:today", "due:today", "due today"],
  ["due:tomorrow", "due:tomorrow", "due tomorrow"],
  ["due:yesterday", "due:yesterday", "due yesterday"],
  ["due:this-week", "due:this-week", "due this week"],
  ["due:next-week", "due:next-week", "due next week"],
  ["due:last-week", "due:last-week", "due last week"],
  ["due:next-7-days", "due:next-7-days", "due in next 7 days"],
  ["due:overdue", "due:overdue", "overdue"],
  ["due:none", "due:none", "no due date"],
  ["due:any", "due:any", "has a due date"],
  ["due:2025-01-31", "due:2025-01-31", "due on 2025-01-31"],
  ["due=2024-02-29", "due:2024-02-29", "due on 2024-02-29"],
  ["due<2025-01-31", "due<2025-01-31", "due before 2025-01-31"],
  ["due<=2025-01-31", "due<=2025-01-31", "due on or before 2025-01-31"],
  ["due>2025-01-31", "due>2025-01-31", "due after 2025-01-31"],
  ["due>=2025-01-31", "due>=2025-01-31", "due on or after 2025-01-31"],
  ["due:before:2025-01-31", "due<2025-01-31", "due before 2025-01-31"],
  ["due:after:2025-01-31", "due>2025-01-31", "due after 2025-01-31"],
  ["due:BEFORE:Today", "due<today", "due before today"],
  ["due<today", "due<today", "due before today"],
  ["due<=this-week", "due<=this-week", "due on or before this week"],
  ["created>=2025-01-01", "created>=2025-01-01", "created on or after 2025-01-01"],
  ["updated:today", "updated:today", "updated today"],
  ["created:after:yesterday", "created>yesterday", "created after yesterday"],
  ["tag:home priority>=medium due:next-7-days", "tag:home AND priority>=medium AND due:next-7-days", "tag:home AND priority >= medium AND due in next 7 days"],
  ["a AND b", "a AND b", 'title/notes contain "a" AND title/notes contain "b"'],
  ["#a & #b && #c", "#a AND #b AND #c", "tag:a AND tag:b AND tag:c"],
  ["#a and #b Or #c", "#a AND #b OR #c", "(tag:a AND tag:b) OR tag:c"],
  ["#a | #b || #c", "#a OR #b OR #c", "tag:a OR tag:b OR tag:c"],
  ["#a OR #b #c", "#a OR #b AND #c", "tag:a OR (tag:b AND tag:c)"],
  ["(#a OR #b) #c", "(#a OR #b) AND #c", "(tag:a OR tag:b) AND tag:c"],
  ["#a (#b (#c #d))", "#a AND #b AND #c AND #d", "tag:a AND tag:b AND tag:c AND tag:d"],
  ["((#a))", "#a", "tag:a"],
  ["NOT #a #b", "NOT #a AND #b", "NOT tag:a AND tag:b"],
  ["not (#a #b)", "NOT (#a AND #b)", "NOT (tag:a AND tag:b)"],
  ["-tag:work", "NOT tag:work", "NOT tag:work"],
  ['-"a b"', 'NOT "a b"', 'NOT title/notes contain the phrase "a b"'],
  ["-(#a | #b)", "NOT (#a OR #b)", "NOT (tag:a OR tag:b)"],
  ["NOT NOT #a", "#a", "tag:a"],
  ["--#a", "#a", "tag:a"],
  ["a - b", "a AND - AND b", 'title/notes contain "a" AND title/notes contain "-" AND title/notes contain "b"'],
  ["-", "-", 'title/notes contain "-"'],
  ['"and" "OR"', '"and" AND "OR"', 'title/notes contain the phrase "and" AND title/notes contain the phrase "OR"'],
  ['tag:x"y"', 'tag:x AND "y"', 'tag:x AND title/notes contain the phrase "y"'],
  ["#a(#b|#c)", "#a AND (#b OR #c)", "tag:a AND (tag:b OR tag:c)"],
  ["NOT due:today OR !high", "NOT due:today OR priority:high", "NOT due today OR priority = high"],
  // Weekdays, months, spans of days, completion days.
  ["due<friday", "due<friday", "due before friday"],
  ["due:Monday", "due:monday", "due monday"],
  ["due:this-month", "due:this-month", "due this month"],
  ["created:last-month", "created:last-month", "created last month"],
  ["due:next-30-days", "due:next-30-days", "due in next 30 days"],
  ["completed:last-week", "completed:last-week", "completed last week"],
  ["completed>=2025-01-01", "completed>=2025-01-01", "completed on or after 2025-01-01"],
  // What Todoist users type.
  ["today", "due:today", "due today"],
  ["Sunday, Monday", "due:sunday OR due:monday", "due sunday OR due monday"],
  ["!@Blocked & !Subtask & !Today & Friday", "NOT tag:blocked AND NOT is:subtask AND NOT due:today AND due:friday", "NOT tag:blocked AND NOT is a subtask AND NOT due today AND due friday"],
  ["search: friday", "search:friday", 'title/notes contain "friday"'],
  ["Tomorrow | yesterday", "due:tomorrow OR due:yesterday", "due tomorrow OR due yesterday"],
  ["overdue & #home", "due:overdue AND #home", "overdue AND tag:home"],
  ["no date", "due:none", "no due date"],
  ["today & p1", "due:today AND priority:high", "due today AND priority = high"],
  ["P2 | p3 | p4", "priority:medium OR priority:low OR priority:none", "priority = medium OR priority = low OR priority = none"],
  ["p5 p12", "p5 AND p12", 'title/notes contain "p5" AND title/notes contain "p12"'],
  ["!no due date", "NOT due:none", "NOT no due date"],
  ["7 days", "due:next-7-days", "due in next 7 days"],
  ["next 14 days p", "due:next-14-days AND p", 'due in next 14 days AND title/notes contain "p"'],
  ["next 0 days", "next AND 0 AND days", 'title/notes contain "next" AND title/notes contain "0" AND title/notes contain "days"'],
  ["due before: friday", "due<friday", "due before friday"],
  ["due after:2025-01-31", "due>2025-01-31", "due after 2025-01-31"],
  ["date before: today", "due<today", "due before today"],
  ["created after: yesterday", "created>yesterday", "created after yesterday"],
  ["@errands & p1", "tag:errands AND priority:high", "tag:errands AND priority = high"],
  ["bob@example.com @ @@x", "bob@example.com AND @ AND @@x", 'title/notes contain "bob@example.com" AND title/notes contain "@" AND title/notes contain "@@x"'],
  ["no labels", "tag:none", "no tags"],
  ["no priority", "priority:none", "priority = none"],
  ["-7 days", "due>=7-days-ago AND due<today", "due on or after 7 days ago AND due before today"],
  ["-2 weeks & #home", "due>=14-days-ago AND due<today AND #home", "due on or after 14 days ago AND due before today AND tag:home"],
  ["!no priority", "NOT priority:none", "NOT priority = none"],
  ["assigned", "NOT assignee:none", "NOT assigned to nobody"],
  ["assigned by: me", "assigner:me", "assigned by me"],
  ["assigned by:others & assigned to: me", "NOT assigner:me AND NOT assigner:none AND assignee:me", "NOT assigned by me AND NOT assigned by nobody AND assigned to me"],
  ["assigner:Bob@Example.com", "assigner:bob@example.com", "assigned by bob@example.com"],
  ["!assigned", "assignee:none", "assigned to nobody"],
  ["shared & !assigned", "is:shared AND assignee:none", "in a shared project AND assigned to nobody"],
  ["is:shared -shared", "is:shared AND NOT is:shared", "in a shared project AND NOT in a shared project"],
  ["created: today", "created:today", "created today"],
  ["date: today | date:tomorrow", "due:today OR due:tomorrow", "due today OR due tomorrow"],
  ["due: next week", "due:next-week", "due next week"],
  ["date before: next week & created: last week", "due<next-week AND created:last-week", "due before next week AND created last week"],
  ["due after: this month", "due>this-month", "due after this month"],
  ["due: next 7 days #home", "due:next-7-days AND #home", "due in next 7 days AND tag:home"],
  ["next week", "next AND week", 'title/notes contain "next" AND title/notes contain "week"'],
  ["date: Dec 20", "due:dec-20", "due on Dec 20"],
  ["due before: 3 January & created: 1st may", "due<jan-3 AND created:may-1", "due before Jan 3 AND created on May 1"],
  // Todoist's days counted from today, and a weekday of next week (as quick add reads "next friday").
  ["created before: -365 days", "created<365-days-ago", "created before 365 days ago"],
  ["created after:-7 days", "created>7-days-ago", "created after 7 days ago"],
  ["due before: +3 days & created: 2 days ago", "due<in-3-days AND created:2-days-ago", "due before 3 days from today AND created 2 days ago"],
  ["due: in 10 days", "due:in-10-days", "due 10 days from today"],
  ["date after: -2 weeks", "due>14-days-ago", "due after 14 days ago"],
  ["due: next monday | date before: next Friday", "due:next-monday OR due<next-friday", "due next monday OR due before next friday"],
  ["due:next-sunday", "due:next-sunday", "due next sunday"],
  ["due: next Mon | due<fri | date:thurs", "due:next-monday OR due<friday OR due:thursday", "due next monday OR due before friday OR due thursday"],
  ["sat sun", "sat AND sun", 'title/notes contain "sat" AND title/notes contain "sun"'],
  ["created<30-days-ago", "created<30-days-ago", "created before 30 days ago"],
  // Todoist's hours from now: an instant, compared with.
  ["due before: +4 hours", "due<in-4-hours", "due before 4 hours from now"],
  ["created after: -12 hours & updated>=2-hours-ago", "created>12-hours-ago AND updated>2-hours-ago", "created after 12 hours ago AND updated after 2 hours ago"],
  ["due<=in-1-hours", "due<in-1-hours", "due before 1 hour from now"],
  ["created:1-days-ago", "created:1-days-ago", "created 1 day ago"],
  // Todoist's "no time": a date without a time.
  ["no time", "due:all-day", "due on a date, no time"],
  ["!no time & today", "NOT due:all-day AND due:today", "NOT due on a date, no time AND due today"],
  ["due:All-Day", "due:all-day", "due on a date, no time"],
  // Todoist's lists separated by commas, shown together: OR. A comma inside a word stays; one at the end is the next list being typed.
  ["today, overdue", "due:today OR due:overdue", "due today OR overdue"],
  ["#a & p1, overdue", "#a AND priority:high OR due:overdue", "(tag:a AND priority = high) OR overdue"],
  ["date: yesterday, today, tomorrow", "due:yesterday OR due:today OR due:tomorrow", "due yesterday OR due today OR due tomorrow"],
  ["1,000 bricks", "1,000 AND bricks", 'title/notes contain "1,000" AND title/notes contain "bricks"'],
  ["today,", "due:today", "due today"],
  // A day in words glued to its field, as typed without the space.
  ["due:next 7 days", "due:next-7-days", "due in next 7 days"],
  ["(#a OR @b) date:Dec 20 milk", "(#a OR tag:b) AND due:dec-20 AND milk", '(tag:a OR tag:b) AND due on Dec 20 AND title/notes contain "milk"'],
  ["due<next week", "due<next-week", "due before next week"],
  ["created>=20 december 2027", "created>=2027-12-20", "created on or after 2027-12-20"],
  ["due:friday 20", "due:friday AND 20", 'due friday AND title/notes contain "20"'],
  ["date after: 20th Sept #home", "due>sep-20 AND #home", "due after Sep 20 AND tag:home"],
  ["due: Dec 20 2027", "due:2027-12-20", "due on 2027-12-20"],
  ["due: 7 days", "due:next-7-days", "due in next 7 days"],
  ["dec 20", "dec AND 20", 'title/notes contain "dec" AND title/notes contain "20"'],
  ["tag: home due: tomorrow", "tag:home AND due:tomorrow", "tag:home AND due tomorrow"],
  ["search: harbor", "harbor", 'title/notes contain "harbor"'],
  ["search:today search:@home search: p1", "search:today AND search:@home AND search:p1", 'title/notes contain "today" AND title/notes contain "@home" AND title/notes contain "p1"'],
  ['search: "buy milk" p1', '"buy milk" AND priority:high', 'title/notes contain the phrase "buy milk" AND priority = high'],
  ["assigned to: me", "assignee:me", "assigned to me"],
  ["assigned to:nobody", "assignee:none", "assigned to nobody"],
  ["assigned to: Bob", "assignee:bob", "assigned to bob"],
  ["assigned to:bob@example.com & today", "assignee:bob@example.com AND due:today", "assigned to bob@example.com AND due today"],
  ["assignee:Bob.Smith -assignee:me", "assignee:bob.smith AND NOT assignee:me", "assigned to bob.smith AND NOT assigned to me"],
  ["assigned to: others | today", "NOT assignee:me AND NOT assignee:none OR due:today", "(NOT assigned to me AND NOT assigned to nobody) OR due today"],
  ["recurring & !subtask", "is:recurring AND NOT is:subtask", "repeats AND NOT is a subtask"],
  ["is: subtask", "is:subtask", "is a subtask"],
  ['"recurring" payment', '"recurring" AND payment', 'title/notes contain the phrase "recurring" AND title/notes contain "payment"'],
  ["assigned work", "NOT assignee:none AND work", 'NOT assigned to nobody AND title/notes contain "work"'],
  ["assigned to the team", "search:assigned AND to AND the AND team", 'title/notes contain "assigned" AND title/notes contain "to" AND title/notes contain "the" AND title/notes contain "team"'],
  // The words themselves, quoted, are text.
  ['"today" "no date"', '"today" AND "no date"', 'title/notes contain the phrase "today" AND title/notes contain the phrase "no date"'],
  ['"@home"', '"@home"', 'title/notes contain the phrase "@home"'],
  // A quote right after a word that is no field: the word, then the phrase.
  [
    '\\due:before:"(" http://a:"b c"',
    '\\due:before: AND "(" AND http://a: AND "b c"',
    'title/notes contain "\\\\due:before:" AND title/notes contain the phrase "(" AND title/notes contain "http://a:" AND title/notes contain the phrase "b c"',
  ],
  // What Taskwarrior users type.
  ["due.before:eow", "due<=this-week", "due on or before this week"],
  ["due.after:eom", "due>this-month", "due after this month"],
  ["due.by:Friday", "due<=friday", "due on or before friday"],
  ["due.is:today", "due:today", "due today"],
  ["due.none:", "due:none", "no due date"],
  ["due.any:", "due:any", "has a due date"],
  ["due.not:today", "NOT due:today", "NOT due today"],
  ["created.under:2025-01-31", "created<2025-01-31", "created before 2025-01-31"],
  ["due:eow", "due<=this-week", "due on or before this week"],
  ["due:eod", "due<=today", "due on or before today"],
  ["due<7d", "due<=next-7-days", "due on or before next 7 days"],
  ["due>=2w", "due>next-14-days", "due after next 14 days"],
  ["due:7d", "due:next-7-days", "due in next 7 days"],
  ["due:before:eow", "due<=this-week", "due on or before this week"],
  // Dots elsewhere stay text, as they were.
  ["file.txt:3 tag.any:x", "file.txt:3 AND tag.any:x", 'title/notes contain "file.txt:3" AND title/notes contain "tag.any:x"'],
];

for (const [query, normalized, explained] of CASES) {
  test(`parse ${JSON.stringify(query)}`, () => {
    const ast = parseFilter(query);
    assert.equal(normalizeFilter(ast), normalized);
    assert.equal(explainFilter(ast), explained);
    assert.deepEqual(parseFilter(normalized), ast, "the canonical text parses to the same tree");
  });
}

const TREES: [string, FilterNode][] = [
  ["", { kind: "all" }],
  [
    "#a #b | -#c",
    {
      kind: "or",
      children: [
        {
          kind: "and",
          children: [
            { kind: "tag", tag: "a", hash: true },
            { kind: "tag", tag: "b", hash: true },
          ],
        },
        { kind: "not", child: { kind: "tag", tag: "c", hash: true } },
      ],
    },
  ],
  [
    '"x y" due>=2025-02-01 priority<high due:overdue',
    {
      kind: "and",
      children: [
        { kind: "text", value: "x y", phrase: true },
        { kind: "date", field: "due", op: ">=", day: "2025-02-01" },
        { kind: "priority", op: "<", level: "high" },
        { kind: "due", state: "overdue" },
      ],
    },
  ],
  [
    "(a OR b) OR (c OR d)",
    {
      kind: "or",
      children: ["a", "b", "c", "d"].map((value) => ({ kind: "text", value, phrase: false })),
    },
  ],
];

for (const [query, tree] of TREES) {
  test(`tree of ${JSON.stringify(query)}`, () => assert.deepEqual(parseFilter(query), tree));
}

test("hand-built trees that the parser never makes still normalize to equivalent text", () => {
  assert.equal(normalizeFilter({ kind: "text", value: "two words", phrase: false }), '"two words"');
  assert.equal(normalizeFilter({ kind: "and", children: [{ kind: "all" }, { kind: "tag", tag: "a" }] }), "status:all AND tag:a");
});

test("#name is the project of that name when there is one, as quick add reads it; other #names, tag: and @ are tags", () => {
  const names = { projects: [{ name: "Home  Reno" }, { name: "Errands" }], sections: [] };
  const resolved = (query: string) => normalizeFilter(resolveNames(parseFilter(query), names));
  assert.equal(resolved("#home-reno"), "project:home-reno");
  assert.equal(resolved("#Home_Reno !high"), "project:home-reno AND priority:high");
  assert.equal(resolved("#errands OR -(#garden #home-reno)"), "project:errands OR NOT (tag:garden AND project:home-reno)");
  assert.equal(resolved("tag:errands @errands #none"), "tag:errands AND tag:errands AND tag:none");
  assert.equal(resolved("#garden"), "tag:garden");
  assert.equal(explainFilter(resolveNames(parseFilter("#errands #garden"), names)), 'project is "errands" AND tag:garden');
});

test("Todoist's ##project is always the project; /section is the caller's section of that name, else a word", () => {
  const names = { projects: [], sections: [{ name: "Paint jobs" }, { name: "Calls" }] };
  const resolved = (query: string) => normalizeFilter(resolveNames(parseFilter(query), names));
  assert.equal(resolved("##Home_Reno"), "project:home-reno");
  assert.equal(resolved("/paint-jobs OR /Calls"), "section:paint-jobs OR section:calls");
  assert.equal(resolved("/etc and/or"), "/etc AND and/or");
  assert.equal(resolved('"/calls"'), '"/calls"', "quoted, a phrase to search for");
  assert.throws(() => parseFilter("##"), /needs a project name/);
});
