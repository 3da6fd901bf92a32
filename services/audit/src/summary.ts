import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { RECURRENCE_DEVICE } from "@taskmesh/kit";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { isDueDate, type StoredChange } from "./field-changes.js";
import type { StoredReminder } from "./activity-record.js";

/** What a summary is made of: a stored entry, its changes already summarised, and how to show times. */
export interface SummaryInput {
  kind: ActivityKind;
  device: string;
  /** The task's version after the change: a task created at a later version than 1 was restored. */
  taskVersion: bigint;
  comment: JsonObject | null;
  taskTitle: string;
  changeSummaries: string[];
  reminder: StoredReminder | null;
  when: TimeFormat;
}

/** Readable English for an entry: "priority high → low; due moved from Tue 3 Dec 09:00 to Wed 4 Dec 09:00". */
export function entrySummary(entry: SummaryInput): string {
  const title = quote(entry.taskTitle);
  const reminderAt = entry.reminder?.fireTime ? entry.when.instant(entry.reminder.fireTime) : undefined;
  switch (entry.kind) {
    case ActivityKind.TASK_CREATED:
      if (entry.device === RECURRENCE_DEVICE) return `created ${title}, the series' next occurrence`;
      return entry.taskVersion > 1n ? `restored ${title}` : `created ${title}`;
    case ActivityKind.TASK_UPDATED:
      return entry.changeSummaries.join("; ") || "updated";
    case ActivityKind.TASK_COMPLETED:
      return "completed";
    case ActivityKind.TASK_REOPENED:
      return "reopened";
    case ActivityKind.TASK_DELETED:
      return entry.device === RECURRENCE_DEVICE ? `deleted ${title}: the completion that made it was undone` : `deleted ${title}`;
    case ActivityKind.REMINDER_SCHEDULED:
      return reminderAt ? `reminder set for ${reminderAt}` : "reminder set";
    case ActivityKind.REMINDER_FIRED:
      return "reminder fired";
    case ActivityKind.REMINDER_SNOOZED:
      return reminderAt ? `reminder snoozed until ${reminderAt}` : "reminder snoozed";
    case ActivityKind.REMINDER_CANCELLED:
      return entry.reminder?.reason ? `reminder cancelled (${entry.reminder.reason})` : "reminder cancelled";
    case ActivityKind.COMMENT_ADDED:
      return `commented ${quote(String(entry.comment?.body ?? ""))}`;
    case ActivityKind.COMMENT_EDITED:
      return `edited a comment: ${quote(String(entry.comment?.body ?? ""))}`;
    case ActivityKind.COMMENT_DELETED:
      return "deleted a comment";
    default:
      return "changed";
  }
}

/** One field: "priority high → low", "tag home added", "notes edited". */
export function changeSummary(change: StoredChange, when: TimeFormat): string {
  const { before, after } = change;
  switch (change.field) {
    case "title":
      return `title ${quote(String(before ?? ""))} → ${quote(String(after ?? ""))}`;
    case "notes":
      return !before ? "notes added" : !after ? "notes cleared" : "notes edited";
    case "priority":
      return `priority ${priorityName(before)} → ${priorityName(after)}`;
    case "tags":
      return tagsSummary(strings(before), strings(after));
    case "due": {
      const show = (v: JsonValue) => (isDueDate(v) ? when.date(v) : when.instant(String(v)));
      if (before === null) return `due set to ${show(after)}`;
      if (after === null) return `due removed (was ${show(before)})`;
      return `due moved from ${show(before)} to ${show(after)}`;
    }
    case "time_zone":
      return `time zone ${before ?? "default"} → ${after ?? "default"}`;
    case "recurrence": {
      const rule = (v: JsonValue) => {
        const r = v as JsonObject;
        return `${r.rrule}${r.mode === "RECURRENCE_MODE_AFTER_COMPLETION" ? " after completion" : ""}`;
      };
      if (before === null) return `repeat set (${rule(after)})`;
      if (after === null) return "repeat removed";
      return rule(before) === rule(after) ? "repeat edited" : `repeat ${rule(before)} → ${rule(after)}`;
    }
    case "reminders":
      return remindersSummary(reminderIds(before), reminderIds(after));
    // Names are the reader's to show (the web app knows the projects and members); here only what happened.
    case "project":
      return "moved to another project";
    case "section":
      return !before ? "moved into a section" : !after ? "moved out of its section" : "moved to another section";
    case "assignee":
      return !before ? "assigned" : !after ? "unassigned" : "reassigned";
    case "parent":
      // A top-level task's parent_id is "" (proto3 JSON with defaults).
      return !before ? "made a subtask" : !after ? "moved to the top level" : "moved under another task";
    case "order":
      return "moved in the list";
  }
}

function priorityName(value: JsonValue): string {
  const name = typeof value === "string" ? value.replace(/^PRIORITY_/, "").toLowerCase() : "";
  return name === "" || name === "unspecified" ? "none" : name;
}

function tagsSummary(before: string[], after: string[]): string {
  const added = after.filter((t) => !before.includes(t));
  const removed = before.filter((t) => !after.includes(t));
  const part = (list: string[], verb: string) => (list.length ? `tag${list.length > 1 ? "s" : ""} ${list.join(", ")} ${verb}` : "");
  return [part(added, "added"), part(removed, "removed")].filter(Boolean).join(", ") || "tags reordered";
}

function remindersSummary(before: Map<string, string>, after: Map<string, string>): string {
  const count = (n: number, what: string) => (n === 0 ? "" : `${n === 1 ? "reminder" : `${n} reminders`} ${what}`);
  const added = [...after.keys()].filter((id) => !before.has(id)).length;
  const removed = [...before.keys()].filter((id) => !after.has(id)).length;
  const changed = [...after].filter(([id, json]) => before.has(id) && before.get(id) !== json).length;
  return [count(added, "added"), count(removed, "removed"), count(changed, "changed")].filter(Boolean).join(", ") || "reminders reordered";
}

function strings(value: JsonValue): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function reminderIds(value: JsonValue): Map<string, string> {
  const list = Array.isArray(value) ? (value as JsonObject[]) : [];
  return new Map(list.map((r, i) => [String(r.id ?? i), JSON.stringify(r)]));
}

function quote(text: string): string {
  return `"${text.length > 60 ? `${text.slice(0, 59)}…` : text}"`;
}

// Building an Intl.DateTimeFormat is costly and zones are few: one per zone, kept.
const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    const options = { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" } as const;
    try {
      format = new Intl.DateTimeFormat("en-US", { ...options, timeZone });
    } catch {
      format = formatIn("UTC");
    }
    if (formats.size < 1000) formats.set(timeZone, format);
  }
  return format;
}

/**
 * "Tue 3 Dec 09:00" in a zone; the year only when it is not the year the entry happened in.
 * formatToParts is most of the cost of a ListActivity page: called only for times shown.
 */
export class TimeFormat {
  readonly #zone: string;
  readonly #reference: Date;
  #year: string | undefined;

  constructor(timeZone: string, reference: Date) {
    this.#zone = timeZone || "UTC";
    this.#reference = reference;
  }

  instant(iso: string): string {
    const p = this.#parts(new Date(iso), this.#zone);
    return `${this.#day(p)} ${p.hour}:${p.minute}`;
  }

  /** An all-day date (YYYY-MM-DD): no zone, no time. */
  date(day: string): string {
    return this.#day(this.#parts(new Date(`${day}T12:00:00Z`), "UTC"));
  }

  #day(p: Partial<Record<Intl.DateTimeFormatPartTypes, string>>): string {
    this.#year ??= this.#parts(this.#reference, this.#zone).year ?? "";
    return `${p.weekday} ${p.day} ${p.month}${p.year === this.#year ? "" : ` ${p.year}`}`;
  }

  #parts(date: Date, zone: string): Partial<Record<Intl.DateTimeFormatPartTypes, string>> {
    return Object.fromEntries(
      formatIn(zone)
        .formatToParts(date)
        .map((p) => [p.type, p.value]),
    );
  }
}
