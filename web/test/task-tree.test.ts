// The list's tree: subtasks under their parents in list order, orphans at the top, folds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { taskTree } from "../src/tasks/task-tree.js";

const task = (id: string, parentId = "") => create(TaskSchema, { id, title: id, parentId });

test("subtasks follow their parent at any depth; a subtask whose parent is not listed stands at the top", () => {
  const tasks = [task("d", "c"), task("a"), task("c", "b"), task("x", "missing"), task("b", "a"), task("e", "a")];
  assert.deepEqual(
    taskTree(tasks, new Set()).map((r) => [r.task.id, r.depth, r.subtasks]),
    [["a", 0, 4], ["b", 1, 2], ["c", 2, 1], ["d", 3, 0], ["e", 1, 0], ["x", 0, 0]],
  );
});

test("a folded task hides its subtree but still counts it", () => {
  const tasks = [task("a"), task("b", "a"), task("c", "b"), task("z")];
  assert.deepEqual(taskTree(tasks, new Set(["b"])).map((r) => [r.task.id, r.subtasks]), [["a", 2], ["b", 1], ["z", 0]]);
  assert.deepEqual(taskTree(tasks, new Set(["a"])).map((r) => r.task.id), ["a", "z"]);
});

test("parent links that loop still show every task once", () => {
  const tasks = [task("a", "b"), task("b", "a"), task("c")];
  assert.deepEqual(taskTree(tasks, new Set()).map((r) => [r.task.id, r.depth]), [["c", 0], ["a", 0], ["b", 1]]);
});
