import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useEffect, useRef, type CSSProperties, type KeyboardEvent } from "react";
import { formatDue, isOverdue, PRIORITY_LABELS } from "./format.js";
import { useViewOnly } from "../projects/projects-api.js";
import { AssigneeBadge } from "./members.js";

interface Props {
  task: Task;
  depth: number;
  /** How many subtasks it has in the list (at any depth). */
  subtasks: number;
  folded: boolean;
  selected: boolean;
  pending: boolean;
  /** Shows the drag handle (the list is in manual order). */
  reorderable: boolean;
  onFold(): void;
  onSelect(): void;
  onOpen(): void;
  onToggle(): void;
}

// The page's Enter shortcut (edit the selected task) would otherwise take the key from the row's own buttons.
const keepEnter = (e: KeyboardEvent) => {
  if (e.key === "Enter") e.stopPropagation();
};

/** One task of the list: indented by depth, with its fold button, checkbox, title, details and drag handle. */
export function TaskRow({ task, depth, subtasks, folded, selected, pending, reorderable: orderable, onFold, onSelect, onOpen, onToggle }: Props) {
  // A viewer of the task's project can neither complete nor move it.
  const viewOnly = useViewOnly(task.projectId) !== undefined;
  const reorderable = orderable && !viewOnly;
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id: task.id, disabled: !reorderable });
  const row = useRef<HTMLLIElement | null>(null);
  // A block body: an effect's return value is its cleanup, and Chromium's scrollIntoView returns a
  // Promise that React would later call.
  useEffect(() => {
    if (selected) row.current?.scrollIntoView({ block: "nearest" });
  }, [selected]);
  const done = task.status === TaskStatus.COMPLETED;
  const due = formatDue(task);
  const priority = PRIORITY_LABELS[task.priority].toLowerCase();
  const count = subtasks === 1 ? "1 subtask" : `${subtasks} subtasks`;
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click selects the row as j and k do from the keyboard; the title's button opens it
    // biome-ignore lint/a11y/useAriaPropsSupportedByRole: ARIA 1.2 gives listitem aria-level (only the 1.3 draft drops it): it tells assistive technology the subtask's depth
    <li
      ref={(el) => {
        row.current = el;
        setNodeRef(el);
      }}
      className={`task${done ? " done" : ""}${selected ? " selected" : ""}${isDragging ? " dragging" : ""}`}
      data-task-id={task.id}
      data-depth={depth}
      aria-level={depth + 1}
      style={{ "--depth": depth, transform: CSS.Translate.toString(transform), transition } as CSSProperties}
      aria-current={selected ? "true" : undefined}
      onClick={onSelect}
      onDoubleClick={onOpen}
    >
      {subtasks > 0 && (
        <button
          type="button"
          className="subtask-toggle"
          aria-expanded={!folded}
          aria-label={`${folded ? "Show" : "Hide"} ${count} of ${task.title}`}
          onClick={(e) => {
            e.stopPropagation();
            onFold();
          }}
          onKeyDown={keepEnter}
        >
          {folded ? "▸" : "▾"}
        </button>
      )}
      <input
        type="checkbox"
        className={`check priority-${priority}`}
        checked={done}
        disabled={viewOnly}
        aria-label={done ? `Reopen ${task.title}` : `Complete ${task.title}`}
        onClick={(e) => e.stopPropagation()}
        onChange={onToggle}
      />
      <div className="task-body">
        <button type="button" className="task-title" onClick={onOpen}>
          {task.title}
        </button>
        <div className="task-meta">
          {due && <span className={`due${isOverdue(task) ? " overdue" : ""}`}>{due}</span>}
          {task.recurrence && (
            <span className="repeats" title={task.recurrence.rrule}>
              ↻ repeats
            </span>
          )}
          {task.assigneeId && <AssigneeBadge task={task} />}
          {task.reminders.length > 0 && <span className="has-reminder">reminder</span>}
          {folded && <span className="subtask-count">{count}</span>}
          {pending && <span className="pending-badge">waiting to be sent</span>}
          {task.tags.map((tag) => (
            <span key={tag} className="tag">
              #{tag}
            </span>
          ))}
        </div>
      </div>
      {priority !== "none" && <span className={`priority-badge priority-${priority}`}>{PRIORITY_LABELS[task.priority]}</span>}
      {reorderable && (
        <button
          type="button"
          ref={setActivatorNodeRef}
          className="drag-handle"
          {...attributes}
          {...listeners}
          aria-label={`Move ${task.title}`}
          onClick={(e) => e.stopPropagation()}
          onKeyDown={(e) => {
            keepEnter(e);
            listeners?.onKeyDown?.(e);
          }}
        >
          ⠿
        </button>
      )}
    </li>
  );
}

interface FlatProps extends Pick<Props, "reorderable"> {
  tasks: readonly Task[];
  selectedId?: string | undefined;
  pendingIds?: ReadonlySet<string> | undefined;
  onSelect(task: Task): void;
  onOpen(task: Task): void;
  onToggle(task: Task): void;
}

/** Tasks as rows without subtasks or folding, for the views that group them otherwise (days, board columns, the agenda). */
export function FlatTaskRows({ tasks, selectedId, pendingIds, reorderable, onSelect, onOpen, onToggle }: FlatProps) {
  return (
    <>
      {tasks.map((task) => (
        <TaskRow
          key={task.id}
          task={task}
          depth={0}
          subtasks={0}
          folded={false}
          selected={task.id === selectedId}
          pending={pendingIds?.has(task.id) ?? false}
          reorderable={reorderable}
          onFold={() => undefined}
          onSelect={() => onSelect(task)}
          onOpen={() => onOpen(task)}
          onToggle={() => onToggle(task)}
        />
      ))}
    </>
  );
}
