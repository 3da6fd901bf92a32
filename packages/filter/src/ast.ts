/**
 * The parsed form of a filter query. It knows nothing about SQL: the same tree selects tasks in
 * ListTasks, webhooks and saved views. Trees from `parseFilter` are canonical: `and`/`or` have at
 * least two children and never a child of their own kind, `not` never wraps a `not`, and `all`
 * only stands alone (the empty query).
 */
export type FilterNode =
  | { kind: "all" }
  | { kind: "and"; children: FilterNode[] }
  | { kind: "or"; children: FilterNode[] }
  | { kind: "not"; child: FilterNode }
  /** Words (`phrase: false`, one bare word) or a "quoted phrase" in the title or notes. */
  | { kind: "text"; value: string; phrase: boolean }
  /**
   * Lower-case tag; `null` = the task has no tags; a `*` in it matches any run of characters
   * (Todoist's `@home*`). `hash`: written `#name`, which Todoist users type for a project: it is the
   * project when the user has one of that name (`resolveNames`).
   */
  | { kind: "tag"; tag: string | null; hash?: true }
  | { kind: "priority"; op: Comparison; level: PriorityLevel }
  | { kind: "status"; status: StatusValue }
  /** A whole-day range in the caller's zone: a relative day word or an ISO date (YYYY-MM-DD). */
  | { kind: "date"; field: DateField; op: Comparison; day: RelativeDay | IsoDate }
  /**
   * Before or after the instant `hours` from now (negative: ago), Todoist's `due before: +4 hours`,
   * written `due<in-4-hours`. An all-day task is due until its date ends where the viewer is.
   */
  | { kind: "moment"; field: DateField; op: "<" | ">"; hours: number }
  /** `all-day`: due on a date, without a time (Todoist's `no time`). */
  | { kind: "due"; state: "none" | "any" | "overdue" | "all-day" }
  /** A project or a section by name: lower-case, runs of spaces, '-' and '_' as one '-'; a `*` matches any run of characters. */
  | { kind: "project" | "section"; name: string }
  /**
   * Whom a task is assigned to (`assignee`), or who assigned it (`assigner`, Todoist's `assigned by:`):
   * `me`: the caller; `none`: nobody; any other value a member of the caller's projects, by e-mail
   * or by the part of it before the @ (lower case), as quick add's `+name`.
   */
  | { kind: "assignee" | "assigner"; who: string }
  /** See IS_VALUES. */
  | { kind: "is"; what: IsValue };

export type Comparison = "=" | "<" | "<=" | ">" | ">=";
export type DateField = "due" | "created" | "updated" | "completed";
/** `YYYY-MM-DD`, a valid calendar date. */
export type IsoDate = `${number}-${number}-${number}`;

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** The weekdays as people shorten them. */
// biome-ignore format: a table of short entries, several to a line
export const WEEKDAY_SHORT: Record<string, Weekday> = {
  mon: "monday", tue: "tuesday", tues: "tuesday", wed: "wednesday", thu: "thursday", thur: "thursday", thurs: "thursday",
  fri: "friday", sat: "saturday", sun: "sunday",
};

/** A day word with its weekday written out: `fri` → `friday`, `next-fri` → `next-friday`; any other word as it is. */
export function fullWeekday(day: string): string {
  const m = /^(next-)?([a-z]+)$/.exec(day);
  const full = m && Object.hasOwn(WEEKDAY_SHORT, m[2]!) ? WEEKDAY_SHORT[m[2]!] : undefined;
  return full ? `${m![1] ?? ""}${full}` : day;
}

// biome-ignore format: a table of short entries, several to a line
export const RELATIVE_DAYS = [
  "today", "tomorrow", "yesterday", "this-week", "next-week", "last-week", "next-7-days", "this-month", "next-month", "last-month",
  ...WEEKDAYS,
] as const;
export const MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
/** The months as a month's day writes them (`dec-20`): their names' first three letters. */
export const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] as const;
/** A day of the year without its year (`dec-20`, as Todoist's `date: Dec 20`): the one nearest today. */
export type MonthDay = `${(typeof MONTHS)[number]}-${number}`;
/**
 * A named day or range, `next-N-days` (today and the N - 1 days after it, N from 1 to 366), a month's
 * day, a day of next week (`next-friday`, as quick add reads "next friday"), or a day counted from
 * today (`N-days-ago`, `in-N-days`, N from 1 to 3,660: Todoist's `-365 days` and `+7 days`).
 */
export type RelativeDay = (typeof RELATIVE_DAYS)[number] | `next-${number}-days` | MonthDay | `next-${Weekday}` | `${number}-days-ago` | `in-${number}-days`;
const NEXT_DAYS = /^next-([1-9]\d{0,2})-days$/;
const NEXT_WEEKDAY = new RegExp(`^next-(${WEEKDAYS.join("|")})$`);
const DAYS_AWAY = /^(?:in-([1-9]\d{0,3})-days|([1-9]\d{0,3})-days-ago)$/;
/** The most days a day can be counted from today (ten years). */
export const DAYS_AWAY_MAX = 3660;
const HOURS_AWAY = /^(?:in-([1-9]\d{0,3})-hours|([1-9]\d{0,3})-hours-ago)$/;
/** The most hours an instant can be counted from now (a leap year). */
export const HOURS_AWAY_MAX = 8784;
/** What to write for a day or an instant counted from now, for errors. */
export const COUNTED_HINT = `write +N or -N with days, weeks or hours after it (e.g. created before: -365 days, due before: +4 hours): up to ${DAYS_AWAY_MAX} days or ${HOURS_AWAY_MAX} hours`;
const MONTH_DAY = /^([a-z]{3})-([1-9]|[12]\d|3[01])$/;
/** The longest each month is (February in a leap year). */
const MONTH_LENGTHS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const PRIORITY_LEVELS = ["none", "low", "medium", "high"] as const;
export type PriorityLevel = (typeof PRIORITY_LEVELS)[number];
/** Stored smallint values of tasks.priority (taskmesh.tasks.v1.Priority). */
export const PRIORITY_RANK: Record<PriorityLevel, number> = { none: 1, low: 2, medium: 3, high: 4 };
/** The level a taskmesh.tasks.v1.Priority stands for; unspecified (0) is none. */
export const priorityLevel = (priority: number): PriorityLevel => PRIORITY_LEVELS.find((level) => PRIORITY_RANK[level] === priority) ?? "none";

export const STATUS_VALUES = ["open", "completed", "all"] as const;
export type StatusValue = (typeof STATUS_VALUES)[number];
/** Stored smallint values of tasks.status. */
export const STATUS_CODE = { open: 1, completed: 2 } as const;

export const FIELDS = ["tag", "priority", "status", "due", "created", "updated", "project", "section", "assignee", "assigner", "completed", "is"] as const;

/** A repeating task; a subtask (one with a parent); a task of a project shared with anyone (Todoist's `shared`). */
export const IS_VALUES = ["recurring", "subtask", "shared"] as const;
export type IsValue = (typeof IS_VALUES)[number];

/** How `project:` and `section:` compare names: "Home  Reno", "home-reno" and "home_reno" are one. */
export function nameKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/gu, "-");
}

/**
 * Whether a name key (`nameKey`) is the one a term names: the same, or, where the term has a `*`
 * (Todoist's wildcard: `#work*`, `/meet*`), any run of characters there.
 */
export function namesMatch(key: string, term: string): boolean {
  if (!term.includes("*")) return key === term;
  const pattern = term
    .split("*")
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`, "u").test(key);
}

export function isRelativeDay(day: string): day is RelativeDay {
  return (RELATIVE_DAYS as readonly string[]).includes(day) || nextDays(day) !== undefined || monthDay(day) !== undefined || nextWeekday(day) !== undefined || daysAway(day) !== undefined;
}

/** The weekday of `next-friday`, undefined for any other text. */
export function nextWeekday(day: string): Weekday | undefined {
  return NEXT_WEEKDAY.exec(day)?.[1] as Weekday | undefined;
}

/** How many days from today `in-N-days` (N) and `N-days-ago` (-N) are; undefined for any other text. */
export function daysAway(day: string): number | undefined {
  return signedCount(DAYS_AWAY.exec(day), DAYS_AWAY_MAX);
}

/** How many hours from now `in-N-hours` (N) and `N-hours-ago` (-N) are; undefined for any other text. */
export function hoursAway(word: string): number | undefined {
  return signedCount(HOURS_AWAY.exec(word), HOURS_AWAY_MAX);
}

/** `in-N-…` (group 1) as N, `N-…-ago` (group 2) as -N, up to `max`. */
function signedCount(m: RegExpExecArray | null, max: number): number | undefined {
  const n = Number(m?.[1] ?? m?.[2]);
  if (!m || n > max) return undefined;
  return m[1] ? n : -n;
}

/** Month (1–12) and day of `dec-20`; undefined for any other text or a day no year has (`feb-30`). */
export function monthDay(day: string): { month: number; day: number } | undefined {
  const m = MONTH_DAY.exec(day);
  const month = m ? (MONTHS as readonly string[]).indexOf(m[1]!) + 1 : 0;
  if (month === 0 || Number(m![2]) > MONTH_LENGTHS[month - 1]!) return undefined;
  return { month, day: Number(m![2]) };
}

/** N of `next-N-days`, undefined for any other text. */
export function nextDays(day: string): number | undefined {
  const n = Number(NEXT_DAYS.exec(day)?.[1]);
  return n >= 1 && n <= 366 ? n : undefined;
}

/** Whether the filter has a term of this kind (e.g. to look up sections only when asked for). */
export function mentions(n: FilterNode, kind: FilterNode["kind"]): boolean {
  return hasTerm(n, (term) => term.kind === kind);
}

/** The caller's projects and sections, by name, for the terms only they can read. */
export interface Names {
  projects: readonly { name: string }[];
  sections: readonly { name: string }[];
}

/** A bare `/name`: Todoist's section of that name (`/*ing` any name ending so), when the caller has one (else a word to search for). */
const SECTION_WORD = /^\/([\p{L}\p{N}*][^/]*)$/u;

/** Whether a word is written as a section (`/meetings`): a filter term, though its meaning waits for the caller's names. */
export function isSectionWord(word: string): boolean {
  return SECTION_WORD.test(word);
}

/** How `assignee:` and `assigned to:` name a member: an e-mail, or its part before the @ (a pattern to build on). */
export const MEMBER_NAME_SOURCE = String.raw`[\p{L}\p{N}][\p{L}\p{N}._%+'-]*(?:@[\p{L}\p{N}][\p{L}\p{N}.-]*)?`;
export const MEMBER_NAME = new RegExp(`^${MEMBER_NAME_SOURCE}$`, "u");

/** An assignee or assigner term that names a member (`assignee:bob`), not the caller or nobody. */
export function namesMember(n: FilterNode): boolean {
  return (n.kind === "assignee" || n.kind === "assigner") && n.who !== "me" && n.who !== "none";
}

/** Whether a member's e-mail is the one `who` names: the whole address, or its part before the @. */
export function isNamedMember(email: string, who: string): boolean {
  const lower = email.toLowerCase();
  return lower === who || lower.slice(0, lower.lastIndexOf("@")) === who;
}

/**
 * What of the caller's the filter needs to be read: their projects for `#name` and `is:shared`,
 * sections for `/name`, the members of their projects for `assignee:name`.
 */
export function namesNeeded(n: FilterNode): { projects: boolean; sections: boolean; members: boolean } {
  return {
    projects: hasTerm(n, (t) => (t.kind === "tag" && t.hash === true) || (t.kind === "is" && t.what === "shared")),
    sections: hasTerm(n, (t) => t.kind === "text" && !t.phrase && isSectionWord(t.value)),
    members: hasTerm(n, namesMember),
  };
}

/**
 * The filter with each `#name` that names one of the projects (as `project:` compares names) read as
 * that project, as quick add places a task, and the other `#name`s as the tags they then are; and
 * each `/name` that names one of the sections as that section (the others stay words).
 */
export function resolveNames(n: FilterNode, names: Names): FilterNode {
  switch (n.kind) {
    case "and":
    case "or":
      return { kind: n.kind, children: n.children.map((c) => resolveNames(c, names)) };
    case "not":
      return { kind: "not", child: resolveNames(n.child, names) };
    case "tag": {
      const tag = n.tag;
      if (!n.hash || tag === null) return n;
      return names.projects.some((p) => namesMatch(nameKey(p.name), nameKey(tag))) ? { kind: "project", name: nameKey(tag) } : { kind: "tag", tag };
    }
    case "text": {
      const section = n.phrase ? undefined : SECTION_WORD.exec(n.value)?.[1];
      if (section === undefined || !names.sections.some((s) => namesMatch(nameKey(s.name), nameKey(section)))) return n;
      return { kind: "section", name: nameKey(section) };
    }
    default:
      return n;
  }
}

/** Whether a term of the filter, however deep, passes `test`. */
export function hasTerm(n: FilterNode, test: (term: FilterNode) => boolean): boolean {
  if (test(n)) return true;
  if (n.kind === "and" || n.kind === "or") return n.children.some((c) => hasTerm(c, test));
  return n.kind === "not" && hasTerm(n.child, test);
}
