// A history entry in the viewer's words: times in the viewer's locale (its 12- or 24-hour clock) and
// in the task's zone with its label, repeat rules as the recurrence service summarises them. The
// service's own summary is kept for what holds neither a time nor a rule.
import { toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { ActivityKind, type ActivityEntry, type FieldChange } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { formatDate, formatInstant } from "./format.js";

export interface HistoryContext {
  /** The task's zone: times are shown as it keeps them. */
  timeZone: string;
  /** The readable summary of an RRULE, when known. */
  rule(rrule: string): string | undefined;
  /** Names of the projects, sections and people (e-mail, or "you") an entry's ids stand for, when known. */
  name(field: "project" | "section" | "assignee", id: string): string | undefined;
}

const PLACES = ["project", "section", "assignee"] as const;
type Place = (typeof PLACES)[number];
const isPlace = (field: string): field is Place => (PLACES as readonly string[]).includes(field);

/** The people an entry's assignments name, for their e-mails to be fetched. */
export function assigneesOf(entries: ActivityEntry[]): string[] {
  return entries.flatMap((e) => e.changes.filter((c) => c.field === "assignee").flatMap((c) => [json(c.before), json(c.after)].filter((v): v is string => typeof v === "string" && v !== "")));
}

/** "moved from Inbox to Groceries", "assigned to bob@example.com"; the service's words when an id has no name here. */
function placeWords(field: Place, before: JsonValue, after: JsonValue, ctx: HistoryContext, summary: string): string {
  const nameOf = (v: JsonValue) => (typeof v === "string" && v !== "" ? ctx.name(field, v) : undefined);
  const [from, to] = [nameOf(before), nameOf(after)];
  switch (field) {
    case "project":
      return to ? (from ? `moved from ${from} to ${to}` : `moved to ${to}`) : summary;
    case "section":
      if (!after) return from ? `moved out of section ${from}` : summary;
      return to ? `moved to section ${to}` : summary;
    case "assignee":
      if (!after) return from ? `unassigned (was ${from})` : summary;
      return to ? `assigned to ${to}` : summary;
  }
}

const json = (value: Value | undefined): JsonValue => (value ? toJson(ValueSchema, value) : null);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface RuleJson {
  rrule: string;
  after: boolean;
}

function ruleOf(value: JsonValue): RuleJson | undefined {
  const rule = value as JsonObject | null;
  if (!rule || typeof rule.rrule !== "string") return undefined;
  return { rrule: rule.rrule, after: rule.mode === "RECURRENCE_MODE_AFTER_COMPLETION" };
}

/** The RRULEs an entry's repeat changes mention, for their summaries to be fetched. */
export function rulesOf(entries: ActivityEntry[]): string[] {
  const rules = entries.flatMap((e) => e.changes.filter((c) => c.field === "recurrence").flatMap((c) => [ruleOf(json(c.before)), ruleOf(json(c.after))]));
  return [...new Set(rules.filter((r) => r !== undefined).map((r) => r.rrule))];
}

function changeWords(change: FieldChange, ctx: HistoryContext): string {
  const before = json(change.before);
  const after = json(change.after);
  switch (change.field) {
    case "due": {
      const show = (v: JsonValue) => (typeof v === "string" && DATE.test(v) ? formatDate(v) : formatInstant(new Date(String(v)), ctx.timeZone));
      if (before === null) return `due set to ${show(after)}`;
      if (after === null) return `due removed (was ${show(before)})`;
      return `due moved from ${show(before)} to ${show(after)}`;
    }
    case "recurrence": {
      const words = (v: JsonValue) => {
        const rule = ruleOf(v);
        if (!rule) return "";
        return `${ctx.rule(rule.rrule) ?? "a custom rule"}${rule.after ? ", counted from completion" : ""}`;
      };
      if (before === null) return `repeat set: ${words(after)}`;
      if (after === null) return "repeat removed";
      return words(before) === words(after) ? "repeat edited" : `repeat changed from ${words(before)} to ${words(after)}`;
    }
    default:
      return isPlace(change.field) ? placeWords(change.field, before, after, ctx, change.summary) : change.summary;
  }
}

export function entryWords(entry: ActivityEntry, ctx: HistoryContext): string {
  const fireTime = entry.reminder?.fireTime ? formatInstant(timestampDate(entry.reminder.fireTime), ctx.timeZone) : undefined;
  switch (entry.kind) {
    case ActivityKind.TASK_UPDATED:
      return entry.changes.length > 0 ? entry.changes.map((c) => changeWords(c, ctx)).join("; ") : entry.summary;
    case ActivityKind.REMINDER_SCHEDULED:
      return fireTime ? `reminder set for ${fireTime}` : entry.summary;
    case ActivityKind.REMINDER_SNOOZED:
      return fireTime ? `reminder snoozed until ${fireTime}` : entry.summary;
    default:
      return entry.summary;
  }
}
