import { TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useEffect, useRef, useState, type CSSProperties } from "react";
import { formatDue, isOverdue, PRIORITY_LABELS } from "./format.js";
import { taskTree } from "./task-tree.js";

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
  loading: boolean;
  hasMore: boolean;
  onMore(): void;
}

export function TaskList({ tasks, stale, onFixFilter, selectedId, pendingIds, onSelect, onOpen, onToggle, loading, hasMore, onMore }: Props) {
  const selectedRef = useRef<HTMLLIElement>(null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const toggleCollapsed = (id: string) =>
    setCollapsed((before) => {
      const next = new Set(before);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  // A block body: an effect's return value is its cleanup, and Chromium's scrollIntoView returns a
  // Promise that React would later call.
  useEffect(() => {
    selectedRef.current?.scrollIntoView({ block: "nearest" });
  }, [selectedId]);
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
      {stale && (
        <p className="stale-note">
          {stale === "filter" ? "The last results, from before the mistake in the filter." : "The last results: the list could not be refreshed."}
        </p>
      )}
      <ul className={`task-list${stale ? " stale" : ""}`} aria-label="Tasks" aria-busy={loading}>
        {taskTree(tasks, collapsed).map(({ task, depth, subtasks }) => {
          const done = task.status === TaskStatus.COMPLETED;
          const folded = collapsed.has(task.id);
          const due = formatDue(task);
          const priority = PRIORITY_LABELS[task.priority].toLowerCase();
          return (
            <li
              key={task.id}
              ref={task.id === selectedId ? selectedRef : undefined}
              className={`task${done ? " done" : ""}${task.id === selectedId ? " selected" : ""}`}
              data-task-id={task.id}
              data-depth={depth}
              aria-level={depth + 1}
              style={{ "--depth": depth } as CSSProperties}
              aria-current={task.id === selectedId ? "true" : undefined}
              onClick={() => onSelect(task)}
              onDoubleClick={() => onOpen(task)}
            >
              {subtasks > 0 ? (
                <button
                  type="button"
                  className="subtask-toggle"
                  aria-expanded={!folded}
                  aria-label={`${folded ? "Show" : "Hide"} ${subtasks === 1 ? "1 subtask" : `${subtasks} subtasks`} of ${task.title}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    toggleCollapsed(task.id);
                  }}
                  // The page's Enter shortcut (edit the selected task) would take the key from this button.
                  onKeyDown={(e) => {
                    if (e.key === "Enter") e.stopPropagation();
                  }}
                >
                  {folded ? "▸" : "▾"}
                </button>
              ) : null}
              <button
                type="button"
                className={`check priority-${priority}`}
                role="checkbox"
                aria-checked={done}
                aria-label={done ? `Reopen ${task.title}` : `Complete ${task.title}`}
                onClick={(e) => {
                  e.stopPropagation();
                  onToggle(task);
                }}
              />
              <div className="task-body">
                <button type="button" className="task-title" onClick={() => onOpen(task)}>
                  {task.title}
                </button>
                <div className="task-meta">
                  {due && <span className={`due${isOverdue(task) ? " overdue" : ""}`}>{due}</span>}
                  {task.recurrence && (
                    <span className="repeats" title={task.recurrence.rrule}>
                      ↻ repeats
                    </span>
                  )}
                  {task.reminders.length > 0 && <span className="has-reminder">reminder</span>}
                  {folded && <span className="subtask-count">{subtasks === 1 ? "1 subtask" : `${subtasks} subtasks`}</span>}
                  {pendingIds?.has(task.id) && <span className="pending-badge">waiting to be sent</span>}
                  {task.tags.map((tag) => (
                    <span key={tag} className="tag">
                      #{tag}
                    </span>
                  ))}
                </div>
              </div>
              {priority !== "none" && <span className={`priority-badge priority-${priority}`}>{PRIORITY_LABELS[task.priority]}</span>}
            </li>
          );
        })}
      </ul>
      {hasMore && (
        <button type="button" className="more" onClick={onMore}>
          Load more
        </button>
      )}
    </>
  );
}
