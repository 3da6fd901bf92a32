// The words questions are read with: each rule a pattern and the terms it stands for, tried in
// order at each word by translate-question.ts.
import { DAYS_AWAY_MAX, HOURS_AWAY_MAX, isRelativeDay, MEMBER_NAME_SOURCE, MONTH_NAMES, nameKey, WEEKDAY_SHORT, WEEKDAYS, type DateField } from "./ast.js";
import { calendarDay } from "./phrases.js";

/** What the words read so far say about the next term: the day it is about ("created yesterday", "finished last week"), NOT, OR. */
export interface State {
  field: DateField;
  negate: boolean;
  or: boolean;
}

/** `apply` gives the terms: none when the words only change the state ("created", "not"), null when they are not this rule's after all. */
type Rule = { pattern: RegExp; apply: (m: RegExpExecArray, state: State) => Term | Term[] | undefined | null };
export type Term = string | { term: string; note: string };

// biome-ignore format: a table of short entries, several to a line
const NUMBERS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  thirteen: 13, fourteen: 14, fifteen: 15, twenty: 20, thirty: 30, a: 1,
};
const NUMBER = `(\\d{1,3}|${Object.keys(NUMBERS).join("|")})`;
const WEEKDAY = `(?:${[...WEEKDAYS, ...Object.keys(WEEKDAY_SHORT)].join("|")})`;
/** A month by its name or its first three letters ("sept" too). */
const MONTH = `(?:${MONTH_NAMES.map((name) => `${name.slice(0, 3)}(?:${name.slice(3)})?`).join("|")}|sept)`;
const MONTH_DAY = `(?:${MONTH} \\d{1,2}(?:st|nd|rd|th)?|(?:the )?\\d{1,2}(?:st|nd|rd|th)? (?:of )?${MONTH})(?: \\d{4})?`;
/** A day or range the language names, as written in a question. */
const DAY = `(today|tonight|tomorrow|tmrw|yesterday|(?:this|next|last|past|previous|the coming) (?:week|month)|(?:the )?end of (?:the |this )?(?:week|month|day)|eo[dwm]|(?:this |next |on )?${WEEKDAY}|\\d{4}-\\d{2}-\\d{2}|${MONTH_DAY})`;

function count(word: string): number {
  return NUMBERS[word.toLowerCase()] ?? Number(word);
}

/** The language's word for a day written in a question, and the comparison an "end of …" needs. */
function dayWord(written: string, state: State): { day: string; end: boolean } | null {
  const w = words(written).replace(/^(the|on) /, "");
  if (w === "tonight") return { day: "today", end: false };
  if (w === "tmrw") return { day: "tomorrow", end: false };
  if (/^\d{4}-\d{2}-\d{2}$/.test(w) || /^(today|tomorrow|yesterday)$/.test(w)) return { day: w, end: false };
  const end = /^(?:end of (?:the |this )?|eo)(week|w|month|m|day|d)$/.exec(w);
  if (end) return { day: { w: "this-week", week: "this-week", m: "this-month", month: "this-month", d: "today", day: "today" }[end[1]!]!, end: true };
  const span = /^(this|next|last|past|previous|coming) (week|month)$/.exec(w.replace(/^the /, ""));
  if (span) return { day: `${{ this: "this", next: "next", coming: "next", last: "last", past: "last", previous: "last" }[span[1]!]}-${span[2]}`, end: false };
  // "dec 20", "the 3rd of january 2027": the month's day nearest today, or that date.
  const parts = w
    .replace(/^the /, "")
    .split(" ")
    .filter((part) => part !== "of");
  const calendar = calendarDay(parts[0] ?? "", parts[1] ?? "", parts[2] ?? "");
  if (calendar) return isRelativeDay(calendar.text) || /^\d/.test(calendar.text) ? { day: calendar.text, end: false } : null;
  // The language's weekday is the next one: a past event's ("created on monday") has no word.
  if (state.field !== "due") return null;
  // "next friday" is Friday of next week, as quick add reads it; "this friday" the coming one.
  const [, next, weekday = w] = /^(?:(this|next) )?(.*)$/.exec(w) ?? [];
  const day = WEEKDAY_SHORT[weekday] ?? weekday;
  return { day: next === "next" ? `next-${day}` : day, end: false };
}

/** A one-word project or section name: not a word that says something else ("project tasks"). */
const NAME = "(?!(?:tasks?|todos?|items?|stuff|things?|due|and|or|with|without|at|in|for|the|my)(?:\\s|$))(\\S+)";

const ifDue = (state: State, term: string): string => (state.field === "due" ? term : `${state.field}:${term.slice("due:".length)}`);

// Tried in order at each word; a pattern must end at the end of a word. " " in a pattern also
// matches a hyphen ("high-priority").
export const RULES: Rule[] = [
  // Verbs that say which day a date is about; they add no term themselves.
  ...[
    ["(?:i |we )?(?:created|create|added|add|made|wrote|entered)", "created"],
    ["(?:i |we )?(?:changed|updated|modified|edited|touched)", "updated"],
    ["due|deadline", "due"],
    // Todoist's `date: Dec 20`, `date before: friday`; "date" before anything else is a word ("date night").
    [`date(?= (?:before |after |until |since |by |on )?${DAY})`, "due"],
  ].map(([pattern, field]): Rule => ({ pattern: re(pattern!), apply: (_, state) => void Object.assign(state, { field: field as DateField }) })),
  {
    pattern: re("(?:did (?:i|we)|have (?:i|we)|i've|we've|i have|we have) (?:finish|finished|complete|completed|do|done|close|closed|check off|checked off|tick off|ticked off|get done|got done)"),
    apply: (_, state) => completed(state),
  },
  { pattern: re("(?:i|we) (?:finished|completed|did|closed|checked off|ticked off|got done)"), apply: (_, state) => completed(state) },
  { pattern: re("(?:finished|completed|done|closed|checked off|ticked off)"), apply: (_, state) => completed(state) },
  { pattern: re("(?:open|pending|unfinished|incomplete|outstanding|not done|not completed|still to do|remaining)"), apply: () => "status:open" },
  { pattern: re("(?:any status|all statuses|including (?:completed|done|finished)(?: ones| tasks)?)"), apply: () => "status:all" },

  // Priority.
  {
    pattern: re("(?:(?:at least )?(medium|normal|high) priority or (?:higher|above|more)|priority (medium|normal|high) or (?:higher|above|more)|at least (medium|normal|high) priority)"),
    apply: (m) => `priority>=${level(m[1] ?? m[2] ?? m[3]!)}`,
  },
  { pattern: re("(?:(?:high|medium|normal|low) or (?:high|medium|normal|low)) priority"), apply: (m) => orPriority(m[0]) },
  {
    pattern: re("(?:(highest|top|high|urgent|important|medium|normal|mid|low|lowest|no) priority|(?:priority|prio|pri) (high|medium|normal|low|none|1|2|3|4|one|two|three|four)|p([1-4]))"),
    apply: (m) => `priority:${level(m[1] ?? m[2] ?? m[3]!)}`,
  },
  { pattern: re("(?:urgent|important|critical|prioritized|high)"), apply: () => "priority:high" },
  { pattern: re("(?:without|with no|no) (?:a )?priority"), apply: () => "priority:none" },

  // Dates.
  { pattern: re("(?:overdue|past due|late|missed(?: deadlines?)?|behind(?: schedule)?)"), apply: () => "due:overdue" },
  { pattern: re("(?:no|without(?: a)?|with no|missing(?: a)?) (?:due )?(?:date|deadline)s?|undated|unscheduled|not scheduled"), apply: () => "due:none" },
  { pattern: re("(?:with|has|having)(?: a)? (?:due )?(?:date|deadline)|scheduled|dated"), apply: () => "due:any" },
  { pattern: re(`(?:(?:in|within|over|for|during) )?(?:the )?(?:last|past|previous) ${NUMBER} (days?|weeks?)`), apply: (m, state) => lastDays(state, m[1]!, m[2]!) },
  { pattern: re(`${NUMBER} (days?|weeks?) ago`), apply: (m, state) => daysAgo(state, m[1]!, m[2]!) },
  { pattern: re(`(?:(?:in|within|over|for|during) )?(?:the )?(?:last|past|previous) (?:${NUMBER} hours?|day)`), apply: (m, state) => hoursAgo(state, m[1] ?? "24") },
  { pattern: re(`(?:in|within) (?:the )?(?:(?:next|coming) )?${NUMBER} hours?`), apply: (m, state) => nextHours(state, m[1]!) },
  { pattern: re(`(?:(?:in|within|over|for|during) )?(?:the )?(?:next|coming|upcoming) ${NUMBER} (days?|weeks?)`), apply: (m, state) => nextDays(state, m[1]!, m[2]!) },
  { pattern: re(`(?:(?:in|within) )?${NUMBER} (days?|weeks?)(?: from now)?`), apply: (m, state) => nextDays(state, m[1]!, m[2]!) },
  { pattern: re("(?:soon|upcoming|coming up|in the coming days)"), apply: (_, state) => ifDue(state, "due:next-7-days") },
  {
    pattern: re(`(?:between|from) ${DAY} (?:and|to|until|till|through) ${DAY}`),
    apply: (m, state) => {
      const [from, to] = [compare(state, "since", m[1]!), compare(state, "until", m[2]!)];
      return from && to ? [from, to] : null;
    },
  },
  { pattern: re(`(?:(before|until|till|by|no later than|after|since) )${DAY}(?: on)?`), apply: (m, state) => compare(state, m[1]!, m[2]!) },
  {
    pattern: re(`(?:(?:due |on |for |in |at )?)${DAY}(?:'s)?`),
    apply: (m, state) => {
      const d = dayWord(m[1]!, state);
      return d && `${state.field}${d.end ? "<=" : ":"}${d.day}`;
    },
  },

  // What kind of task.
  { pattern: re("(?:recurring|repeating)"), apply: () => "is:recurring" },
  { pattern: re("sub-?tasks?"), apply: () => "is:subtask" },
  { pattern: re("shared"), apply: () => "is:shared" },

  // Where: projects, sections, tags, assignees.
  { pattern: re("(?:in |from |of )?(?:the |my )?inbox"), apply: () => "project:inbox" },
  // A quoted name, else the capitalised words that follow ("project Home Reno due today"), else one word.
  {
    pattern: re(`(?:in |for |from |of |under )?(?:the |my )?(project|section) (?:"([^"]+)"|((?-i:\\p{Lu})\\S*(?: (?-i:\\p{Lu})\\S*)*)|${NAME})`),
    apply: (m) => `${m[1]!.toLowerCase()}:${nameKey(m[2] ?? m[3] ?? m[4]!)}`,
  },
  { pattern: re(`(?:(?:in|for|from|of) )?(?:the |my )?${NAME} (project|section)`), apply: (m) => `${m[2]!.toLowerCase()}:${nameKey(m[1]!)}` },
  { pattern: re("(?:tagged|labell?ed|with (?:the )?(?:tag|label)|(?:tag|label)) #?([\\p{L}\\p{N}_./-]+)"), apply: (m) => `tag:${m[1]!.toLowerCase()}` },
  { pattern: re("(?:without|with no|no) (?:tags?|labels?)|untagged|unlabell?ed"), apply: () => "tag:none" },
  // GTD's contexts: "at home", "@work", "at the office".
  { pattern: re("(?:at |@)(?:the )?(?!(?:least|all|any|once|some|night|noon|midnight)(?:\\s|$))(\\p{L}[\\p{L}\\p{N}_]*)"), apply: (m) => `tag:${m[1]!.toLowerCase()}` },
  { pattern: re("my assigned"), apply: () => "assignee:me" },
  { pattern: re("(?:unassigned|not assigned|assigned to (?:nobody|no one|noone))"), apply: () => "assignee:none" },
  // "assigned to …" is about the assignee, Todoist's "assigned by …" about who gave the task to them.
  ...(["to", "by"] as const).flatMap((word): Rule[] => {
    const field = word === "to" ? "assignee" : "assigner";
    return [
      { pattern: re(`assigned ${word}:? me`), apply: () => `${field}:me` },
      { pattern: re(`assigned ${word}:? (?:others|someone else|somebody else)`), apply: () => [`-${field}:me`, `-${field}:none`] },
      // A member, by e-mail or the part of it before the @ ("assigned to Bob", "assigned by: bob@example.com").
      {
        pattern: re(`assigned ${word}:? (?!(?:the|my|a|an|any|anyone|anybody|someone|somebody|everyone|everybody)(?:\\s|$))(${MEMBER_NAME_SOURCE})`),
        apply: (m) => `${field}:${m[1]!.toLowerCase()}`,
      },
    ];
  }),
  // Assigned to anyone.
  { pattern: re("assigned(?!\\s+(?:to|by)(?:\\s|:|$))"), apply: () => "-assignee:none" },

  // How terms combine.
  { pattern: re("(?:not|except|excluding|but not|without|other than)"), apply: (_, state) => void Object.assign(state, { negate: true }) },
  { pattern: re("or"), apply: (_, state) => void Object.assign(state, { or: true }) },
];

/** Words that carry no condition: "show me all my tasks". */
export const FILLER = new Set(
  (
    "show me list find get give display see view what what's whats which who are is was were am be my all every the a an i i'm i've we " +
    "have has had do does did to todo todos to-do tasks task items item things thing stuff that those these with of in on at and " +
    "any there please can could you would will should need must still up got for from about anything something everything ones one " +
    "left so far yet again just only also right now currently ever by it its them then than how many much lot lots recent recently new " +
    "latest mentioning containing contain contains called named titled regarding some search"
  ).split(" "),
);
/** Nouns for tasks: the word before one is a tag ("work tasks", "garden chores"). */
const TAG_WORD = "\\p{L}[\\p{L}\\p{N}_.-]{0,63}";
const NOUNS = "tasks?|todos?|to-dos?|items?|stuff|things?|errands?|chores?|jobs?";
export const NOUN = new RegExp(`^(?:${NOUNS})$`, "i");
/** A word, maybe with more joined by "or"/"and", before such a noun: "work or home tasks". */
export const TAG_BEFORE_NOUN = new RegExp(`^(${TAG_WORD}(?:\\s+(?:or|and)\\s+${TAG_WORD})*)\\s+(?:${NOUNS})(?=\\s|$)`, "iu");

function completed(state: State): Term {
  state.field = "completed";
  return "status:completed";
}

function level(word: string): string {
  const w = word.toLowerCase();
  if (/^(highest|top|high|urgent|important|1|one)$/.test(w)) return "high";
  if (/^(medium|normal|mid|2|two)$/.test(w)) return "medium";
  if (/^(low|lowest|3|three)$/.test(w)) return "low";
  return "none";
}

function orPriority(phrase: string): string {
  const [a, b] = phrase.split(/\s+or\s+/).map((w) => level(w.replace(/[\s-]*priority$/, "")));
  return `(priority:${a} OR priority:${b})`;
}

function nextDays(state: State, n: string, unit: string): Term {
  const days = count(n) * (unit.startsWith("week") ? 7 : 1);
  if (days < 1 || days > 366) return { term: ifDue(state, "due:next-366-days"), note: "at most 366 days ahead" };
  return ifDue(state, `due:next-${days}-days`);
}

/** "the last 3 days": today and the days before it, as "the next 3 days" are today and the days after. */
function lastDays(state: State, n: string, unit: string): Term | Term[] | null {
  const days = count(n) * (unit.startsWith("week") ? 7 : 1);
  if (days < 1 || days - 1 > DAYS_AWAY_MAX) return null;
  const since = days === 1 ? "today" : `${days - 1}-days-ago`;
  return state.field === "due" ? [`due>=${since}`, "due<=today"] : `${state.field}>=${since}`;
}

function daysAgo(state: State, n: string, unit: string): Term | null {
  const days = count(n) * (unit.startsWith("week") ? 7 : 1);
  return days >= 1 && days <= DAYS_AWAY_MAX ? `${state.field}:${days}-days-ago` : null;
}

function hoursAgo(state: State, n: string): Term | null {
  const hours = count(n);
  return hours >= 1 && hours <= HOURS_AWAY_MAX ? `${state.field}>${hours}-hours-ago` : null;
}

/** Due from now until then: not what is already overdue. Nothing else is "in the next hours". */
function nextHours(state: State, n: string): Term[] | null {
  const hours = count(n);
  return state.field === "due" && hours >= 1 && hours <= HOURS_AWAY_MAX ? [`due<in-${hours}-hours`, "-due:overdue"] : null;
}

function compare(state: State, written: string, dayWritten: string): string | null {
  const d = dayWord(dayWritten, state);
  if (!d) return null;
  // "by friday" includes friday; "before the end of the week" is up to its last day.
  const op = { before: d.end ? "<=" : "<", until: "<=", till: "<=", by: "<=", "no later than": "<=", after: ">", since: ">=" }[words(written)]!;
  return `${state.field}${op}${d.day}`;
}

function re(source: string): RegExp {
  return new RegExp(`(?:${source.replace(/ /g, "[\\s-]+")})(?=\\s|$)`, "iyu");
}

/** Lower case, one space between words ("End-of  week" → "end of week"); dates keep their hyphens. */
function words(text: string): string {
  return text.toLowerCase().replace(/(?<=\p{L})-(?=\p{L})|\s+/gu, " ");
}
