// Import, export and calendar feeds through the gateway's HTTP endpoints, against the real task and
// recurrence services: sample exports of Todoist and Taskwarrior, a re-run that duplicates nothing,
// an export that imports into another account unchanged, and feeds read with a real iCalendar parser.
import { beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { parse as parseCsv } from "csv-parse/sync";
import ICAL from "ical.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { Priority, RecurrenceMode, TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ImportReport } from "../src/interchange/importer.js";
import { meshUnderTest } from "./fixtures.js";

let tasks: Client<typeof TaskService>;
let projects: Client<typeof ProjectService>;

const mesh = meshUnderTest();
beforeAll(async () => {
  const transport = createConnectTransport({ baseUrl: mesh.url, httpVersion: "1.1" });
  tasks = createClient(TaskService, transport);
  projects = createClient(ProjectService, transport);
});

const sample = (name: string) => readFileSync(new URL(`../../packages/interchange/test/samples/${name}`, import.meta.url), "utf8");

async function account(name: string) {
  const email = `${name}-${randomBytes(4).toString("hex")}@example.com`;
  const res = await mesh.auth.signUp({ email, password: "long enough secret", timeZone: "Europe/Berlin" });
  return { email, id: res.user!.id, headers: { authorization: `Bearer ${res.accessToken}` } };
}

/** A refused import: why, where in the file, and that nothing was imported. */
type ImportRefusal = { error: string; where?: string | null; imported?: number };

async function importFile<Body = ImportReport>(headers: Record<string, string>, body: string, query = "") {
  const res = await fetch(`${mesh.url}/api/import${query}`, { method: "POST", headers: { ...headers, "x-time-zone": "Europe/Berlin" }, body });
  return { status: res.status, body: (await res.json()) as Body };
}

async function listAll(headers: Record<string, string>, query = "status:all"): Promise<Task[]> {
  return (await tasks.listTasks({ query, pageSize: 500, orderBy: "created" }, { headers })).tasks;
}

test("a Todoist CSV export: project from the file name, sections, labels, priorities, dates read like quick add, subtasks; a re-run creates nothing", async () => {
  const alice = await account("alice");
  const csv = sample("Home renovation.csv");
  const first = await importFile(alice.headers, csv, "?filename=Home%20renovation.csv");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(first.body.projects, { created: ["Home renovation"], existing: [] });
  assert.deepEqual(first.body.sections, { created: 2, existing: 0 });
  assert.deepEqual(first.body.tasks, { created: 6, alreadyImported: 0, completed: 0, failed: [] });
  assert.ok(first.body.unmapped.some((u: { field: string; where: string }) => u.field === "RESPONSIBLE" && u.where === "line 8"));

  const imported = await listAll(alice.headers, 'project:"Home renovation"');
  const byTitle = new Map(imported.map((t) => [t.title, t]));
  const skip = byTitle.get("Order skip for rubble")!;
  assert.equal(skip.priority, Priority.HIGH);
  assert.deepEqual(skip.tags, ["errands"]);
  assert.equal(skip.due.case, "dueTime");
  const berlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" });
  assert.equal(berlin.format(new Date(Number(skip.due.value!.seconds) * 1000)), "09:00");
  const compare = byTitle.get("Compare prices")!;
  assert.equal(compare.parentId, skip.id, "INDENT 2 is a subtask");
  const comments = async (task: Task) => (await tasks.listComments({ taskId: task.id }, { headers: alice.headers })).comments.map((c) => [c.body, c.authorId]);
  assert.deepEqual(await comments(compare), [["Big Bins quoted 240 €", alice.id]], "a note row is a comment of the importing user");
  assert.equal(first.body.comments, 1);
  const tiles = byTitle.get("Pick tiles")!;
  assert.equal(tiles.recurrence?.rrule, "FREQ=WEEKLY;BYDAY=SA");
  assert.equal(tiles.priority, Priority.MEDIUM);
  const { sections } = await projects.listSections({ projectId: tiles.projectId }, { headers: alice.headers });
  assert.equal(sections.find((s) => s.id === tiles.sectionId)?.name, "Kitchen");
  assert.equal(imported.filter((t) => t.title === "Water the plants").length, 2);

  const again = await importFile(alice.headers, csv, "?filename=Home%20renovation.csv");
  assert.deepEqual(again.body.projects, { created: [], existing: ["Home renovation"] });
  assert.deepEqual(again.body.sections, { created: 0, existing: 2 });
  assert.deepEqual(again.body.tasks, { created: 0, alreadyImported: 6, completed: 0, failed: [] });
  assert.equal((await listAll(alice.headers)).length, 6);
  assert.equal(again.body.comments, 0);
  assert.equal((await comments(compare)).length, 1, "the comment is not added twice");
});

test("Todoist JSON and Taskwarrior exports: priorities each way round, recurring dues, completed tasks, the report", async () => {
  const bob = await account("bob");
  const todoist = await importFile(bob.headers, sample("todoist-sync.json"));
  assert.equal(todoist.status, 200, JSON.stringify(todoist.body));
  assert.deepEqual(todoist.body.tasks, { created: 4, alreadyImported: 0, completed: 1, failed: [] });
  assert.equal(todoist.body.comments, 2);
  const warrior = await importFile(bob.headers, sample("taskwarrior-export.json"), "?format=taskwarrior");
  assert.equal(warrior.status, 200, JSON.stringify(warrior.body));
  assert.deepEqual(warrior.body.tasks, { created: 5, alreadyImported: 0, completed: 1, failed: [] });
  assert.ok(warrior.body.unmapped.some((u: { field: string }) => u.field === "depends"));

  const all = new Map((await listAll(bob.headers)).map((t) => [t.title, t]));
  const sync = all.get("Weekly sync, prepare agenda")!;
  assert.deepEqual([sync.priority, sync.recurrence?.rrule, sync.timeZone], [Priority.HIGH, "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=30", "Europe/London"]);
  assert.equal(all.get("Collect numbers")!.parentId, sync.id);
  assert.equal(all.get("Q4 report")!.status, TaskStatus.COMPLETED);
  assert.equal(all.get("Buy milk")!.priority, Priority.NONE);
  const rent = all.get("Pay rent")!;
  assert.deepEqual([rent.priority, rent.recurrence?.rrule, rent.due.case], [Priority.HIGH, "FREQ=MONTHLY;UNTIL=20271231T230000Z", "dueTime"]);
  assert.equal(all.get("Renew passport")!.status, TaskStatus.COMPLETED);
  assert.equal(all.get("Fix the gate hinge")!.notes, "2026-11-21: needs 2 screws, 40 mm");
  assert.equal([...all.keys()].includes("Old idea"), false, "deleted tasks stay out");
});

test("a malformed or oversized file imports nothing and says what is wrong; the endpoints need credentials", async () => {
  const carol = await account("carol");
  const bad = await importFile<ImportRefusal>(carol.headers, "TYPE,CONTENT,PRIORITY,INDENT\ntask,Fine,1,1\ntask,Bad,7,1\n", "?filename=x.csv");
  assert.equal(bad.status, 400);
  assert.deepEqual([bad.body.where, bad.body.imported], ["line 3", 0]);
  assert.match(bad.body.error, /PRIORITY "7" is not 1 to 4/);
  const json = await importFile<ImportRefusal>(carol.headers, '[{"uuid": "u1", "description": "a", "status": "pending", "due": "soon"}]');
  assert.equal(json.status, 400);
  assert.match(json.body.error, /task u1: due "soon" is not a date/);
  const big = await importFile(carol.headers, "x".repeat(5 * 1024 * 1024 + 1));
  assert.equal(big.status, 413);
  assert.equal((await listAll(carol.headers)).length, 0);
  assert.equal((await fetch(`${mesh.url}/api/import`, { method: "POST", body: "[]" })).status, 401);
  assert.equal((await fetch(`${mesh.url}/api/export`)).status, 401);
  assert.equal((await fetch(`${mesh.url}/api/calendar-feeds`, { method: "POST", body: "{}" })).status, 401);
});

test("an export imports into another account as it was, and again without duplicates; CSV has a row per task", async () => {
  const dave = await account("dave");
  await importFile(dave.headers, sample("Home renovation.csv"), "?filename=Home%20renovation.csv");
  await importFile(dave.headers, sample("taskwarrior-export.json"));
  const [tiles] = await listAll(dave.headers, "Pick tiles");
  await tasks.addComment({ taskId: tiles!.id, body: "Second coat after a day" }, { headers: dave.headers });
  await tasks.createTask(
    {
      title: "Floating call",
      due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-10T08:00:00Z")) },
      timeZone: "Asia/Tokyo",
      recurrence: { rrule: "FREQ=DAILY", mode: RecurrenceMode.AFTER_COMPLETION },
    },
    { headers: dave.headers },
  );
  const exported = await fetch(`${mesh.url}/api/export?format=json`, { headers: dave.headers });
  assert.equal(exported.status, 200);
  assert.match(exported.headers.get("content-disposition")!, /attachment; filename="taskmesh-\d{4}-\d{2}-\d{2}\.json"/);
  const text = await exported.text();

  assert.deepEqual(
    (JSON.parse(text) as { comments: { body: string }[] }).comments.map((c) => c.body),
    ["Big Bins quoted 240 €", "Second coat after a day"],
  );

  const erin = await account("erin");
  const imported = await importFile(erin.headers, text);
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.equal(imported.body.format, "taskmesh");
  assert.deepEqual(imported.body.tasks.failed, []);
  const shape = async (headers: Record<string, string>) => {
    const { projects: list } = await projects.listProjects({ includeArchived: true }, { headers });
    const names = new Map(list.map((p) => [p.id, p.inbox ? "(inbox)" : p.name]));
    const sectionNames = new Map<string, string>();
    for (const p of list) for (const s of (await projects.listSections({ projectId: p.id }, { headers })).sections) sectionNames.set(s.id, s.name);
    const all = await listAll(headers);
    const titles = new Map(all.map((t) => [t.id, t.title]));
    const comments = new Map(await Promise.all(all.map(async (t) => [t.id, (await tasks.listComments({ taskId: t.id }, { headers })).comments.map((c) => c.body)] as const)));
    return all
      .map((t) =>
        JSON.stringify([
          t.title,
          t.notes,
          t.priority,
          t.tags,
          t.due.case,
          t.due.case === "dueTime" ? String(t.due.value.seconds) : t.due.value,
          t.timeZone,
          t.recurrence?.rrule,
          t.recurrence?.mode,
          t.status,
          names.get(t.projectId),
          sectionNames.get(t.sectionId) ?? "",
          titles.get(t.parentId) ?? "",
          comments.get(t.id),
        ]),
      )
      .sort();
  };
  assert.deepEqual(await shape(erin.headers), await shape(dave.headers));
  const rerun = await importFile(erin.headers, text);
  assert.equal(rerun.body.tasks.created, 0);
  assert.equal(rerun.body.tasks.alreadyImported, imported.body.tasks.created);
  // Into the account it came from: the exported tasks are there already.
  const home = await importFile(dave.headers, text);
  assert.deepEqual([home.body.tasks.created, home.body.tasks.alreadyImported], [0, imported.body.tasks.created]);
  assert.deepEqual(await shape(dave.headers), await shape(erin.headers));

  const csv = await fetch(`${mesh.url}/api/export?format=csv`, { headers: dave.headers });
  assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
  const rows = parseCsv(await csv.text(), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, (await listAll(dave.headers)).length);
  assert.deepEqual(rows.find((r) => r.title === "Pick tiles")!.repeat, "FREQ=WEEKLY;BYDAY=SA");
});

async function feed(path: string): Promise<{ status: number; events: ICAL.Event[]; text: string }> {
  const res = await fetch(`${mesh.url}${path}`);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, events: [], text };
  assert.equal(res.headers.get("content-type"), "text/calendar; charset=utf-8");
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  return { status: 200, events: calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v)), text };
}

async function newFeed(headers: Record<string, string>, projectId?: string): Promise<string> {
  const res = await fetch(`${mesh.url}/api/calendar-feeds`, { method: "POST", headers, body: JSON.stringify(projectId ? { projectId } : {}) });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { path: string; feed: { id: string } };
  assert.match(body.path, /^\/calendar\/tm_cal_[\w-]+\.ics$/);
  return body.path;
}

test("calendar feed: all-day and zoned events, RRULE, escaped titles; revoked or regenerated secrets answer 404", async () => {
  const frank = await account("frank");
  const h = { headers: frank.headers };
  const title = "Buy milk, eggs; bread\nand jam";
  await tasks.createTask({ title, due: { case: "dueDate", value: "2026-12-18" }, recurrence: { rrule: "FREQ=WEEKLY;BYDAY=FR" } }, h);
  await tasks.createTask(
    { title: "Call New York", timeZone: "America/New_York", due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-10T14:00:00Z")) }, recurrence: { rrule: "FREQ=WEEKLY" } },
    h,
  );
  await tasks.createTask({ title: "No due" }, h);
  const done = (await tasks.createTask({ title: "Done already", due: { case: "dueDate", value: "2026-12-05" } }, h)).task!;
  await tasks.completeTask({ id: done.id }, h);

  const path = await newFeed(frank.headers);
  const { events, text } = await feed(path);
  assert.deepEqual(events.map((e) => e.summary).sort(), [title, "Call New York"].sort());
  assert.match(text, /SUMMARY:Buy milk\\, eggs\\; bread\\nand jam/);
  const milk = events.find((e) => e.summary === title)!;
  assert.equal(milk.startDate.isDate, true);
  assert.equal(milk.startDate.toString(), "2026-12-18");
  assert.deepEqual([milk.isRecurring(), String(milk.component.getFirstPropertyValue("rrule"))], [true, "FREQ=WEEKLY;BYDAY=FR"]);
  const call = events.find((e) => e.summary === "Call New York")!;
  assert.equal(call.startDate.zone.tzid, "America/New_York");
  assert.equal(call.startDate.toString(), "2026-12-10T09:00:00");
  assert.equal(call.startDate.toJSDate().toISOString(), "2026-12-10T14:00:00.000Z");
  // After the change to summer time the series stays at 09:00 New York time.
  const it = call.iterator();
  let next = it.next();
  while (next && next.toJSDate() < new Date("2027-04-01")) next = it.next();
  assert.equal(next!.toJSDate().toISOString(), "2027-04-01T13:00:00.000Z");
  assert.equal((await fetch(`${mesh.url}${path}`, { method: "HEAD" })).status, 200);

  // A calendar that polls with the ETag it has (RFC 9110) is told nothing changed, until something does.
  const etag = (await fetch(`${mesh.url}${path}`)).headers.get("etag");
  assert.match(etag ?? "", /^"[\w-]{43}"$/);
  const unchanged = await fetch(`${mesh.url}${path}`, { headers: { "if-none-match": etag! } });
  assert.deepEqual([unchanged.status, await unchanged.text(), unchanged.headers.get("etag")], [304, "", etag]);
  await tasks.createTask({ title: "Dentist", due: { case: "dueDate", value: "2026-12-21" } }, h);
  const changed = await fetch(`${mesh.url}${path}`, { headers: { "if-none-match": etag! } });
  assert.equal(changed.status, 200);
  assert.notEqual(changed.headers.get("etag"), etag);
  assert.match(await changed.text(), /SUMMARY:Dentist/);

  const regenerated = await newFeed(frank.headers);
  assert.equal((await feed(path)).status, 404, "the previous secret stops working");
  assert.equal((await feed(regenerated)).status, 200);
  const listed = (await (await fetch(`${mesh.url}/api/calendar-feeds`, { headers: frank.headers })).json()) as { feeds: { id: string; projectId: string | null }[] };
  assert.equal(listed.feeds.length, 1);
  assert.equal((await fetch(`${mesh.url}/api/calendar-feeds/${listed.feeds[0]!.id}`, { method: "DELETE", headers: frank.headers })).status, 200);
  assert.equal((await feed(regenerated)).status, 404);
  assert.equal((await feed("/calendar/tm_cal_notasecretnotasecretnotasecret.ics")).status, 404);
});

test("a shared project's feed works for a member and stops when the member is removed", async () => {
  const [owner, member] = [await account("owner"), await account("member")];
  const { project } = await projects.createProject({ name: "Shared trip" }, { headers: owner.headers });
  await tasks.createTask({ title: "Book flights", projectId: project!.id, due: { case: "dueDate", value: "2027-01-15" } }, { headers: owner.headers });
  await tasks.createTask({ title: "Owner's private errand", due: { case: "dueDate", value: "2027-01-16" } }, { headers: owner.headers });
  const stranger = await fetch(`${mesh.url}/api/calendar-feeds`, { method: "POST", headers: member.headers, body: JSON.stringify({ projectId: project!.id }) });
  assert.equal(stranger.status, 404, "no feed of a project one may not see");
  const { invitation } = await projects.inviteMember({ projectId: project!.id, email: member.email, role: ProjectRole.VIEWER }, { headers: owner.headers });
  await projects.acceptInvitation({ id: invitation!.id }, { headers: member.headers });

  const path = await newFeed(member.headers, project!.id);
  const shared = await feed(path);
  assert.deepEqual(
    shared.events.map((e) => e.summary),
    ["Book flights"],
  );
  const everything = await feed(await newFeed(member.headers));
  assert.deepEqual(
    everything.events.map((e) => e.summary),
    ["Book flights"],
    "the member's own feed has shared tasks, not the owner's others",
  );

  await projects.removeMember({ projectId: project!.id, userId: member.id }, { headers: owner.headers });
  assert.equal((await feed(path)).status, 404);
});
