// SkipOccurrence and EndSeries against the real task service (on PostgreSQL), called the way the
// embedded app wires them: in-process Connect with validation on both hops.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client, type ConnectRouter } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "@taskmesh/tasks";
import { freshDatabase } from "@taskmesh/testing";
import { startRecurrenceModule } from "../src/index.js";
import { planNextOccurrence } from "../src/next-occurrence.js";

const alice = { headers: { "x-user-id": "alice" } };
const bob = { headers: { "x-user-id": "bob" } };

function inProcess(routes: (router: ConnectRouter) => void) {
  return createRouterTransport(routes, { router: { interceptors: [createValidateInterceptor()] } });
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  assert.fail("the call succeeded");
}

describe("series edits", () => {
  const now = new Date("2027-01-20T10:00:00Z");
  let drop: () => Promise<void>;
  let stop: () => Promise<void>;
  let tasks: Client<typeof TaskService>;
  let recurrence: Client<typeof RecurrenceService>;
  let projects: Client<typeof ProjectService>;

  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
    const tasksModule = await startTasksModule({ databaseUrl: db.url, now: () => now });
    tasks = createClient(TaskService, inProcess(tasksModule.routes));
    projects = createClient(ProjectService, inProcess(tasksModule.routes));
    const recurrenceModule = await startRecurrenceModule({ tasks, now: () => now });
    recurrence = createClient(RecurrenceService, inProcess(recurrenceModule.routes));
    stop = async () => {
      await recurrenceModule.stop();
      await tasksModule.stop();
    };
  });
  afterAll(async () => {
    await stop();
    await drop();
  });

  test("skipping a task on the 31st or the month's last day moves it from Jan 31 to Feb 28, then Mar 31, recording each skipped date", async () => {
    const { task } = await tasks.createTask(
      { title: "Pay rent", tags: ["home"], due: { case: "dueDate", value: "2027-01-31" }, timeZone: "Europe/Berlin", recurrence: { rrule: "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" } },
      alice,
    );
    const first = await recurrence.skipOccurrence({ taskId: task!.id, expectedVersion: task!.version }, alice);
    assert.deepEqual(first.skipped?.when, { case: "date", value: "2027-01-31" });
    assert.equal(first.task?.id, task!.id, "the same task moves: no new task, nothing to clean up");
    assert.deepEqual(first.task?.due, { case: "dueDate", value: "2027-02-28" });
    assert.deepEqual(first.task?.recurrence?.exdates, ["2027-01-31"]);
    const second = await recurrence.skipOccurrence({ taskId: task!.id }, alice);
    assert.deepEqual(second.task?.due, { case: "dueDate", value: "2027-03-31" }, "back to the 31st, not stuck on the 28th");
    assert.deepEqual(second.task?.recurrence?.exdates, ["2027-01-31", "2027-02-28"]);
    assert.equal(second.task?.recurrence?.occurrence, 3);
    assert.deepEqual(second.task?.tags, ["home"]);
  });

  test("a timed skip keeps the wall-clock across DST and moves absolute reminders with the due", async () => {
    const due = new Date("2027-03-12T14:00:00Z"); // Friday 09:00 in New York, before the spring change
    const { task } = await tasks.createTask(
      {
        title: "Standup notes",
        due: { case: "dueTime", value: timestampFromDate(due) },
        timeZone: "America/New_York",
        recurrence: { rrule: "FREQ=WEEKLY" },
        reminders: [{ trigger: { case: "absoluteTime", value: timestampFromDate(new Date(due.getTime() - 3_600_000)) } }, { trigger: { case: "beforeDue", value: { seconds: 600n } } }],
      },
      alice,
    );
    const { task: moved } = await recurrence.skipOccurrence({ taskId: task!.id }, alice);
    const movedDue = timestampDate(moved!.due.value as Timestamp);
    assert.equal(movedDue.toISOString(), "2027-03-19T13:00:00.000Z", "09:00 EDT a week later");
    const [absolute, relative] = moved!.reminders;
    assert.equal(timestampDate(absolute!.trigger.value as Timestamp).toISOString(), "2027-03-19T12:00:00.000Z");
    assert.equal(relative!.trigger.case, "beforeDue");
    assert.equal(absolute!.id, task!.reminders[0]!.id, "reminders keep their ids");
  });

  test("a rule repeating after completion skips to the interval counted from now", async () => {
    const { task } = await tasks.createTask(
      {
        title: "Water plants",
        due: { case: "dueDate", value: "2027-01-18" },
        timeZone: "UTC",
        recurrence: { rrule: "FREQ=DAILY;INTERVAL=3", mode: RecurrenceMode.AFTER_COMPLETION },
      },
      alice,
    );
    const { task: moved } = await recurrence.skipOccurrence({ taskId: task!.id }, alice);
    assert.deepEqual(moved?.due, { case: "dueDate", value: "2027-01-23" }, "3 days after Jan 20 (now)");
    assert.deepEqual(moved?.recurrence?.exdates, [], "no schedule to except a date from");
  });

  test("the last occurrence cannot be skipped; a task that does not repeat neither", async () => {
    const { task } = await tasks.createTask({ title: "Twice", due: { case: "dueDate", value: "2027-02-01" }, timeZone: "UTC", recurrence: { rrule: "FREQ=DAILY;COUNT=2" } }, alice);
    await recurrence.skipOccurrence({ taskId: task!.id }, alice);
    const last = await refusal(recurrence.skipOccurrence({ taskId: task!.id }, alice));
    assert.equal(last.code, Code.FailedPrecondition);
    assert.match(last.rawMessage, /last occurrence/);

    const { task: once } = await tasks.createTask({ title: "Once", due: { case: "dueDate", value: "2027-02-01" } }, alice);
    assert.equal((await refusal(recurrence.skipOccurrence({ taskId: once!.id }, alice))).code, Code.FailedPrecondition);
    assert.equal((await refusal(recurrence.endSeries({ taskId: once!.id }, alice))).code, Code.FailedPrecondition);
  });

  test("ending a series keeps the open task and stops the series there, COUNT or not", async () => {
    const { task } = await tasks.createTask(
      {
        title: "Gym",
        due: { case: "dueTime", value: timestampFromDate(new Date("2027-02-01T07:00:00Z")) },
        timeZone: "Europe/London",
        recurrence: { rrule: "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=20" },
      },
      alice,
    );
    const ended = await recurrence.endSeries({ taskId: task!.id, expectedVersion: task!.version }, alice);
    assert.equal(ended.task?.recurrence?.rrule, "FREQ=WEEKLY;UNTIL=20270201T070000Z;BYDAY=MO,TH");
    assert.match(ended.summary, /until/);
    const { task: done } = await tasks.completeTask({ id: task!.id }, alice);
    const completion = create(TaskEventSchema, { userId: "alice", taskId: done!.id, event: { case: "completed", value: { task: done } } });
    assert.equal(planNextOccurrence(completion), undefined, "completing the ended series creates no next occurrence");
    const beforeEnd = create(TaskEventSchema, { userId: "alice", taskId: task!.id, event: { case: "completed", value: { task: { ...done!, recurrence: task!.recurrence } } } });
    assert.ok(planNextOccurrence(beforeEnd), "the same completion before EndSeries would have continued the series");
  });

  test("the next occurrence of a shared task stays given by the member who assigned it, not by its owner", async () => {
    const member = (user: string) => ({ headers: { "x-user-id": user, "x-user-email": `${user}@example.com` } });
    const { project } = await projects.createProject({ name: "Flat" }, member("alice"));
    const { invitation } = await projects.inviteMember({ projectId: project!.id, email: "bob@example.com", role: ProjectRole.EDITOR }, member("alice"));
    await projects.acceptInvitation({ id: invitation!.id }, member("bob"));
    const { task } = await tasks.createTask({ title: "Take out the bins", projectId: project!.id, due: { case: "dueDate", value: "2027-01-21" }, recurrence: { rrule: "FREQ=WEEKLY" } }, alice);
    const given = await tasks.updateTask({ task: { id: task!.id, assigneeId: "alice" }, updateMask: { paths: ["assignee_id"] }, expectedVersion: task!.version }, bob);
    assert.equal(given.task?.assignerId, "bob");
    const { task: done } = await tasks.completeTask({ id: task!.id }, alice);
    // What the recurrence consumer sends on the completion event, as the owner.
    const next = planNextOccurrence(create(TaskEventSchema, { userId: "alice", taskId: done!.id, event: { case: "completed", value: { task: done } } }))!;
    const { task: following } = await tasks.createTask(next, { headers: { ...alice.headers, "x-device": "recurrence" } });
    assert.deepEqual(following?.due, { case: "dueDate", value: "2027-01-28" });
    assert.equal(following?.assigneeId, "alice");
    assert.equal(following?.assignerId, "bob", "alice did not assign it to herself: bob did");
    const toBob = await tasks.createTask({ ...next, requestId: "", assigneeId: "bob" }, alice);
    assert.equal(toBob.task?.assignerId, "alice", "given to someone else than the series was: by its creator");
  });

  test("callers edit only their own tasks, at the version they saw, with valid ids", async () => {
    const { task } = await tasks.createTask({ title: "Private", due: { case: "dueDate", value: "2027-02-01" }, recurrence: { rrule: "FREQ=DAILY" } }, alice);
    assert.equal((await refusal(recurrence.skipOccurrence({ taskId: task!.id }, bob))).code, Code.NotFound);
    assert.equal((await refusal(recurrence.endSeries({ taskId: task!.id }, bob))).code, Code.NotFound);
    assert.equal((await tasks.getTask({ id: task!.id }, alice)).task?.version, task!.version, "bob's attempts changed nothing");

    await tasks.updateTask({ task: { id: task!.id, title: "Renamed" }, updateMask: { paths: ["title"] }, expectedVersion: task!.version }, alice);
    const stale = await refusal(recurrence.skipOccurrence({ taskId: task!.id, expectedVersion: task!.version }, alice));
    assert.equal(stale.code, Code.Aborted);

    const bad = await refusal(recurrence.skipOccurrence({ taskId: "not-a-uuid" }, alice));
    assert.equal(bad.code, Code.InvalidArgument);
    assert.match(bad.rawMessage, /task_id/);
    assert.equal((await refusal(recurrence.skipOccurrence({ taskId: task!.id }))).code, Code.Unauthenticated);
  });
});
