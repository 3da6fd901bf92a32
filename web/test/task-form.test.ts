// The editor sends only what changed, and after a conflict keeps only what was edited here.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Priority, TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { formFromTask, rebaseForm, updateRequest } from "../src/tasks/task-form.js";

const task = create(TaskSchema, {
  id: "6f1c6a9e-0000-4000-8000-000000000001",
  title: "Pay rent",
  priority: Priority.HIGH,
  tags: ["home"],
  due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-01T08:00:00Z")) },
  timeZone: "Europe/Berlin",
  version: 3n,
});

test("an untouched form sends nothing; a due edited in its zone's wall clock sends both due paths", () => {
  const form = formFromTask(task, "UTC");
  assert.deepEqual([form.date, form.time], ["2026-12-01", "09:00"], "shown in the task's zone");
  assert.equal(updateRequest(task, form), undefined);
  const req = updateRequest(task, { ...form, time: "10:30", tags: "home #Bills" });
  assert.deepEqual(req?.updateMask?.paths, ["tags", "due_time", "due_date"]);
  assert.deepEqual(req?.task?.tags, ["home", "bills"]);
  assert.equal(req?.task?.due.case === "dueTime" && req.task.due.value.seconds, BigInt(Date.parse("2026-12-01T09:30:00Z") / 1000));
  assert.equal(req?.expectedVersion, 3n);
});

test("a task saved without a priority (UNSPECIFIED on the wire) shows as None and is untouched", () => {
  const plain = create(TaskSchema, { ...task, priority: Priority.UNSPECIFIED });
  const form = formFromTask(plain, "UTC");
  assert.equal(form.priority, Priority.NONE);
  // Otherwise the editor counts an edit nobody made and stops following other devices' changes.
  assert.equal(updateRequest(plain, form), undefined);
  assert.deepEqual(updateRequest(plain, { ...form, priority: Priority.LOW })?.updateMask?.paths, ["priority"]);
});

test("after a conflict, fields edited here stay and the others take the winning values", () => {
  const base = formFromTask(task, "UTC");
  const theirs = formFromTask(create(TaskSchema, { ...task, title: "Pay the rent", priority: Priority.LOW, version: 4n }), "UTC");
  const merged = rebaseForm({ ...base, title: "Pay rent today", notes: "bank transfer" }, base, theirs);
  assert.equal(merged.title, "Pay rent today");
  assert.equal(merged.notes, "bank transfer");
  assert.equal(merged.priority, Priority.LOW, "not edited here: theirs");
});
