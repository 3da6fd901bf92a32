// The readers on sample files shaped like the real exports (Todoist's project CSV and Sync API JSON,
// Taskwarrior's `task export`): what each becomes, and what the report says was not mapped. And
// the CSV export, as a spreadsheet reads it.
import { test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { ProjectSchema } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { parse } from "csv-parse/sync";
import { exportCsv, ImportFormatError, readImportFile, recurrenceOf } from "@taskmesh/interchange";

const sample = (name: string) => readFileSync(new URL(`samples/${name}`, import.meta.url), "utf8");

test("Todoist CSV: the file names the project, section rows, @labels, priority 1 highest, INDENT subtasks, comments, identical rows", () => {
  const plan = readImportFile(sample("Home renovation.csv"), { fileName: "Home renovation.csv" });
  assert.equal(plan.format, "todoist-csv");
  assert.deepEqual(plan.projects, [{ name: "Home renovation", sections: ["Kitchen", "Garden"] }]);
  const [skip, compare, tiles, water1, water2, rake] = plan.tasks;
  assert.equal(plan.tasks.length, 6);
  assert.deepEqual(
    { title: skip!.title, tags: skip!.tags, priority: skip!.priority, dueText: skip!.dueText, timeZone: skip!.timeZone, notes: skip!.notes, section: skip!.section },
    { title: "Order skip for rubble", tags: ["errands"], priority: "high", dueText: "tomorrow at 9am", timeZone: "Europe/Berlin", notes: 'Call "Big Bins", ask for the 6 m³ one', section: undefined },
  );
  assert.equal(compare!.parentSourceId, skip!.sourceId);
  assert.equal(compare!.priority, "none");
  // A note row is a comment on the task above it, not more of its notes.
  assert.deepEqual([compare!.notes, compare!.comments], ["", ["Big Bins quoted 240 €"]]);
  assert.deepEqual([tiles!.title, tiles!.section, tiles!.priority, tiles!.tags], ["Pick tiles", "Kitchen", "medium", ["shopping", "diytools"]]);
  assert.notEqual(water1!.sourceId, water2!.sourceId, "identical rows stay two tasks");
  assert.equal(rake!.section, "Garden");
  const reasons = plan.unmapped.map((u) => `${u.where} ${u.field}`);
  assert.deepEqual(reasons, ["line 8 tag", "line 8 RESPONSIBLE", "line 8 DURATION", "line 13 DATE", "line 13 DEADLINE"]);
  // The same file read again gives the same ids: a re-import finds what the first one made.
  assert.deepEqual(
    readImportFile(sample("Home renovation.csv"), { fileName: "Home renovation.csv" }).tasks.map((t) => t.sourceId),
    plan.tasks.map((t) => t.sourceId),
  );
});

test("Todoist JSON (Sync API): Inbox, sections, API priority 4 highest, labels, recurring and floating dues, parent ids, completed, comments", () => {
  const plan = readImportFile(sample("todoist-sync.json"));
  assert.equal(plan.format, "todoist-json");
  assert.deepEqual(plan.projects, [
    { name: "Work", sections: ["Meetings"] },
    { name: "Reports", sections: [] },
  ]);
  const [milk, sync, numbers, report] = plan.tasks;
  assert.deepEqual([milk!.project, milk!.priority, milk!.due], [undefined, "none", undefined]);
  assert.deepEqual(
    [sync!.project, sync!.section, sync!.priority, sync!.tags, sync!.due, sync!.timeZone, sync!.recurrenceText, sync!.notes],
    ["Work", "Meetings", "high", ["team-work", "meeting"], { instant: "2026-12-07T09:30:00.000Z" }, "Europe/London", "every monday at 9:30", "Room 4; bring\nthe numbers"],
  );
  assert.deepEqual([numbers!.priority, numbers!.due, numbers!.recurrenceText, numbers!.parentSourceId], ["medium", { date: "2026-12-06" }, undefined, "todoist:6X7rfFVPjhvv84XG"]);
  assert.deepEqual([report!.due, report!.completed, report!.priority], [{ local: "2026-12-15T17:00:00" }, true, "low"]);
  assert.deepEqual(sync!.comments, ["Agenda draft is in the shared folder", "Moved to room 5"], "a deleted comment is left out");
  assert.deepEqual(
    plan.unmapped.map((u) => `${u.where} ${u.field}`),
    ["project 6Jf8VQXxpwv56VQ9 parent_id", "task 6X7rfFVPjhvv84XG tag", "task 6X7rfFVPjhvv84XG responsible_uid", "task 6X7rfEVP8hvv25ZS is_deleted", "notes[3] comment"],
  );
});

test("Taskwarrior: a recurring template becomes one series due at its next instance, projects split at the dot, annotations as notes", () => {
  const plan = readImportFile(sample("taskwarrior-export.json"));
  assert.equal(plan.format, "taskwarrior");
  assert.deepEqual(plan.projects, [{ name: "Home", sections: ["Garden"] }]);
  const byTitle = new Map(plan.tasks.map((t) => [t.title, t]));
  assert.deepEqual([...byTitle.keys()], ["Pay rent", "Fix the gate hinge", "Renew passport", "Stand-up", "Check backups"]);
  const rent = byTitle.get("Pay rent")!;
  assert.deepEqual(
    [rent.due, rent.recurrence, rent.priority, rent.tags, rent.project],
    [{ instant: "2026-12-31T23:00:00.000Z" }, { rrule: "FREQ=MONTHLY;UNTIL=20271231T230000Z" }, "high", ["bills"], "Home"],
  );
  const gate = byTitle.get("Fix the gate hinge")!;
  assert.deepEqual([gate.project, gate.section, gate.priority, gate.notes], ["Home", "Garden", "medium", "2026-11-21: needs 2 screws, 40 mm"]);
  assert.equal(byTitle.get("Renew passport")!.completed, true);
  assert.deepEqual(byTitle.get("Stand-up")!.recurrence, { rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" });
  assert.equal(byTitle.get("Check backups")!.recurrence, undefined);
  assert.deepEqual(
    plan.unmapped.map((u) => `${u.where.slice(5, 13)} ${u.field}`),
    ["8d7f9c33 status", "0f6a3a34 parent", "b1f2b3c4 scheduled", "b1f2b3c4 depends", "d0e1f2a3 status", "e1f2a3b4 wait", "f2a3b4c5 recur"],
  );
});

test("Taskwarrior periods as RRULEs", () => {
  const cases: [string, string | undefined][] = [
    ["daily", "FREQ=DAILY"],
    ["biweekly", "FREQ=WEEKLY;INTERVAL=2"],
    ["quarterly", "FREQ=MONTHLY;INTERVAL=3"],
    ["3d", "FREQ=DAILY;INTERVAL=3"],
    ["2w", "FREQ=WEEKLY;INTERVAL=2"],
    ["6mo", "FREQ=MONTHLY;INTERVAL=6"],
    ["2q", "FREQ=MONTHLY;INTERVAL=6"],
    ["1y", "FREQ=YEARLY"],
    ["P1M", "FREQ=MONTHLY"],
    ["P2W", "FREQ=WEEKLY;INTERVAL=2"],
    ["30min", undefined],
    ["4h", undefined],
  ];
  for (const [recur, rrule] of cases) assert.equal(recurrenceOf({ recur })?.rrule, rrule, recur);
});

test("a malformed file is refused saying where, before anything is read from it", () => {
  const cases: [string, string | undefined, RegExp][] = [
    ['TYPE,CONTENT,PRIORITY,INDENT\ntask,"unclosed,1,1\n', "x.csv", /^line \d+: not a readable CSV file/],
    ["TYPE,CONTENT,PRIORITY,INDENT\ntask,Fine,1,1\ntask,Bad,7,1\n", "x.csv", /^line 3: PRIORITY "7" is not 1 to 4/],
    ["TYPE,CONTENT,PRIORITY,INDENT\ntask,Child,1,2\n", "x.csv", /^line 2: INDENT 2 without a task at indent 1/],
    ["TYPE,CONTENT,PRIORITY,INDENT\nbanana,x,1,1\n", "x.csv", /^line 2: TYPE "banana"/],
    ['{"items": [{"id": 1, "content": "a", "priority": 9}]}', undefined, /^items\[0\]: priority 9 is not 1 to 4/],
    ['{"items": [{"id": 1, "content": "a", "due": {"date": "next week"}}]}', undefined, /^items\[0\]: due date "next week"/],
    ['[{"uuid": "u1", "description": "a", "status": "pending", "due": "tomorrow"}]', undefined, /^task u1: due "tomorrow" is not a date/],
    ['[{"uuid": "u1", "description": "a", "status": "pending"},\n  {"uuid": "u2", "status": "pending"}]', undefined, /^task u2: `description` is missing/],
    ['[{"uuid": "u3", "description": "a", "status": "pending", "annotations": "call back"}]', undefined, /^task u3: `annotations` must be a list of notes/],
    ['[{"uuid": "u4", "description": "a", "status": "pending", "tags": "home"}]', undefined, /^task u4: `tags` must be a list of names/],
    ['[{"uuid": "u5", "description": "a", "status": "pending", "due": 20261204}]', undefined, /^task u5: `due` must be text/],
    ['{"items": [{"id": 1, "content": "a", "description": 5}]}', undefined, /^items\[0\]: `description` must be text/],
    ['{"items": [{"id": 1, "content": "a", "due": "tomorrow"}]}', undefined, /^items\[0\]: `due` must be an object with a `date`/],
    ['{"items": [{"id": 1, "content": "a", "priority": "high"}]}', undefined, /^items\[0\]: priority "high" is not 1 to 4/],
    ['{"items": [{"id": 1, "content": "a", "labels": "x"}]}', undefined, /^items\[0\]: `labels` must be a list of names/],
    ['{"projects": [{"id": 1}], "items": []}', undefined, /^projects\[0\]: a project needs an id and a name/],
    ['{"items": [\n{"id": 1,\n "content": }]}', undefined, /^line 3: not valid JSON/],
    ["hello", undefined, /not a file this imports/],
  ];
  for (const [text, fileName, message] of cases) {
    assert.throws(
      () => readImportFile(text, { fileName }),
      (err: unknown) => err instanceof ImportFormatError && message.test(err.message),
      text,
    );
  }
});

test("the CSV export: CRLF between records (RFC 4180), and a cell a spreadsheet would run as a formula starts with a quote", () => {
  const task = (title: string, notes: string) => create(TaskSchema, { id: randomUUID(), title, notes, projectId: "p", timeZone: "UTC" });
  const csv = exportCsv({
    projects: [{ project: create(ProjectSchema, { id: "p", name: "=Inbox" }), sections: [] }],
    tasks: [task('=HYPERLINK("https://evil.example","open")', "+1 and -2\nlines"), task("@SUM(A1)", "plain"), task("Buy milk", "-")],
    comments: [],
    exportedAt: new Date(),
  });
  assert.equal(csv.split("\r\n").length, 5, "header, three records, and the CRLF after the last");
  const rows = parse(csv, { columns: true }) as Record<string, string>[];
  assert.deepEqual(
    rows.map((r) => [r.project, r.title, r.notes]),
    [
      ["'=Inbox", `'=HYPERLINK("https://evil.example","open")`, "'+1 and -2\nlines"],
      ["'=Inbox", "'@SUM(A1)", "plain"],
      ["'=Inbox", "Buy milk", "'-"],
    ],
  );
});
