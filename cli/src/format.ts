// How tasks read in a terminal: one row per task, in columns, times on this machine's clock.
import type { TaskOutput } from "@taskmesh/mcp/shapes";

export function row(t: TaskOutput, zone: string): string[] {
  const due = t.dueDate ?? (t.dueTime ? localDateTime(t.dueTime, zone) : "");
  const priority = t.priority === "none" ? "" : `!${t.priority}`;
  return [t.id.slice(0, 8), due, priority, `${t.status === "completed" ? "✓ " : ""}${t.title}${t.recurrence ? " ↻" : ""}`, t.tags.map((tag) => `#${tag}`).join(" ")];
}

export function localDateTime(iso: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

export function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c + " ".repeat(widths[i]! - [...c].length))
      .join("  ")
      .trimEnd()}\n`;
  return [header, ...rows].map(line).join("");
}
