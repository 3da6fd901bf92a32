// The list's tree: subtasks under their parents in list order, orphans at the top, folds.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { dropPlace, taskTree } from "../src/tasks/task-tree.js";

const task = (id: string, parentId = "") => create(TaskSchema, { id, title: id, parentId });

test("subtasks follow their parent at any depth; a subtask whose parent is not listed stands at the top", () => {
  const tasks = [task("d", "c"), task("a"), task("c", "b"), task("x", "missing"), task("b", "a"), task("e", "a")];
  assert.deepEqual(
    taskTree(tasks, new Set()).map((r) => [r.task.id, r.depth, r.subtasks]),
    [
      ["a", 0, 4],
      ["b", 1, 2],
      ["c", 2, 1],
      ["d", 3, 0],
      ["e", 1, 0],
      ["x", 0, 0],
    ],
  );
});

test("a folded task hides its subtree but still counts it", () => {
  const tasks = [task("a"), task("b", "a"), task("c", "b"), task("z")];
  assert.deepEqual(
    taskTree(tasks, new Set(["b"])).map((r) => [r.task.id, r.subtasks]),
    [
      ["a", 2],
      ["b", 1],
      ["z", 0],
    ],
  );
  assert.deepEqual(
    taskTree(tasks, new Set(["a"])).map((r) => r.task.id),
    ["a", "z"],
  );
});

test("parent links that loop still show every task once", () => {
  const tasks = [task("a", "b"), task("b", "a"), task("c")];
  assert.deepEqual(
    taskTree(tasks, new Set()).map((r) => [r.task.id, r.depth]),
    [
      ["c", 0],
      ["a", 0],
      ["b", 1],
    ],
  );
});

test("a drop lands after the task dragged down onto, before the one dragged up onto, and only among siblings", () => {
  const rows = taskTree([task("a"), task("a1", "a"), task("a2", "a"), task("b"), task("c")], new Set());
  assert.deepEqual(dropPlace(rows, "a", "c"), { case: "afterId", value: "c" });
  assert.deepEqual(dropPlace(rows, "c", "a"), { case: "beforeId", value: "a" });
  assert.deepEqual(dropPlace(rows, "a2", "a1"), { case: "beforeId", value: "a1" });
  assert.equal(dropPlace(rows, "a1", "b"), undefined, "a subtask onto a top-level task");
  assert.equal(dropPlace(rows, "b", "a2"), undefined, "a top-level task onto a subtask");
  assert.equal(dropPlace(rows, "b", "b"), undefined);
});
