// Today (overdue, then today) and Upcoming (day by day), with tasks dragged onto a day to move them there.
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { Temporal } from "temporal-polyfill";
import { browserTimeZone } from "../tasks/format.js";
import { FlatTaskRows } from "../tasks/task-row.js";
import { dueDay, rescheduleRequest, todayGroups, upcomingGroups, type Day, type DayGroup } from "./days.js";
import { TaskDropContext, usePlace, type Place } from "./task-drop.js";
import type { DayViewKind, TaskViewProps } from "./view.js";
import { LoadMore } from "../ui/load-more.js";
import "./views.css";

// As many as UPCOMING_QUERY's next-7-days.
const UPCOMING_DAYS = 7;

interface Props extends TaskViewProps {
  kind: DayViewKind;
}

export function DayView({ kind, tasks, selectedId, pendingIds, onSelect, onOpen, onToggle, onUpdate, loading, hasMore, onMore }: Props) {
  const zone = browserTimeZone();
  const today = Temporal.Now.plainDateISO(zone).toString();
  const groups = kind === "today" ? todayGroups(tasks, today, zone) : upcomingGroups(tasks, today, UPCOMING_DAYS, zone);
  const places: Place[] = groups.flatMap((g) => (g.day ? [{ id: placeId(g.day), label: dayLabel(g.day, today) }] : []));
  const reschedule = (task: Task, day: Day) => {
    const request = rescheduleRequest(task, day, zone);
    const from = dueDay(task, zone);
    if (request && from) onUpdate(request, { text: `Moved “${task.title}” to ${dayLabel(day, today)}`, undo: (moved) => rescheduleRequest(moved, from, zone) });
  };
  return (
    <>
      <TaskDropContext places={places} tasks={tasks} onDrop={(task, id) => reschedule(task, id.slice(PREFIX.length))}>
        <div className="day-groups" aria-busy={loading}>
          {groups.map((group) => (
            <DaySection
              key={group.day ?? "overdue"}
              group={group}
              today={today}
              // A task can be dragged when there is another day to drop it on.
              draggable={places.some((p) => p.id !== (group.day && placeId(group.day)))}
              selectedId={selectedId}
              pendingIds={pendingIds}
              onSelect={onSelect}
              onOpen={onOpen}
              onToggle={onToggle}
            />
          ))}
        </div>
      </TaskDropContext>
      <LoadMore hasMore={hasMore} onMore={onMore} />
    </>
  );
}

const PREFIX = "day:";
const placeId = (day: Day) => `${PREFIX}${day}`;

interface SectionProps extends Pick<Props, "selectedId" | "pendingIds" | "onSelect" | "onOpen" | "onToggle"> {
  group: DayGroup;
  today: Day;
  draggable: boolean;
}

function DaySection({ group, today, draggable, selectedId, pendingIds, onSelect, onOpen, onToggle }: SectionProps) {
  // Overdue is no place to drop a task on: it is every day before today.
  const place = usePlace(group.day ? placeId(group.day) : "overdue");
  const title = group.day ? dayTitle(group.day, today) : "Overdue";
  const headingId = `day-${group.day ?? "overdue"}`;
  return (
    <section ref={group.day ? place.ref : undefined} className={`day-group${place.over && group.day ? " drop-over" : ""}`} aria-labelledby={headingId} data-day={group.day}>
      <h2 id={headingId} className={group.day ? undefined : "overdue"}>
        {title}
        {group.day && title !== shortDate(group.day) && <span className="day-date"> {dayMonth(group.day)}</span>}
        {group.tasks.length > 0 && <span className="day-count muted"> · {group.tasks.length === 1 ? "1 task" : `${group.tasks.length} tasks`}</span>}
      </h2>
      {group.tasks.length === 0 ? (
        <p className="day-empty muted">Nothing due</p>
      ) : (
        <ul className="task-list" aria-label={`Tasks due ${group.day ? dayLabel(group.day, today) : "before today"}`}>
          <FlatTaskRows tasks={group.tasks} selectedId={selectedId} pendingIds={pendingIds} reorderable={draggable} onSelect={onSelect} onOpen={onOpen} onToggle={onToggle} />
        </ul>
      )}
    </section>
  );
}

/** "Today", "Tomorrow", "Yesterday", else the weekday ("Wednesday"), within a week from today; the date beyond. */
export function dayTitle(day: Day, today: Day): string {
  const diff = Temporal.PlainDate.from(today).until(day).days;
  if (diff === 0) return "Today";
  if (diff === 1) return "Tomorrow";
  if (diff === -1) return "Yesterday";
  if (diff > 1 && diff < 7) return Temporal.PlainDate.from(day).toLocaleString(undefined, { weekday: "long" });
  return shortDate(day);
}

/** "Sat 5 Dec" in the viewer's locale. */
export function shortDate(day: Day): string {
  return Temporal.PlainDate.from(day).toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short" });
}

const dayMonth = (day: Day) => Temporal.PlainDate.from(day).toLocaleString(undefined, { day: "numeric", month: "short" });

/** How a day is spoken when a task is dragged onto it: "Tomorrow, 5 Dec". */
function dayLabel(day: Day, today: Day): string {
  const title = dayTitle(day, today);
  return title === shortDate(day) ? title : `${title}, ${dayMonth(day)}`;
}
