// Which view shows the filter's tasks: the address's `view`, and the sidebar's day views.
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { UpdateTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Said } from "../tasks/task-actions.js";

export const VIEWS = ["list", "board", "calendar"] as const;
/** How the filter's tasks are laid out: the list (Today and Upcoming grouped by day), a project's board, a month. */
export type View = (typeof VIEWS)[number];

/** The sidebar's views across projects, as the filter queries they show. */
export const TODAY_QUERY = "due<=today status:open";
export const UPCOMING_QUERY = "due:next-7-days status:open";

export type DayViewKind = "today" | "upcoming";

/** The list of a day view's query is shown grouped by day. */
export function dayViewOf(query: string): DayViewKind | undefined {
  return query === TODAY_QUERY ? "today" : query === UPCOMING_QUERY ? "upcoming" : undefined;
}

/** What a view that places tasks by dragging (the day views, a project's board) is given. */
export interface TaskViewProps {
  tasks: Task[];
  selectedId?: string;
  pendingIds?: ReadonlySet<string>;
  onSelect(task: Task): void;
  onOpen(task: Task): void;
  onToggle(task: Task): void;
  onUpdate(request: UpdateTaskRequest, said: Said): void;
  loading: boolean;
  hasMore: boolean;
  onMore(): void;
}
