// An all-day task is due on its date wherever the person looking is, as the web app lists it; a
// timed one on the day its instant falls in the viewer's zone. Every due filter must select what the
// lists show under each day, whichever zone the task was made in and the viewer is in, through the
// index of dues and without it.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Task, TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import assert from "node:assert/strict";
import { Temporal } from "temporal-polyfill";
import { beforeAll, describe, test } from "vitest";
import { tasksUnderTest } from "./fixtures.js";

// Sunday 2026-12-20 04:00 in Berlin; still Saturday evening in New York and at UTC-12.
const NOW = new Date("2026-12-20T03:00:00Z");
const USER = "all-day-dues";
const ZONES = ["Pacific/Kiritimati", "Europe/Berlin", "UTC", "America/New_York", "Etc/GMT+12"];
const DATES = ["2026-12-18", "2026-12-19", "2026-12-20", "2026-12-21", "2026-12-22"];
const as = (zone: string) => ({ headers: { "x-user-id": USER, "x-time-zone": zone } });

/** The day a list shows a task under (the web app's rule): its date, or its instant's date where the viewer is. */
function shownOn(task: Task, viewer: string): string | undefined {
  if (task.due.case === "dueDate") return task.due.value;
  if (task.due.case === "dueTime") return Temporal.Instant.fromEpochMilliseconds(timestampDate(task.due.value).getTime()).toZonedDateTimeISO(viewer).toPlainDate().toString();
  return undefined;
}

describe("due filters over all-day and timed tasks, seen from every zone", () => {
  const service = tasksUnderTest({ now: () => NOW });
  const tasks: Task[] = [];

  beforeAll(async () => {
    const create = async (title: string, fields: Parameters<typeof service.tasks.createTask>[0]) => {
      tasks.push((await service.tasks.createTask({ title, ...fields }, as("UTC"))).task!);
    };
    for (const timeZone of ZONES) for (const date of DATES) await create(`${date} all day in ${timeZone}`, { timeZone, due: { case: "dueDate", value: date } });
    for (let hour = 0; hour <= 5 * 24; hour += 5) {
      const at = new Date(Date.parse("2026-12-18T00:00:00Z") + hour * 3_600_000);
      await create(`at ${at.toISOString()}`, { due: { case: "dueTime", value: timestampFromDate(at) } });
    }
    await create("no due", {});
    const done = tasks.find((t) => t.title === "2026-12-19 all day in UTC")!;
    tasks[tasks.indexOf(done)] = (await service.tasks.completeTask({ id: done.id }, as("UTC"))).task!;
  });

  const listed = async (query: string, viewer: string, orderBy: string) => {
    const page = await service.tasks.listTasks({ query, orderBy, pageSize: 200 }, as(viewer));
    assert.equal(page.nextPageToken, "");
    return page.tasks.map((t) => t.title).sort();
  };
  const expected = (viewer: string, keep: (day: string | undefined, task: Task) => boolean) =>
    tasks
      .filter((t) => keep(shownOn(t, viewer), t))
      .map((t) => t.title)
      .sort();
  const today = (viewer: string) => Temporal.Instant.fromEpochMilliseconds(NOW.getTime()).toZonedDateTimeISO(viewer).toPlainDate().toString();
  const D = "2026-12-20";
  const cases: [string, (viewer: string) => (day: string | undefined, task: Task) => boolean][] = [
    [`due:${D}`, () => (day) => day === D],
    [`due<${D}`, () => (day) => day !== undefined && day < D],
    [`due<=${D}`, () => (day) => day !== undefined && day <= D],
    [`due>${D}`, () => (day) => day !== undefined && day > D],
    [`due>=${D}`, () => (day) => day !== undefined && day >= D],
    [`NOT due:${D}`, () => (day) => day !== D],
    ["due:today", (viewer) => (day) => day === today(viewer)],
    ["no time", () => (_day, task) => task.due.case === "dueDate"],
    ["due:tomorrow tag:none", (viewer) => (day) => day === Temporal.PlainDate.from(today(viewer)).add({ days: 1 }).toString()],
    [
      "due:overdue",
      (viewer) => (day, task) =>
        task.status === TaskStatus.OPEN && (task.due.case === "dueTime" ? timestampDate(task.due.value) < NOW : task.due.case === "dueDate" && day !== undefined && day < today(viewer)),
    ],
  ];

  for (const [query, rule] of cases) {
    test(`${query}: the tasks each zone's lists show on those days`, async () => {
      for (const viewer of ZONES) {
        const want = expected(viewer, rule(viewer));
        assert.ok(want.length > 0, `${query} from ${viewer} selects some task`);
        // By due: the index of dues; by title: every task tested.
        assert.deepEqual(await listed(query, viewer, "due"), want, `${query} from ${viewer}, by due`);
        assert.deepEqual(await listed(query, viewer, "title"), want, `${query} from ${viewer}, by title`);
      }
    });
  }

  test("the first and the last date there are filter like any other (the day after the last is no date)", async () => {
    const user = { headers: { "x-user-id": `${USER}-edges`, "x-time-zone": "UTC" } };
    for (const value of ["0001-01-01", "9999-12-31"]) await service.tasks.createTask({ title: value, timeZone: "UTC", due: { case: "dueDate", value } }, user);
    const titles = async (query: string) => (await service.tasks.listTasks({ query, orderBy: "due" }, user)).tasks.map((t) => t.title);
    assert.deepEqual(await titles("due:9999-12-31"), ["9999-12-31"]);
    assert.deepEqual(await titles("due>9999-12-31"), []);
    assert.deepEqual(await titles("due<=9999-12-31"), ["0001-01-01", "9999-12-31"]);
    assert.deepEqual(await titles("due>=9999-12-31"), ["9999-12-31"]);
    assert.deepEqual(await titles("due:0001-01-01"), ["0001-01-01"]);
    assert.deepEqual(await titles("due<0001-01-01"), []);
    assert.deepEqual(await titles("due>0001-01-01"), ["9999-12-31"]);
  });

  test("Berlin's all-day task of Dec 20 is due Dec 20 from New York, and not Dec 19", async () => {
    assert.ok((await listed(`due:${D}`, "America/New_York", "due")).includes(`${D} all day in Europe/Berlin`));
    assert.ok(!(await listed("due:2026-12-19", "America/New_York", "due")).includes(`${D} all day in Europe/Berlin`));
  });
});
