import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type Announcements } from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, verticalListSortingStrategy } from "@dnd-kit/sortable";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useState } from "react";
import { LoadMore } from "../ui/load-more.js";
import { TaskRow } from "./task-row.js";
import { dropPlace, taskTree } from "./task-tree.js";

interface Props {
  tasks: Task[];
  /** The list no longer matches the filter box: "filter" when the filter has a mistake, "load" when it could not be loaded. */
  stale?: "filter" | "load" | undefined;
  /** Takes the user to the filter box and its mistake. */
  onFixFilter?(): void;
  selectedId?: string;
  /** Tasks with changes queued offline, not yet sent. */
  pendingIds?: ReadonlySet<string>;
  onSelect(task: Task): void;
  onOpen(task: Task): void;
  onToggle(task: Task): void;
  /** Given in manual order: each row gets a handle to drag it (or move it by keyboard) among its siblings. */
  onMove?(task: Task, place: { case: "beforeId" | "afterId"; value: string }): void;
  loading: boolean;
  hasMore: boolean;
  onMore(): void;
}

export function TaskList({ tasks, stale, onFixFilter, selectedId, pendingIds, onSelect, onOpen, onToggle, onMove, loading, hasMore, onMore }: Props) {
  // A few pixels of travel before a drag starts, so that a click on the handle stays a click.
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const toggleCollapsed = (id: string) =>
    setCollapsed((before) => {
      const next = new Set(before);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const rows = taskTree(tasks, collapsed);
  const titleOf = (id: string | number | undefined) => tasks.find((t) => t.id === id)?.title ?? "the task";
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${titleOf(active.id)}.`,
    onDragOver: ({ active, over }) => (over ? `${titleOf(active.id)} is over ${titleOf(over.id)}.` : `${titleOf(active.id)} is not over a task.`),
    onDragEnd: ({ active, over }) => {
      if (!over || over.id === active.id) return `${titleOf(active.id)} was dropped where it was.`;
      return dropPlace(rows, String(active.id), String(over.id))
        ? `${titleOf(active.id)} was moved next to ${titleOf(over.id)}.`
        : `${titleOf(over.id)} is at another level: ${titleOf(active.id)} stays where it was.`;
    },
    onDragCancel: ({ active }) => `Moving ${titleOf(active.id)} was cancelled.`,
  };
  if (!loading && tasks.length === 0 && stale === "filter") {
    // Nothing is shown because the filter cannot be read, not because nothing matches it.
    return (
      <div className="empty empty-problem">
        <p>The filter has a mistake.</p>
        <p className="muted">It is marked under the filter box; the list shows tasks again once it is fixed.</p>
        {onFixFilter && (
          <button type="button" className="link" onClick={onFixFilter}>
            Fix the filter
          </button>
        )}
      </div>
    );
  }
  if (!loading && tasks.length === 0 && stale === "load") {
    return (
      <div className="empty empty-problem">
        <p>The tasks could not be loaded.</p>
        <p className="muted">The reason is shown above.</p>
      </div>
    );
  }
  if (!loading && tasks.length === 0) {
    return (
      <div className="empty">
        <p>No tasks here.</p>
        <p className="muted">Add one above, or change the filter.</p>
      </div>
    );
  }
  return (
    <>
      {stale && <p className="stale-note">{stale === "filter" ? "The last results, from before the mistake in the filter." : "The last results: the list could not be refreshed."}</p>}
      <DndContext
        sensors={sensors}
        collisionDetection={closestCenter}
        accessibility={{
          announcements,
          screenReaderInstructions: {
            draggable:
              "To move a task, press space or enter on its handle, move it with the up and down arrow keys among the tasks at its level, and press space or enter again to drop it, or escape to cancel.",
          },
        }}
        onDragEnd={({ active, over }) => {
          const place = over && dropPlace(rows, String(active.id), String(over.id));
          if (place) onMove?.(rows.find((r) => r.task.id === active.id)!.task, place);
        }}
      >
        <SortableContext items={rows.map((r) => r.task.id)} strategy={verticalListSortingStrategy}>
          <ul className={`task-list${stale ? " stale" : ""}`} aria-label="Tasks" aria-busy={loading}>
            {rows.map(({ task, depth, subtasks }) => (
              <TaskRow
                key={task.id}
                task={task}
                depth={depth}
                subtasks={subtasks}
                folded={collapsed.has(task.id)}
                selected={task.id === selectedId}
                pending={pendingIds?.has(task.id) ?? false}
                reorderable={Boolean(onMove)}
                onFold={() => toggleCollapsed(task.id)}
                onSelect={() => onSelect(task)}
                onOpen={() => onOpen(task)}
                onToggle={() => onToggle(task)}
              />
            ))}
          </ul>
        </SortableContext>
      </DndContext>
      <LoadMore hasMore={hasMore} onMore={onMore} />
    </>
  );
}
