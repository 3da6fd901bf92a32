// A month of the filter's tasks on their due days: a grid of weeks, or on a narrow screen the
// month's days that hold tasks, one under the other.
import { useQuery } from "@connectrpc/connect-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { keepPreviousData } from "@tanstack/react-query";
import { useState, useSyncExternalStore } from "react";
import { Temporal } from "temporal-polyfill";
import { browserTimeZone, formatTime } from "../tasks/format.js";
import { FlatTaskRows } from "../tasks/task-row.js";
import { addMonths, monthWeeks, tasksByDay, type Day } from "./days.js";
import "./views.css";

interface Props {
  /** The list's filter: the calendar shows its tasks that fall in the weeks on screen. */
  query: string;
  selectedId?: string;
  pendingIds?: ReadonlySet<string>;
  onSelect(task: Task): void;
  onOpen(task: Task): void;
  onToggle(task: Task): void;
}

// A month's grid holds at most 42 days; a page this size holds all their tasks for any sane list.
const PAGE = 500;

export function MonthCalendar({ query, selectedId, pendingIds, onSelect, onOpen, onToggle }: Props) {
  const zone = browserTimeZone();
  const today = Temporal.Now.plainDateISO(zone);
  const [month, setMonth] = useState(() => today.toPlainYearMonth().toString());
  const weeks = monthWeeks(month);
  const first = weeks[0]![0]!;
  const last = weeks[weeks.length - 1]![6]!;
  const scope = query.trim() ? `(${query.trim()}) ` : "";
  const list = useQuery(
    TaskService.method.listTasks,
    { query: `${scope}due>=${first} due<=${last}`, orderBy: "due", pageSize: PAGE, pageToken: "" },
    { placeholderData: keepPreviousData, retry: false },
  );
  const tasks = list.data?.tasks ?? [];
  const byDay = tasksByDay(tasks, zone);
  const narrow = useNarrow();
  // A PlainYearMonth is formatted in the ISO calendar's field order ("2026 December"): its first day reads as the locale says.
  const title = Temporal.PlainYearMonth.from(month).toPlainDate({ day: 1 }).toLocaleString(undefined, { month: "long", year: "numeric" });

  return (
    <section className="calendar" aria-labelledby="calendar-title" aria-busy={list.isFetching}>
      <header className="calendar-header">
        <h2 id="calendar-title" aria-live="polite">
          {title}
        </h2>
        <div className="calendar-nav">
          <button type="button" aria-label="Previous month" onClick={() => setMonth(addMonths(month, -1))}>
            ‹
          </button>
          <button type="button" onClick={() => setMonth(today.toPlainYearMonth().toString())} disabled={month === today.toPlainYearMonth().toString()}>
            This month
          </button>
          <button type="button" aria-label="Next month" onClick={() => setMonth(addMonths(month, 1))}>
            ›
          </button>
        </div>
      </header>
      {list.error && (
        <p className="field-error" role="alert">
          {list.error.rawMessage}
        </p>
      )}
      {list.data?.nextPageToken && <p className="hint">Only the first {PAGE} tasks of these weeks are shown: narrow the filter to see the rest.</p>}
      {narrow ? (
        <Agenda
          days={weeks.flat().filter((d) => d.startsWith(month))}
          byDay={byDay}
          today={today.toString()}
          selectedId={selectedId}
          pendingIds={pendingIds}
          onSelect={onSelect}
          onOpen={onOpen}
          onToggle={onToggle}
        />
      ) : (
        <table className="month-grid">
          <thead>
            <tr>
              {weeks[0]!.map((day) => (
                <th key={day} scope="col">
                  <abbr title={Temporal.PlainDate.from(day).toLocaleString(undefined, { weekday: "long" })}>{Temporal.PlainDate.from(day).toLocaleString(undefined, { weekday: "short" })}</abbr>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {weeks.map((week) => (
              <tr key={week[0]}>
                {week.map((day) => (
                  <td
                    key={day}
                    data-day={day}
                    className={`${day.startsWith(month) ? "" : "outside"}${day === today.toString() ? " today" : ""}`}
                    aria-current={day === today.toString() ? "date" : undefined}
                  >
                    <time dateTime={day} className="day-number">
                      {Temporal.PlainDate.from(day).day}
                      {day === today.toString() && <span className="visually-hidden"> (today)</span>}
                    </time>
                    {(byDay.get(day)?.length ?? 0) > 0 && (
                      <ul>
                        {byDay.get(day)!.map((task) => (
                          <li key={task.id}>
                            <button type="button" className={`calendar-task${task.id === selectedId ? " selected" : ""}`} onClick={() => onOpen(task)}>
                              {task.due.case === "dueTime" && <span className="calendar-time">{formatTime(timestampDate(task.due.value))} </span>}
                              {task.title}
                            </button>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface AgendaProps extends Omit<Props, "query"> {
  days: Day[];
  byDay: Map<Day, Task[]>;
  today: Day;
}

/** The month as a list: each day that holds tasks, with its tasks as the list shows them. */
function Agenda({ days, byDay, today, selectedId, pendingIds, onSelect, onOpen, onToggle }: AgendaProps) {
  const busy = days.filter((d) => byDay.has(d));
  if (busy.length === 0) return <p className="empty">Nothing due this month.</p>;
  return (
    <div className="agenda">
      {busy.map((day) => (
        <section key={day} className="day-group" aria-labelledby={`agenda-${day}`} data-day={day}>
          <h3 id={`agenda-${day}`} className={day === today ? "today" : undefined}>
            {Temporal.PlainDate.from(day).toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short" })}
            {day === today && <span className="day-date"> · Today</span>}
          </h3>
          <ul className="task-list">
            <FlatTaskRows tasks={byDay.get(day)!} selectedId={selectedId} pendingIds={pendingIds} reorderable={false} onSelect={onSelect} onOpen={onOpen} onToggle={onToggle} />
          </ul>
        </section>
      ))}
    </div>
  );
}

const NARROW = "(max-width: 640px)";

/** Whether the screen is a phone's width: too narrow for seven columns of titles. */
function useNarrow(): boolean {
  return useSyncExternalStore(
    (changed) => {
      const media = matchMedia(NARROW);
      media.addEventListener("change", changed);
      return () => media.removeEventListener("change", changed);
    },
    () => matchMedia(NARROW).matches,
  );
}
