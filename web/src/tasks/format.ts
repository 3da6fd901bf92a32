// How tasks read on screen: due dates relative to today, priorities, reminders.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Priority, TaskStatus, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { localDate } from "@taskmesh/quick-add";
import { isTimeZone, toWallClock } from "./zoned.js";

export const PRIORITY_LABELS: Record<Priority, string> = {
  [Priority.UNSPECIFIED]: "None",
  [Priority.NONE]: "None",
  [Priority.LOW]: "Low",
  [Priority.MEDIUM]: "Medium",
  [Priority.HIGH]: "High",
};

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The calendar date (YYYY-MM-DD) of an instant in a zone, the viewer's when none is given. */
function dateIn(instant: Date, timeZone?: string): string {
  return toWallClock(instant, timeZone || browserTimeZone()).date;
}

const dayNames = (date: Date, today: Date, timeZone?: string): string | undefined => {
  const diff = Math.round((Date.parse(`${dateIn(date, timeZone)}T00:00Z`) - Date.parse(`${dateIn(today, timeZone)}T00:00Z`)) / 86_400_000);
  if (diff === 0) return "Today";
  if (diff === 1) return "Tomorrow";
  if (diff === -1) return "Yesterday";
  return undefined;
};

/** "Today", "Mon 1 Dec", in `timeZone` (the viewer's by default). */
export function formatDay(date: Date, now = new Date(), timeZone?: string): string {
  const zone = timeZone || browserTimeZone();
  const sameYear = dateIn(date, zone).slice(0, 4) === dateIn(now, zone).slice(0, 4);
  return dayNames(date, now, zone) ?? date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: zone, ...(sameYear ? {} : { year: "numeric" }) });
}

/** A time of day in the viewer's locale (its own 12- or 24-hour clock), in `timeZone` (the viewer's by default). */
export function formatTime(date: Date, timeZone?: string): string {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", timeZone: timeZone || browserTimeZone() });
}

/** An all-day date (YYYY-MM-DD) as formatDay shows it. */
export function formatDate(date: string, now = new Date()): string {
  return formatDay(new Date(`${date}T00:00`), now);
}

/**
 * The name shown beside a time kept in another zone ("New York"), or undefined when the zone's
 * clock reads the same as the viewer's at that instant (then the label would say nothing).
 */
export function zoneLabel(timeZone: string, at: Date): string | undefined {
  const viewer = browserTimeZone();
  if (!timeZone || timeZone === viewer || !isTimeZone(timeZone)) return undefined;
  const wall = toWallClock(at, timeZone);
  const mine = toWallClock(at, viewer);
  if (wall.date === mine.date && wall.time === mine.time) return undefined;
  return timeZone.split("/").pop()!.replace(/_/g, " ");
}

/** "Thu 4 Dec 15:00", with " (New York)" when the time is kept in a zone whose clock differs from the viewer's. */
export function formatInstant(date: Date, timeZone?: string, now = new Date()): string {
  const label = timeZone ? zoneLabel(timeZone, date) : undefined;
  const shown = label ? timeZone : undefined;
  return `${formatDay(date, now, shown)} ${formatTime(date, shown)}${label ? ` (${label})` : ""}`;
}

/** "Today 09:00", "Mon 1 Dec", "Thu 4 Dec 15:00 (New York)", or undefined without a due. */
export function formatDue(task: Pick<Task, "due" | "timeZone">, now = new Date()): string | undefined {
  if (task.due.case === "dueDate") return formatDate(task.due.value, now);
  if (task.due.case === "dueTime") return formatInstant(timestampDate(task.due.value), task.timeZone, now);
  return undefined;
}

export function isOverdue(task: Task, now = new Date()): boolean {
  if (task.status !== TaskStatus.OPEN) return false;
  if (task.due.case === "dueTime") return timestampDate(task.due.value) < now;
  if (task.due.case === "dueDate") return task.due.value < localDate(now);
  return false;
}

export function formatDuration(seconds: number): string {
  const units: [number, string][] = [
    [604800, "week"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  if (seconds === 0) return "at due time";
  for (const [size, name] of units) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? "" : "s"} before`;
    }
  }
  return `${Math.round(seconds / 60)} minutes before`;
}

/**
 * A "before" reminder on an all-day task counts back from the due day's midnight: 15 hours before
 * is the day before at 09:00. Returns the days before and the time of day it fires.
 */
export function allDayBefore(seconds: number): { days: number; time: string } {
  const days = Math.max(0, Math.ceil(seconds / 86_400));
  const after = days * 86_400 - seconds;
  const pad = (n: number) => String(n).padStart(2, "0");
  return { days, time: `${pad(Math.floor(after / 3600))}:${pad(Math.floor((after % 3600) / 60))}` };
}

/** before_due for "N days before at HH:MM" on an all-day task, counted from the due day's midnight (allDayBefore reads it back). */
export function beforeMidnight(days: number, time: string): number {
  const [h, m] = time.split(":").map(Number) as [number, number];
  return Math.max(0, Math.max(1, days) * 86_400 - (h * 3600 + m * 60));
}

/** `allDay`: the reminder's task has a due date without a time ("1 day before at 09:00"). */
export function formatReminder(reminder: Reminder, allDay = false, timeZone?: string): string {
  if (reminder.trigger.case === "beforeDue" && allDay) {
    const { days, time } = allDayBefore(Number(reminder.trigger.value.seconds));
    return days === 0 ? `on the day at ${time}` : `${days} day${days === 1 ? "" : "s"} before at ${time}`;
  }
  if (reminder.trigger.case === "beforeDue") return formatDuration(Number(reminder.trigger.value.seconds));
  if (reminder.trigger.case === "absoluteTime") {
    return formatInstant(timestampDate(reminder.trigger.value), timeZone);
  }
  return "";
}
