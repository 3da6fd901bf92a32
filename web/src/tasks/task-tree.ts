import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

/** A row of the task list: the task, how deep it sits, and whether it has subtasks in the list. */
export interface TreeRow {
  task: Task;
  depth: number;
  /** How many of its subtasks (at any depth) the list holds. */
  subtasks: number;
}

/**
 * The list's tasks with each subtask right under its parent, siblings in list order. A subtask
 * whose parent is not in the list (filtered out, on a later page) stands at the top level; the
 * subtasks of a task in `collapsed` are left out.
 */
export function taskTree(tasks: readonly Task[], collapsed: ReadonlySet<string>): TreeRow[] {
  const ids = new Set(tasks.map((t) => t.id));
  const children = new Map<string, Task[]>();
  for (const t of tasks) {
    if (t.parentId && ids.has(t.parentId)) children.set(t.parentId, [...(children.get(t.parentId) ?? []), t]);
  }
  const rows: TreeRow[] = [];
  const count = (id: string, seen = new Set<string>()): number =>
    (children.get(id) ?? []).reduce((n, c) => {
      if (seen.has(c.id)) return n;
      seen.add(c.id);
      return n + 1 + count(c.id, seen);
    }, 0);
  // Parent links come from the server and cannot loop, but a list merged from pages read before
  // and after a move could hold a stale one: every task is reached once, and one that no top-level
  // task reaches is shown at the top level after them.
  const reached = new Set<string>();
  const visit = (task: Task, depth: number, shown: boolean) => {
    if (reached.has(task.id)) return;
    reached.add(task.id);
    if (shown) rows.push({ task, depth, subtasks: count(task.id) });
    for (const child of children.get(task.id) ?? []) visit(child, depth + 1, shown && !collapsed.has(task.id));
  };
  for (const t of tasks) if (!t.parentId || !ids.has(t.parentId)) visit(t, 0, true);
  for (const t of tasks) visit(t, 0, true);
  return rows;
}

/**
 * Where dropping the task `activeId` on the row of `overId` puts it (MoveTaskRequest.place):
 * after that task when dragged down, before it when dragged up. Undefined when the two are not
 * siblings (subtasks of one parent, or top-level tasks of one project and section): a drag
 * reorders, it does not re-parent.
 */
export function dropPlace(rows: readonly TreeRow[], activeId: string, overId: string): { case: "beforeId" | "afterId"; value: string } | undefined {
  const from = rows.findIndex((r) => r.task.id === activeId);
  const to = rows.findIndex((r) => r.task.id === overId);
  if (from < 0 || to < 0 || from === to) return undefined;
  const [moving, target] = [rows[from]!.task, rows[to]!.task];
  const siblings = moving.parentId || target.parentId ? moving.parentId === target.parentId : moving.projectId === target.projectId && moving.sectionId === target.sectionId;
  if (!siblings) return undefined;
  return { case: from < to ? "afterId" : "beforeId", value: target.id };
}
