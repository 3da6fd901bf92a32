// Input that used to reach a 500 (issue 13, items 4 and 5), through the real gateway: each is now
// INVALID_ARGUMENT naming the field, or comes back as it was stored.
import { beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { JsonValue } from "@bufbuild/protobuf";
import { parsePath, pathToString } from "@bufbuild/protobuf/reflect";
import { pathFromViolationProto } from "@bufbuild/protovalidate";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import { CreateTaskRequestSchema, UpdateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { meshUnderTest, type TestMesh } from "./fixtures.js";
import { expectCode, violatedFields } from "@taskmesh/testing/connect";

describe("input that used to reach a 500", () => {
  let alice: Awaited<ReturnType<TestMesh["user"]>>;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${mesh.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** The fields a Connect JSON error's violations name, decoded from its details as a client does. */
  const violatedFieldsOf = (body: Record<string, unknown>) => violatedFields(errorFromJson(body as JsonValue, undefined, new ConnectError("not a Connect error")));

  const mesh = meshUnderTest();
  beforeAll(async () => {
    alice = await mesh.user("alice");
  });

  test("a NUL character in displayName, a token name or a sign-in e-mail is INVALID_ARGUMENT on that field", async () => {
    let err = await expectCode(mesh.auth.signUp({ email: "nul@example.com", password: "long enough secret", displayName: "a\u0000b" }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["display_name"]);
    err = await expectCode(mesh.auth.signIn({ email: "ali\u0000ce@example.com", password: "whatever" }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["email"]);
    err = await expectCode(mesh.auth.createApiToken({ name: "laptop\u0000" }, { headers: alice.headers }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["name"]);
    err = await expectCode(mesh.auth.updateAccount({ displayName: "\u0000", updateMask: ["display_name"] }, { headers: alice.headers }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["display_name"]);
    err = await expectCode(mesh.taskClient.listTasks({ query: "tag:\u0000" }, { headers: alice.headers }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["query"]);
  });

  test("a due date whose day starts before year 1 in the task's zone is INVALID_ARGUMENT on due_date", async () => {
    const err = await expectCode(mesh.taskClient.createTask({ title: "Old", due: { case: "dueDate", value: "0001-01-01" }, timeZone: "Asia/Tokyo" }, { headers: alice.headers }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["due_date"]);
    const { task } = await mesh.taskClient.createTask({ title: "Old but fine", due: { case: "dueDate", value: "0001-01-01" }, timeZone: "UTC" }, { headers: alice.headers });
    assert.equal(task!.due.value, "0001-01-01");
  });

  test("a due time in years 0001–0099 comes back as stored, not as 19xx", async () => {
    for (const iso of ["0050-06-01T10:00:00.000Z", "0001-01-01T00:00:00.000Z", "0099-12-31T23:59:59.000Z"]) {
      const { task } = await mesh.taskClient.createTask({ title: `Due ${iso}`, due: { case: "dueTime", value: timestampFromDate(new Date(iso)) }, timeZone: "UTC" }, { headers: alice.headers });
      assert.equal(timestampDate(task!.due.value as never).toISOString(), iso, "as created");
      const { task: read } = await mesh.taskClient.getTask({ id: task!.id }, { headers: alice.headers });
      assert.equal(timestampDate(read!.due.value as never).toISOString(), iso, "as read back");
    }
  });

  test("an unknown enum name is INVALID_ARGUMENT, not PRIORITY_NONE with a 200", async () => {
    const res = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: "Urgent?", priority: "PRIORITY_URGENT" }, alice.headers);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, "invalid_argument");
    assert.match(String(res.body.message), /^priority: "PRIORITY_URGENT" is not a taskmesh\.tasks\.v1\.Priority value/);
    const details = res.body.details as { type: string }[];
    assert.equal(details[0]!.type, "buf.validate.Violations");
    const nested = await post("/taskmesh.tasks.v1.TaskService/UpdateTask", { task: { id: "00000000-0000-4000-8000-000000000000", priority: "URGENT" }, updateMask: "priority" }, alice.headers);
    assert.equal(nested.status, 400);
    assert.match(String(nested.body.message), /^task\.priority: "URGENT"/);
    const unknownKey = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: "x", colour: "red" }, alice.headers);
    assert.equal(unknownKey.status, 400);
    assert.match(String(unknownKey.body.message), /^colour: /);
    const ok = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: "High", priority: "PRIORITY_HIGH" }, alice.headers);
    assert.equal(ok.status, 200);
  });

  test("a value of the wrong JSON type, or a timestamp, duration or field mask that is none, is INVALID_ARGUMENT on that field, saying what to send", async () => {
    const violation = async (path: string, body: unknown) => {
      const res = await post(path, body, alice.headers);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, "invalid_argument");
      return { field: violatedFieldsOf(res.body)[0], message: String(res.body.message) };
    };
    const create = "/taskmesh.tasks.v1.TaskService/CreateTask";
    let v = await violation(create, { title: "Call", dueTime: "tomorrow" });
    assert.equal(v.field, "due_time");
    assert.match(v.message, /^due_time: must be a date and time that exist, in RFC 3339 .*"2027-01-31T09:00:00Z", got "tomorrow"$/);
    v = await violation(create, { title: "Call", reminders: [{ beforeDue: "3600s" }, { beforeDue: "1h" }] });
    assert.equal(v.field, "reminders[1].before_due");
    assert.match(v.message, /"3600s" for an hour, got "1h"$/);
    v = await violation(create, { title: 5 });
    assert.deepEqual(v, { field: "title", message: "title: expected string, got 5" });
    v = await violation(create, { title: "Call", tags: ["home", 5] });
    assert.equal(v.field, "tags[1]");
    v = await violation("/taskmesh.tasks.v1.TaskService/UpdateTask", { task: { id: "00000000-0000-4000-8000-000000000000", title: "x" }, updateMask: ["title"] });
    assert.equal(v.field, "update_mask");
    assert.match(v.message, /comma-separated field names .*, got an array$/);
    v = await violation("/taskmesh.tasks.v1.TaskService/ListTasks", { pageSize: "fifty" });
    assert.equal(v.field, "page_size");
  });

  test("a violation's field path has each field's number and type and a list index as its subscript, as protovalidate writes it", async () => {
    const paths = (err: ConnectError, schema: Parameters<typeof pathFromViolationProto>[0]) =>
      err.findDetails(ViolationsSchema).flatMap((d) => d.violations.map((v) => ({ text: pathToString(pathFromViolationProto(schema, v.field!)), elements: v.field!.elements })));
    // A service's own check (a reminder before a due the task lacks), through the gateway.
    let err = await expectCode(
      mesh.taskClient.createTask(
        { title: "No due", reminders: [{ trigger: { case: "absoluteTime", value: timestampFromDate(new Date()) } }, { trigger: { case: "beforeDue", value: { seconds: 600n } } }] },
        { headers: alice.headers },
      ),
      Code.InvalidArgument,
    );
    const [reminder] = paths(err, CreateTaskRequestSchema);
    assert.equal(reminder?.text, "reminders[1].before_due");
    assert.deepEqual(
      reminder?.elements.map((e) => [e.fieldName, e.fieldNumber, e.subscript.case, e.subscript.value]),
      [
        ["reminders", 9, "index", 1n],
        ["before_due", 3, undefined, undefined],
      ],
    );
    // The merged task of an update, checked by protovalidate under the request's `task`.
    const { task } = await mesh.taskClient.createTask({ title: "Named" }, { headers: alice.headers });
    err = await expectCode(
      mesh.taskClient.updateTask({ task: { id: task!.id, title: " " }, updateMask: { paths: ["title"] }, expectedVersion: task!.version }, { headers: alice.headers }),
      Code.InvalidArgument,
    );
    assert.deepEqual(
      paths(err, UpdateTaskRequestSchema).map((p) => [p.text, p.elements.map((e) => e.fieldNumber)]),
      [["task.title", [1, 2]]],
    );
    // A JSON body that does not decode.
    const res = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: "Call", reminders: [{ beforeDue: "3600s" }, { beforeDue: "1h" }] }, alice.headers);
    err = errorFromJson(res.body as JsonValue, undefined, new ConnectError("not a Connect error"));
    assert.deepEqual(
      paths(err, CreateTaskRequestSchema).map((p) => p.text),
      [pathToString(parsePath(CreateTaskRequestSchema, "reminders[1].before_due"))],
    );
  });

  test("a due time on a day or at an hour that does not exist is INVALID_ARGUMENT, not moved to the next one", async () => {
    for (const dueTime of ["2027-02-30T09:00:00Z", "2027-02-29T09:00:00Z", "2027-04-31T09:00:00Z", "2027-01-31T24:00:00Z", "2027-01-31T23:60:00Z"]) {
      const res = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: `Due ${dueTime}`, dueTime }, alice.headers);
      assert.equal(res.status, 400, `${dueTime}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(violatedFieldsOf(res.body), ["due_time"]);
    }
    const leapDay = await post("/taskmesh.tasks.v1.TaskService/CreateTask", { title: "Leap day", dueTime: "2028-02-29T09:00:00Z" }, alice.headers);
    assert.equal(leapDay.status, 200);
    assert.equal((leapDay.body.task as { dueTime: string }).dueTime, "2028-02-29T09:00:00Z");
  });

  test("a page size above the maximum is read as the maximum, as AIP-158 says, not refused", async () => {
    const user = await mesh.user("pages");
    const titles = Array.from({ length: 501 }, (_, i) => `Page item ${i}`);
    for (let i = 0; i < titles.length; i += 50) {
      await Promise.all(titles.slice(i, i + 50).map((title) => mesh.taskClient.createTask({ title }, { headers: user.headers })));
    }
    const first = await mesh.taskClient.listTasks({ pageSize: 100_000, orderBy: "created" }, { headers: user.headers });
    assert.equal(first.tasks.length, 500);
    assert.ok(first.nextPageToken);
    const rest = await mesh.taskClient.listTasks({ pageSize: 100_000, orderBy: "created", pageToken: first.nextPageToken }, { headers: user.headers });
    assert.equal(rest.tasks.length, 1);
    assert.equal(rest.nextPageToken, "");
    const err = await expectCode(mesh.taskClient.listTasks({ pageSize: -1 }, { headers: user.headers }), Code.InvalidArgument);
    assert.deepEqual(violatedFields(err), ["page_size"]);
  });

  test("page tokens are signed: a crafted one is INVALID_ARGUMENT on page_token", async () => {
    for (let i = 0; i < 3; i++) await mesh.taskClient.createTask({ title: `Page ${i}` }, { headers: alice.headers });
    const first = await mesh.taskClient.listTasks({ pageSize: 1, orderBy: "created" }, { headers: alice.headers });
    assert.ok(first.nextPageToken);
    const [payload, signature] = first.nextPageToken.split(".");
    const decoded = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as { f: string; v: unknown[] };
    decoded.v[0] = "not a timestamp";
    const forgedPayload = Buffer.from(JSON.stringify(decoded)).toString("base64url");
    for (const token of [`${forgedPayload}.${signature}`, forgedPayload, `${payload}.AAAAAAAAAAAAAAAAAAAAAA`]) {
      const err = await expectCode(mesh.taskClient.listTasks({ pageSize: 1, orderBy: "created", pageToken: token }, { headers: alice.headers }), Code.InvalidArgument);
      assert.deepEqual(violatedFields(err), ["page_token"]);
    }
    const second = await mesh.taskClient.listTasks({ pageSize: 1, orderBy: "created", pageToken: first.nextPageToken }, { headers: alice.headers });
    assert.equal(second.tasks.length, 1, "the genuine token still pages");
  });

  test("a preview that runs past 9999 stops there instead of failing to encode", async () => {
    const res = await post(
      "/taskmesh.recurrence.v1.RecurrenceService/PreviewOccurrences",
      { recurrence: { rrule: "FREQ=HOURLY;INTERVAL=999;BYMONTH=2;BYMONTHDAY=29" }, startTime: "2026-01-01T00:00:00Z", timeZone: "UTC", count: 100 },
      alice.headers,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test("a timestamp beyond 9999 sent in binary is INVALID_ARGUMENT naming it", async () => {
    const err = await expectCode(
      mesh.taskClient.createTask({ title: "Far", due: { case: "dueTime", value: { seconds: 10n ** 15n, nanos: 0 } as never } }, { headers: alice.headers }),
      Code.InvalidArgument,
    );
    assert.deepEqual(violatedFields(err), ["due_time"]);
  });
});
