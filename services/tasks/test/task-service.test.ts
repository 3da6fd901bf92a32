import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { timestampFromDate, timestampDate, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { freshDatabase } from "@taskmesh/testing";
import { Priority, TaskSchema, TaskStatus, RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { clone, type MessageInitShape } from "@bufbuild/protobuf";
import { type CreateTaskRequestSchema, QueryErrorSchema, TaskConflictSchema, TaskService, type WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "../src/index.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

type Tasks = Client<typeof TaskService>;

// A fixed clock makes relative-date filters exact: Wednesday 2026-03-11 10:00 UTC.
const NOW = new Date("2026-03-11T10:00:00Z");

function as(userId: string, zone = "UTC") {
  return { headers: { "x-user-id": userId, "x-time-zone": zone } };
}

let userSeq = 0;
const newUser = () => `user-${process.pid}-${++userSeq}-${Math.random().toString(36).slice(2, 8)}`;

describe("TaskService", () => {
  let client: Tasks;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const db = await freshDatabase();
    const tasks = await startTasksModule({ databaseUrl: db.url, now: () => NOW });
    const transport = createRouterTransport(tasks.routes, { router: { interceptors: [createValidateInterceptor()] } });
    client = createClient(TaskService, transport);
    stop = async () => {
      await tasks.stop();
      await db.drop();
    };
  });
  afterAll(() => stop());

  test("creates a task with defaults and reads it back", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "  Buy milk ", tags: ["Home", "errands", "home"], due: { case: "dueDate", value: "2026-03-12" }, timeZone: "Europe/Berlin" }, as(alice));
    assert.ok(task);
    assert.equal(task.title, "Buy milk");
    assert.equal(task.status, TaskStatus.OPEN);
    assert.equal(task.priority, Priority.NONE);
    assert.deepEqual(task.tags, ["home", "errands"]);
    assert.equal(task.version, 1n);
    assert.deepEqual(task.due, { case: "dueDate", value: "2026-03-12" });
    const { task: again } = await client.getTask({ id: task.id }, as(alice));
    assert.deepEqual(again, task);
  });

  test("time zone defaults to the caller's and due_time round-trips", async () => {
    const alice = newUser();
    const due = new Date("2026-03-12T08:30:00Z");
    const { task } = await client.createTask({ title: "Call", due: { case: "dueTime", value: timestampFromDate(due) } }, as(alice, "Asia/Tokyo"));
    assert.equal(task!.timeZone, "Asia/Tokyo");
    assert.equal(task!.due.case, "dueTime");
    assert.equal(timestampDate(task!.due.value as never).toISOString(), due.toISOString());
  });

  test("bad input is INVALID_ARGUMENT with the offending fields", async () => {
    const alice = newUser();
    const cases: [Parameters<Tasks["createTask"]>[0], string][] = [
      [{ title: "" }, "title"],
      [{ title: "   " }, "title"],
      [{ title: "x".repeat(501) }, "title"],
      [{ title: "ok", priority: 42 as Priority }, "priority"],
      [{ title: "ok", tags: ["no spaces allowed"] }, "tags"],
      [{ title: "ok", timeZone: "Mars/Olympus" }, "time_zone"],
      [{ title: "ok", due: { case: "dueDate", value: "2026-02-30" } }, "due_date"],
      [{ title: "ok", reminders: [{ trigger: { case: "beforeDue", value: durationFromMs(600_000) } }] }, "reminders[0].before_due"],
      [{ title: "ok", recurrence: { rrule: "FREQ=DAILY", mode: RecurrenceMode.SCHEDULE } }, "recurrence"],
      // A rule the recurrence service could not read would end the series at the first completion.
      [{ title: "ok", due: { case: "dueDate", value: "2026-12-10" }, recurrence: { rrule: "FREQ=SOMETIMES" } }, "recurrence.rrule"],
      [{ title: "ok", due: { case: "dueDate", value: "2026-12-10" }, recurrence: { rrule: "FREQ=WEEKLY;BYDAY=XX" } }, "recurrence.rrule"],
      [{ title: "ok", due: { case: "dueDate", value: "2026-12-10" }, recurrence: { rrule: "FREQ=HOURLY" } }, "recurrence.rrule"],
      // Every Tuesday, the second of them each week: a date no week has.
      [{ title: "ok", due: { case: "dueDate", value: "2026-12-10" }, recurrence: { rrule: "FREQ=WEEKLY;BYDAY=TU;BYSETPOS=2" } }, "recurrence.rrule"],
    ];
    for (const [input, field] of cases) {
      const err = await expectCode(client.createTask(input, as(alice)), Code.InvalidArgument);
      assert.ok(
        violatedFields(err).some((f) => f.startsWith(field)),
        `${JSON.stringify(input, (_, v) => (typeof v === "bigint" ? String(v) : v)).slice(0, 80)}: expected violation on ${field}, got ${violatedFields(err)}`,
      );
    }
    const { tasks } = await client.listTasks({}, as(alice));
    assert.equal(tasks.length, 0, "nothing was written by rejected requests");
  });

  test("a repeated request_id creates the task once", async () => {
    const alice = newUser();
    const results = await Promise.all(Array.from({ length: 10 }, () => client.createTask({ title: "Once", requestId: "req-1" }, as(alice))));
    assert.equal(new Set(results.map((r) => r.task!.id)).size, 1);
    const { tasks } = await client.listTasks({}, as(alice));
    assert.equal(tasks.length, 1);
  });

  test("a request_id maps to the same task id for its user only", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const a1 = (await client.createTask({ title: "A", requestId: "same" }, as(alice))).task!;
    const a2 = (await client.createTask({ title: "A again", requestId: "same" }, as(alice))).task!;
    const b = (await client.createTask({ title: "B", requestId: "same" }, as(bob))).task!;
    assert.equal(a2.id, a1.id);
    assert.equal(a2.title, "A", "a retry returns the first task, unchanged");
    assert.notEqual(b.id, a1.id);
  });

  test("a recurring task starts a series from its due; an occurrence continues it", async () => {
    const alice = newUser();
    const first = (await client.createTask({ title: "Rent", due: { case: "dueDate", value: "2027-01-31" }, timeZone: "Europe/Berlin", recurrence: { rrule: "FREQ=MONTHLY" } }, as(alice))).task!;
    assert.equal(first.seriesId, first.id);
    assert.deepEqual(first.recurrence?.start, { case: "startDate", value: "2027-01-31" });
    assert.equal(first.recurrence?.occurrence, 1);
    const next = (
      await client.createTask(
        {
          title: "Rent",
          due: { case: "dueDate", value: "2027-02-28" },
          timeZone: "Europe/Berlin",
          recurrence: { ...first.recurrence!, occurrence: 2, exdates: ["2027-04-30"] },
          seriesId: first.seriesId,
          requestId: `next:${first.id}`,
        },
        as(alice),
      )
    ).task!;
    assert.equal(next.seriesId, first.id);
    assert.deepEqual(next.recurrence?.start, { case: "startDate", value: "2027-01-31" }, "DTSTART stays the series'");
    assert.equal(next.recurrence?.occurrence, 2);
    assert.deepEqual(next.recurrence?.exdates, ["2027-04-30"]);
    const plain = (await client.createTask({ title: "Once" }, as(alice))).task!;
    assert.equal(plain.seriesId, "");
  });

  test("calls without identity are UNAUTHENTICATED", async () => {
    await expectCode(client.listTasks({}), Code.Unauthenticated);
    await expectCode(client.createTask({ title: "x" }, { headers: { "x-user-id": "bad id with spaces" } }), Code.Unauthenticated);
  });

  test("user B never sees or changes user A's tasks", async () => {
    const alice = newUser();
    const bob = newUser();
    const { task } = await client.createTask({ title: "Alice's secret", tags: ["private"] }, as(alice));
    const id = task!.id;
    await expectCode(client.getTask({ id }, as(bob)), Code.NotFound);
    await expectCode(client.updateTask({ task: { id, title: "pwned" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(bob)), Code.NotFound);
    await expectCode(client.completeTask({ id }, as(bob)), Code.NotFound);
    await expectCode(client.reopenTask({ id }, as(bob)), Code.NotFound);
    await expectCode(client.deleteTask({ id }, as(bob)), Code.NotFound);
    assert.equal((await client.listTasks({ query: "secret" }, as(bob))).tasks.length, 0);
    assert.equal((await client.listTags({}, as(bob))).tags.length, 0);
    const { task: still } = await client.getTask({ id }, as(alice));
    assert.equal(still!.title, "Alice's secret");
    assert.equal(still!.version, 1n);
  });

  test("update changes only masked fields and bumps the version", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Draft", notes: "keep me", priority: Priority.LOW }, as(alice));
    const { task: updated } = await client.updateTask(
      { task: { id: task!.id, priority: Priority.HIGH, notes: "ignored: not in mask" }, updateMask: { paths: ["priority"] }, expectedVersion: 1n },
      as(alice),
    );
    assert.equal(updated!.priority, Priority.HIGH);
    assert.equal(updated!.notes, "keep me");
    assert.equal(updated!.version, 2n);
  });

  test("edits of different fields from the same version merge; the same field is ABORTED with the current task", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Plan trip", priority: Priority.LOW }, as(alice));
    const id = task!.id;
    // Phone and laptop both start from version 1.
    await client.updateTask({ task: { id, title: "Plan trip to Rome" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice));
    const { task: merged } = await client.updateTask({ task: { id, priority: Priority.HIGH }, updateMask: { paths: ["priority"] }, expectedVersion: 1n }, as(alice));
    assert.equal(merged!.title, "Plan trip to Rome");
    assert.equal(merged!.priority, Priority.HIGH);
    assert.equal(merged!.version, 3n);

    const err = await expectCode(client.updateTask({ task: { id, title: "Plan trip to Paris" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice)), Code.Aborted);
    const [detail] = err.findDetails(TaskConflictSchema);
    assert.deepEqual(detail?.conflictingFields, ["title"]);
    assert.equal(detail?.current?.title, "Plan trip to Rome");
    assert.equal(detail?.current?.version, 3n);
    // From the current version the same edit goes through.
    const { task: ok } = await client.updateTask({ task: { id, title: "Plan trip to Paris" }, updateMask: { paths: ["title"] }, expectedVersion: 3n }, as(alice));
    assert.equal(ok!.title, "Plan trip to Paris");
  });

  test("concurrent edits of one field from one version: exactly one wins", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Race" }, as(alice));
    const id = task!.id;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => client.updateTask({ task: { id, title: `Race ${i}` }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice))),
    );
    assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
    for (const o of outcomes) if (o.status === "rejected") assert.equal(ConnectError.from(o.reason).code, Code.Aborted);
    const { task: final } = await client.getTask({ id }, as(alice));
    assert.equal(final!.version, 2n);
  });

  test("update validates the merged task and the mask", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Valid" }, as(alice));
    const id = task!.id;
    let err = await expectCode(client.updateTask({ task: { id, title: "" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice)), Code.InvalidArgument);
    assert.deepEqual(new Set(violatedFields(err)), new Set(["task.title"]));
    err = await expectCode(client.updateTask({ task: { id }, updateMask: { paths: ["status"] }, expectedVersion: 1n }, as(alice)), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["update_mask"]);
    err = await expectCode(client.updateTask({ task: { id }, updateMask: { paths: [] }, expectedVersion: 1n }, as(alice)), Code.InvalidArgument);
    await expectCode(client.updateTask({ task: { id, title: "x" }, updateMask: { paths: ["title"] }, expectedVersion: 7n }, as(alice)), Code.FailedPrecondition);
    const { task: unchanged } = await client.getTask({ id }, as(alice));
    assert.equal(unchanged!.title, "Valid");
    const dated = (await client.createTask({ title: "Dated", due: { case: "dueDate", value: "2026-12-10" } }, as(alice))).task!;
    err = await expectCode(
      client.updateTask({ task: { id: dated.id, recurrence: { rrule: "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=0" } }, updateMask: { paths: ["recurrence"] }, expectedVersion: dated.version }, as(alice)),
      Code.InvalidArgument,
    );
    assert.deepEqual(violatedFields(err), ["task.recurrence.rrule"]);
  });

  test('update_mask "*" replaces every updatable field (AIP-134): the task as read, changed, and sent back', async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Whole", notes: "keep me", tags: ["home"], priority: 3, due: { case: "dueDate", value: "2030-01-02" } }, as(alice));
    const edited = clone(TaskSchema, task!);
    edited.title = "Whole, edited";
    const { task: after } = await client.updateTask({ task: edited, updateMask: { paths: ["*"] }, expectedVersion: task!.version }, as(alice));
    assert.deepEqual([after!.title, after!.notes, after!.tags, after!.priority, after!.due], ["Whole, edited", "keep me", ["home"], 3, { case: "dueDate", value: "2030-01-02" }]);
    assert.equal(after!.version, task!.version + 1n);
    // Fields left out of a full replacement are cleared, as the mask says.
    const { task: bare } = await client.updateTask({ task: { id: task!.id, title: "Bare", projectId: task!.projectId }, updateMask: { paths: ["*"] }, expectedVersion: after!.version }, as(alice));
    assert.deepEqual([bare!.title, bare!.notes, bare!.tags, bare!.due.case], ["Bare", "", [], undefined]);
    const err = await expectCode(client.updateTask({ task: { id: task!.id, title: "x" }, updateMask: { paths: ["*", "title"] }, expectedVersion: bare!.version }, as(alice)), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["update_mask"]);
    assert.match(err.rawMessage, /"\*" stands alone/);
  });

  test("complete and reopen", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Finish report" }, as(alice));
    const id = task!.id;
    const { task: done } = await client.completeTask({ id }, as(alice));
    assert.equal(done!.status, TaskStatus.COMPLETED);
    assert.equal(timestampDate(done!.completeTime!).toISOString(), NOW.toISOString());
    const { task: again } = await client.completeTask({ id }, as(alice));
    assert.equal(again!.version, done!.version, "completing twice changes nothing");
    await expectCode(client.reopenTask({ id, expectedVersion: 1n }, as(alice)), Code.Aborted);
    const { task: open } = await client.reopenTask({ id }, as(alice));
    assert.equal(open!.status, TaskStatus.OPEN);
    assert.equal(open!.completeTime, undefined);
    // A title edit from before the completion does not conflict with it.
    const { task: renamed } = await client.updateTask({ task: { id, title: "Finish the report" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice));
    assert.equal(renamed!.status, TaskStatus.OPEN);
  });

  test("delete", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "Temporary" }, as(alice));
    await client.deleteTask({ id: task!.id }, as(alice));
    await expectCode(client.getTask({ id: task!.id }, as(alice)), Code.NotFound);
    await expectCode(client.deleteTask({ id: task!.id }, as(alice)), Code.NotFound);
    await expectCode(client.getTask({ id: "not-a-uuid" }, as(alice)), Code.InvalidArgument);
  });

  test("filters: text, partial words, tags, priority, status, due", async () => {
    const alice = newUser();
    const make = (title: string, extra: Omit<MessageInitShape<typeof CreateTaskRequestSchema>, "title" | "$typeName"> = {}) => client.createTask({ ...extra, title }, as(alice)).then((r) => r.task!);
    const groceries = await make("Buy groceries", { tags: ["home"], priority: Priority.HIGH, due: { case: "dueTime", value: timestampFromDate(new Date("2026-03-11T18:00:00Z")) } });
    const taxes = await make("File taxes", { notes: "ask the accountant", tags: ["finance"], priority: Priority.MEDIUM, due: { case: "dueDate", value: "2026-03-15" } });
    const overdue = await make("Renew passport", { tags: ["admin"], due: { case: "dueDate", value: "2026-03-01" } });
    const someday = await make("Learn the cello", { tags: ["home", "music"] });
    await client.completeTask({ id: someday.id }, as(alice));

    const ids = async (query: string, orderBy = "") => (await client.listTasks({ query, orderBy }, as(alice))).tasks.map((t) => t.id);
    assert.deepEqual(await ids("groc"), [groceries.id], "partial word");
    assert.deepEqual(await ids("accountant"), [taxes.id], "notes are searched");
    assert.deepEqual(await ids("tag:home", "title"), [groceries.id, someday.id]);
    assert.deepEqual(await ids("tag:home status:open"), [groceries.id]);
    assert.deepEqual(await ids("priority>=medium", "priority"), [groceries.id, taxes.id]);
    assert.deepEqual(await ids("due:today"), [groceries.id]);
    assert.deepEqual(await ids("due:overdue"), [overdue.id]);
    assert.deepEqual(await ids("due:next-7-days"), [groceries.id, taxes.id]);
    assert.deepEqual(await ids("due:none"), [someday.id]);
    assert.deepEqual(await ids("(tag:admin OR tag:finance) AND NOT taxes", "title"), [overdue.id]);
    assert.deepEqual(await ids("", "due"), [overdue.id, groceries.id, taxes.id, someday.id], "no due sorts last");
    assert.deepEqual(await ids("", "due desc"), [taxes.id, groceries.id, overdue.id, someday.id], "no due sorts last, descending too");
  });

  test("malformed queries and orders point at the problem", async () => {
    const alice = newUser();
    let err = await expectCode(client.listTasks({ query: "tag:home AND (priority:high" }, as(alice)), Code.InvalidArgument);
    const [detail] = err.findDetails(QueryErrorSchema);
    assert.ok(detail, "QueryError detail");
    assert.ok(detail.position >= 13 && detail.position <= 27, `position ${detail.position}`);
    assert.deepEqual(violatedFields(err), ["query"]);
    err = await expectCode(client.listTasks({ query: "priority:urgent" }, as(alice)), Code.InvalidArgument);
    assert.match(err.message, /high/);
    for (const orderBy of ["colour", "constructor", "__proto__ desc"]) {
      err = await expectCode(client.listTasks({ orderBy }, as(alice)), Code.InvalidArgument);
      assert.deepEqual(violatedFields(err), ["order_by"], orderBy);
    }
    // Names of Object's prototype are no field of the query language either.
    err = await expectCode(client.listTasks({ query: "due:constructor" }, as(alice)), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["query"]);
    err = await expectCode(client.listTasks({ pageToken: "garbage!" }, as(alice)), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["page_token"]);
  });

  test("explain says how the query was understood", async () => {
    const { explanation } = await client.listTasks({ query: "#home !high due:today", explain: true }, as(newUser()));
    assert.ok(explanation);
    assert.match(explanation.normalizedQuery, /tag:home/);
    assert.ok(explanation.summary.length > 0);
  });

  test("keyset paging returns every task exactly once, in order, under every order", async () => {
    const alice = newUser();
    for (let i = 0; i < 23; i++) {
      const due = i % 3 === 0 ? undefined : `2026-04-${String((i % 9) + 1).padStart(2, "0")}`;
      await client.createTask({ title: `Task ${String(i).padStart(2, "0")}`, priority: (i % 4) + 1, due: due ? { case: "dueDate", value: due } : { case: undefined } }, as(alice));
    }
    for (const orderBy of ["due", "due desc", "priority", "priority asc", "created", "updated asc", "title", "title desc"]) {
      const all = (await client.listTasks({ orderBy, pageSize: 500 }, as(alice))).tasks.map((t) => t.id);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const page = await client.listTasks({ orderBy, pageSize: 5, pageToken }, as(alice));
        paged.push(...page.tasks.map((t) => t.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      assert.equal(all.length, 23);
      assert.deepEqual(paged, all, `order ${orderBy}`);
    }
    const first = await client.listTasks({ orderBy: "title", pageSize: 5 }, as(alice));
    await expectCode(client.listTasks({ orderBy: "due", pageSize: 5, pageToken: first.nextPageToken }, as(alice)), Code.InvalidArgument);
  });

  test("ListTags counts open and all tasks per tag", async () => {
    const alice = newUser();
    await client.createTask({ title: "a", tags: ["home", "garden"] }, as(alice));
    const { task } = await client.createTask({ title: "b", tags: ["home"] }, as(alice));
    await client.completeTask({ id: task!.id }, as(alice));
    const { tags } = await client.listTags({}, as(alice));
    assert.deepEqual(
      tags.map((t) => [t.name, t.openTaskCount, t.taskCount]),
      [
        ["garden", 1, 1],
        ["home", 1, 2],
      ],
    );
  });

  test("WatchTasks streams live changes, resumes from a cursor, and asks to resync when lost", async () => {
    const alice = newUser();
    const bob = newUser();
    const abort = new AbortController();
    const stream = client.watchTasks({}, { ...as(alice), signal: abort.signal })[Symbol.asyncIterator]();
    const next = async (): Promise<WatchTasksResponse> => {
      const r = await stream.next();
      assert.ok(!r.done, "stream ended early");
      return r.value;
    };
    assert.equal((await next()).change.case, "caughtUp");
    await client.createTask({ title: "bob's" }, as(bob));
    const { task } = await client.createTask({ title: "live" }, as(alice));
    const created = await next();
    assert.equal(created.change.case, "upserted");
    assert.equal((created.change.value as { id: string }).id, task!.id, "only alice's change, not bob's");
    abort.abort();

    // While disconnected: an update and a delete.
    await client.updateTask({ task: { id: task!.id, title: "live 2" }, updateMask: { paths: ["title"] }, expectedVersion: 1n }, as(alice));
    await client.deleteTask({ id: task!.id }, as(alice));
    const missed: WatchTasksResponse[] = [];
    const resume = new AbortController();
    for await (const msg of client.watchTasks({ cursor: created.cursor }, { ...as(alice), signal: resume.signal })) {
      missed.push(msg);
      if (msg.change.case === "caughtUp") break;
    }
    assert.deepEqual(
      missed.map((m) => m.change.case),
      ["upserted", "deletedTaskId", "caughtUp"],
    );
    assert.equal((missed[0]!.change.value as { title: string }).title, "live 2");

    const [resync] = await take(client.watchTasks({ cursor: "999999999999" }, as(alice)), 1);
    assert.equal(resync!.change.case, "resyncRequired");
    await expectCode(take(client.watchTasks({ cursor: "abc" }, as(alice)), 1), Code.InvalidArgument);
  });

  test("WatchTasks catches up in commit order across digit boundaries of the cursor (9 → 10, 99 → 100), and can end there", async () => {
    const alice = newUser();
    const { task } = await client.createTask({ title: "v1" }, as(alice));
    const [start] = await take(client.watchTasks({}, as(alice)), 1);
    // Enough changes that the cursors pass a power of ten whatever the feed held before.
    const cursor = BigInt(start!.cursor);
    const digits = (n: bigint) => n.toString().length;
    let version = 1n;
    do {
      await client.updateTask({ task: { id: task!.id, title: `v${++version}` }, updateMask: { paths: ["title"] }, expectedVersion: version - 1n }, as(alice));
    } while (digits(cursor + version) === digits(cursor) || version < 12n);
    const seen: string[] = [];
    // untilCaughtUp: the stream ends by itself after caughtUp (the signal only bounds a hang).
    for await (const msg of client.watchTasks({ cursor: start!.cursor, untilCaughtUp: true }, { ...as(alice), signal: AbortSignal.timeout(10_000) })) {
      seen.push(msg.change.case === "caughtUp" ? "caught up" : (msg.change.value as { title: string }).title);
    }
    assert.deepEqual(seen, [...Array.from({ length: Number(version) - 1 }, (_, i) => `v${i + 2}`), "caught up"]);
  });
});

async function take<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}
