// Taskwarrior's `task export`: a JSON array of tasks (older versions: one JSON object per line).
// A recurring task is a template (status "recurring") plus its generated instances (`parent`).
import { ImportFormatError, ProjectList, type ImportPlan, type ImportedRecurrence, type ImportedTask, type PriorityName, type Unmapped } from "./plan.js";
import { cleanTags } from "./tags.js";
import { z } from "zod";

const PRIORITY: Record<string, PriorityName> = { H: "high", M: "medium", L: "low" };
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

// Taskwarrior's named periods; numbers with a unit are read by UNIT below.
const NAMED_RECUR: Record<string, string> = {
  daily: "FREQ=DAILY",
  day: "FREQ=DAILY",
  weekdays: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
  weekly: "FREQ=WEEKLY",
  week: "FREQ=WEEKLY",
  sennight: "FREQ=WEEKLY",
  biweekly: "FREQ=WEEKLY;INTERVAL=2",
  fortnight: "FREQ=WEEKLY;INTERVAL=2",
  monthly: "FREQ=MONTHLY",
  month: "FREQ=MONTHLY",
  bimonthly: "FREQ=MONTHLY;INTERVAL=2",
  quarterly: "FREQ=MONTHLY;INTERVAL=3",
  semiannual: "FREQ=MONTHLY;INTERVAL=6",
  yearly: "FREQ=YEARLY",
  annual: "FREQ=YEARLY",
  year: "FREQ=YEARLY",
  biannual: "FREQ=YEARLY;INTERVAL=2",
  biyearly: "FREQ=YEARLY;INTERVAL=2",
};
// biome-ignore format: a table of short entries, several to a line
const UNIT: Record<string, [string, number]> = {
  d: ["DAILY", 1], day: ["DAILY", 1], days: ["DAILY", 1],
  w: ["WEEKLY", 1], wk: ["WEEKLY", 1], wks: ["WEEKLY", 1], week: ["WEEKLY", 1], weeks: ["WEEKLY", 1],
  mo: ["MONTHLY", 1], mos: ["MONTHLY", 1], month: ["MONTHLY", 1], months: ["MONTHLY", 1],
  q: ["MONTHLY", 3], qtr: ["MONTHLY", 3], quarter: ["MONTHLY", 3], quarters: ["MONTHLY", 3],
  y: ["YEARLY", 1], yr: ["YEARLY", 1], yrs: ["YEARLY", 1], year: ["YEARLY", 1], years: ["YEARLY", 1],
};

// What the reader relies on, checked before anything is read; other fields are ignored.
const present = (field: string) => z.string({ error: `\`${field}\` is missing` }).refine((v) => v.trim() !== "", `\`${field}\` is missing`);
const text = (field: string) => z.string({ error: `\`${field}\` must be text` }).optional();
const TwTaskSchema = z.looseObject({
  uuid: present("uuid"),
  description: present("description"),
  status: present("status"),
  project: text("project"),
  tags: z.array(z.string(), { error: "`tags` must be a list of names" }).optional(),
  priority: text("priority"),
  due: text("due"),
  scheduled: text("scheduled"),
  until: text("until"),
  wait: text("wait"),
  recur: text("recur"),
  parent: text("parent"),
  depends: z.union([z.string(), z.array(z.string())], { error: "`depends` must be text or a list of task ids" }).optional(),
  annotations: z
    .array(z.looseObject({ entry: text("annotations.entry"), description: text("annotations.description") }, { error: "`annotations` must be a list of notes" }), {
      error: "`annotations` must be a list of notes",
    })
    .optional(),
});
type TwTask = z.infer<typeof TwTaskSchema>;

export function looksLikeTaskwarrior(data: unknown): boolean {
  const first = Array.isArray(data) ? data[0] : undefined;
  return Array.isArray(data) && (data.length === 0 || (typeof first === "object" && first !== null && "uuid" in first && "description" in first));
}

/** The JSON of `task export`, or its older form with one object per line. */
export function parseTaskwarriorText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return JSON.parse(trimmed);
  return trimmed
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line.replace(/,\s*$/, ""));
      } catch (err) {
        throw new ImportFormatError(`not JSON (${(err as Error).message})`, `line ${i + 1}`);
      }
    });
}

export function readTaskwarrior(data: unknown): ImportPlan {
  if (!Array.isArray(data)) throw new ImportFormatError("not a Taskwarrior export: expected a JSON list of tasks (`task export`)");
  const all = data.map((raw, i) => checked(raw, `task ${i + 1}`));
  const unmapped: Unmapped[] = [];
  const projects = new ProjectList();
  const templates = new Map(all.filter((t) => t.status === "recurring").map((t) => [t.uuid, t]));
  // A series is imported once, due when its next pending instance is.
  const nextInstance = new Map<string, TwTask>();
  for (const t of all) {
    if (t.parent && templates.has(t.parent) && t.status === "pending" && t.due) {
      const seen = nextInstance.get(t.parent);
      if (!seen || t.due < seen.due!) nextInstance.set(t.parent, t);
    }
  }
  const tasks: ImportedTask[] = [];
  for (const t of all) {
    const where = `task ${t.uuid}`;
    if (t.status === "deleted") {
      unmapped.push({ where, field: "status", value: "deleted", reason: "deleted tasks are not imported" });
      continue;
    }
    if (t.parent && templates.has(t.parent)) {
      if (t.status === "pending") unmapped.push({ where, field: "parent", value: t.parent, reason: "an instance of a recurring task: imported as that series" });
      else unmapped.push({ where, field: "status", value: t.status, reason: "a past instance of a recurring task: not imported" });
      continue;
    }
    const [project, ...rest] = t.project ? t.project.split(".") : [];
    const section = rest.length ? rest.join(".") : undefined;
    if (project) projects.add(project, section);
    const due = (t.status === "recurring" ? nextInstance.get(t.uuid)?.due : undefined) ?? t.due;
    const task: ImportedTask = {
      sourceId: `taskwarrior:${t.uuid}`,
      where,
      title: t.description.trim(),
      notes: (t.annotations ?? []).map((a) => `${a.entry ? `${dateOf(a.entry, where, "annotations.entry").slice(0, 10)}: ` : ""}${a.description ?? ""}`).join("\n"),
      ...(project ? { project } : {}),
      ...(section ? { section } : {}),
      priority: t.priority ? (PRIORITY[t.priority] ?? "none") : "none",
      tags: cleanTags(t.tags ?? [], where, unmapped),
      completed: t.status === "completed",
      ...(due ? { due: { instant: dateOf(due, where, "due") } } : {}),
    };
    if (t.priority && !PRIORITY[t.priority]) unmapped.push({ where, field: "priority", value: t.priority, reason: "not H, M or L: imported without a priority" });
    if (t.recur) {
      const recurrence = recurrenceOf(t, where);
      if (recurrence && !due) unmapped.push({ where, field: "recur", value: t.recur, reason: "a repeat needs a due date" });
      else if (recurrence) task.recurrence = recurrence;
      else unmapped.push({ where, field: "recur", value: t.recur, reason: "a period Taskwarrior knows but no repeat rule here expresses" });
    } else if (t.until) unmapped.push({ where, field: "until", value: t.until, reason: "tasks do not expire" });
    if (t.scheduled) unmapped.push({ where, field: "scheduled", value: t.scheduled, reason: "tasks have no start date (only a due)" });
    if (t.wait) unmapped.push({ where, field: "wait", value: t.wait, reason: "tasks are not hidden until a date" });
    const depends = typeof t.depends === "string" ? t.depends.split(",") : (t.depends ?? []);
    if (depends.length) unmapped.push({ where, field: "depends", value: depends.join(","), reason: "tasks have no dependencies" });
    tasks.push(task);
  }
  return { format: "taskwarrior", projects: projects.list(), tasks, unmapped };
}

/** RRULE for a Taskwarrior period, with `until` as UNTIL; undefined when none fits (hours, minutes). */
export function recurrenceOf(t: Pick<TwTask, "recur" | "until">, where = "task"): ImportedRecurrence | undefined {
  const recur = t.recur!.trim().toLowerCase();
  let rule = NAMED_RECUR[recur];
  const counted = /^(\d+)\s*([a-z]+)$/.exec(recur) ?? /^p(\d+)([dwmy])$/.exec(recur);
  if (!rule && counted) {
    const unit = UNIT[counted[2] === "m" && recur.startsWith("p") ? "mo" : counted[2]!];
    const n = Number(counted[1]) * (unit?.[1] ?? 1);
    if (unit && n > 0) rule = `FREQ=${unit[0]}${n > 1 ? `;INTERVAL=${n}` : ""}`;
  }
  if (!rule) return undefined;
  if (t.until) rule += `;UNTIL=${dateOf(t.until, where, "until").replace(/[-:]|\.\d+/g, "")}`;
  return { rrule: rule };
}

/** An instant (ISO) from Taskwarrior's 20261204T120000Z or an ISO form. */
function dateOf(value: string, where: string, field: string): string {
  const m = COMPACT_DATE.exec(value);
  const date = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new ImportFormatError(`${field} "${value}" is not a date (expected e.g. 20261204T120000Z)`, where);
  return date.toISOString();
}

function checked(raw: unknown, where: string): TwTask {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ImportFormatError("not an object", where);
  const result = TwTaskSchema.safeParse(raw);
  if (result.success) return result.data;
  const uuid: unknown = Reflect.get(raw, "uuid");
  throw new ImportFormatError(result.error.issues[0]!.message, typeof uuid === "string" && uuid.trim() ? `task ${uuid}` : where);
}
