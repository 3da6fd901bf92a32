// `taskmesh show <id>`: one task with everything it carries, as names (project, section, the
// assignee's e-mail, the repeat rule in words) rather than ids.
import type { TaskOutput } from "@taskmesh/mcp/shapes";
import { localDateTime } from "./format.js";

/** "30 min", "2 h", "1 day 3 h": a reminder's distance from the due. */
function span(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts = [days ? `${days} day${days === 1 ? "" : "s"}` : "", hours ? `${hours} h` : "", mins ? `${mins} min` : ""].filter(Boolean);
  return parts.length > 0 ? parts.join(" ") : "0 min";
}

/** On an all-day task a reminder is counted from the day's midnight: "1 day before at 09:00". */
function beforeDay(minutes: number): string {
  const days = Math.ceil(minutes / 1440);
  const into = days * 1440 - minutes;
  const time = `${String(Math.floor(into / 60)).padStart(2, "0")}:${String(into % 60).padStart(2, "0")}`;
  return days === 0 ? `on the day at ${time}` : `${days} day${days === 1 ? "" : "s"} before at ${time}`;
}

/** `repeats`: the task's rule in words ("every month on the 1st"), when the service read it. */
export function describeTask(t: TaskOutput, repeats: string | undefined, zone: string): string {
  const taskZone = t.timeZone ?? zone;
  const due = t.dueDate ?? (t.dueTime ? `${localDateTime(t.dueTime, taskZone)} ${taskZone}` : undefined);
  const reminders = t.reminders
    .map((r) => (r.beforeDueMinutes !== undefined ? (t.dueDate ? beforeDay(r.beforeDueMinutes) : `${span(r.beforeDueMinutes)} before`) : r.at ? localDateTime(r.at, zone) : ""))
    .filter(Boolean);
  const fields: Array<[string, string | undefined]> = [
    ["id", t.id],
    ["status", t.status === "completed" && t.completeTime ? `completed ${localDateTime(t.completeTime, zone)}` : t.status],
    ["due", due],
    ["priority", t.priority === "none" ? undefined : t.priority],
    ["tags", t.tags.length > 0 ? t.tags.map((tag) => `#${tag}`).join(" ") : undefined],
    ["project", t.projectName && (t.sectionName ? `${t.projectName} › ${t.sectionName}` : t.projectName)],
    ["assigned", t.assigneeEmail && (t.assignerEmail && t.assignerId !== t.assigneeId ? `${t.assigneeEmail} (by ${t.assignerEmail})` : t.assigneeEmail)],
    ["repeats", t.recurrence && `${repeats ?? t.recurrence.rrule}${t.recurrence.afterCompletion ? ", counted from each completion" : ""}`],
    ["reminders", reminders.length > 0 ? reminders.join(", ") : undefined],
    ["created", t.createTime && localDateTime(t.createTime, zone)],
    ["updated", t.updateTime && localDateTime(t.updateTime, zone)],
    ["version", String(t.version)],
  ];
  const shown = fields.filter((f): f is [string, string] => Boolean(f[1]));
  const width = Math.max(...shown.map(([k]) => k.length));
  const lines = [`${t.title}${t.recurrence ? " ↻" : ""}`, ...shown.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (t.notes) lines.push("", ...t.notes.split("\n").map((line) => `  ${line}`.trimEnd()));
  return `${lines.join("\n")}\n`;
}
