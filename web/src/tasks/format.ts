// How tasks read on screen: due dates relative to today, priorities, reminders.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Priority, TaskStatus, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { localDate } from "@taskmesh/quick-add";

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

const dayNames = (date: Date, today: Date): string | undefined => {
  const diff = Math.round((new Date(`${localDate(date)}T00:00`).getTime() - new Date(`${localDate(today)}T00:00`).getTime()) / 86_400_000);
  if (diff === 0) return "Today";
  if (diff === 1) return "Tomorrow";
  if (diff === -1) return "Yesterday";
  return undefined;
};

export function formatDay(date: Date, now = new Date()): string {
  const sameYear = date.getFullYear() === now.getFullYear();
  return (
    dayNames(date, now) ??
    date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", ...(sameYear ? {} : { year: "numeric" }) })
  );
}

export function formatTime(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

/** "Today 09:00", "Mon 1 Dec", or undefined without a due. */
export function formatDue(task: Pick<Task, "due">, now = new Date()): string | undefined {
  if (task.due.case === "dueDate") return formatDay(new Date(`${task.due.value}T00:00`), now);
  if (task.due.case === "dueTime") {
    const date = timestampDate(task.due.value);
    return `${formatDay(date, now)} ${formatTime(date)}`;
  }
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
export function formatReminder(reminder: Reminder, allDay = false): string {
  if (reminder.trigger.case === "beforeDue" && allDay) {
    const { days, time } = allDayBefore(Number(reminder.trigger.value.seconds));
    return days === 0 ? `on the day at ${time}` : `${days} day${days === 1 ? "" : "s"} before at ${time}`;
  }
  if (reminder.trigger.case === "beforeDue") return formatDuration(Number(reminder.trigger.value.seconds));
  if (reminder.trigger.case === "absoluteTime") {
    const at = timestampDate(reminder.trigger.value);
    return `${formatDay(at)} ${formatTime(at)}`;
  }
  return "";
}
