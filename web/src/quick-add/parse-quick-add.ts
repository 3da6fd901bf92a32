// Reads one line of quick-add text: "Pay rent every month on the 1st at 9am #home !high remind me 1 day before".
// Tags, priority and the reminder are found here; dates and times by chrono-node; the recurrence
// phrase is only cut out here and understood by RecurrenceService.ParseRecurrence (see resolve.ts).
import * as chrono from "chrono-node/en";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

export type Due = { kind: "date"; date: string } | { kind: "time"; time: Date };

export type ReminderDraft = { kind: "before"; seconds: number } | { kind: "at"; time: Date };

export interface QuickAddDraft {
  title: string;
  tags: string[];
  priority?: Priority;
  due?: Due;
  /** The words that gave the due date, as typed. */
  dueText?: string;
  /** "every month on the 1st at 9am": to be parsed by the recurrence service. */
  recurrenceText?: string;
  reminder?: ReminderDraft;
  reminderText?: string;
}

const TAG = /(^|\s)#([\p{L}\p{N}_./-]{1,64})(?=\s|$)/gu;
const PRIORITY = /(^|\s)!(high|hi|medium|med|low|lo|none|[123])(?=\s|$)/iu;
const PRIORITIES: Record<string, Priority> = {
  high: Priority.HIGH,
  hi: Priority.HIGH,
  "1": Priority.HIGH,
  medium: Priority.MEDIUM,
  med: Priority.MEDIUM,
  "2": Priority.MEDIUM,
  low: Priority.LOW,
  lo: Priority.LOW,
  "3": Priority.LOW,
  none: Priority.NONE,
};
const REMIND_BEFORE = /(^|\s)remind(?:\s+me)?\s+(\d+|an?|one)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s+(?:before|early|earlier|ahead)(?=\s|$)/iu;
const REMIND_AT = /(^|\s)remind(?:\s+me)?\s+(?=at\s|on\s|tomorrow|today|next\s)/iu;
// "every …" always starts a rule; a bare "weekly" only when nothing but rule words follow it, so
// "Prepare monthly report" keeps its title.
const RECURRENCE_START = /(^|\s)(every!?(?=\s)|(?:daily|weekly|monthly|yearly|annually|quarterly|biweekly|fortnightly|weekdays|weekends)(?=\s*$|\s+(?:at|on|in|from|starting|beginning|until|after|for|\d)\b))/iu;
// Introduces the first due of a recurring task: "every monday starting next week".
const SERIES_START = /\s(?:starting|beginning|from)\s/iu;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };

export function parseQuickAdd(text: string, now: Date = new Date()): QuickAddDraft {
  let rest = ` ${text} `;
  const draft: QuickAddDraft = { title: "", tags: [] };

  rest = rest.replace(TAG, (_m, lead: string, tag: string) => {
    const name = tag.toLowerCase();
    if (!draft.tags.includes(name)) draft.tags.push(name);
    return lead;
  });
  rest = rest.replace(PRIORITY, (_m, lead: string, level: string) => {
    draft.priority = PRIORITIES[level.toLowerCase()];
    return lead;
  });

  const before = REMIND_BEFORE.exec(rest);
  if (before) {
    const count = /^\d+$/.test(before[2]!) ? Number(before[2]) : 1;
    draft.reminder = { kind: "before", seconds: count * UNIT_SECONDS[before[3]![0]!.toLowerCase()]! };
    draft.reminderText = before[0].trim();
    rest = rest.replace(before[0], before[1]!);
  }
  let reminderAt: string | undefined;
  const at = draft.reminder ? null : REMIND_AT.exec(rest);
  if (at) {
    const after = rest.slice(at.index + at[0].length);
    const when = chrono.parse(after, now, { forwardDate: true })[0];
    if (when && when.index <= 3) {
      reminderAt = after.slice(0, when.index + when.text.length);
      draft.reminderText = `${at[0].trim()} ${reminderAt.trim()}`;
      rest = rest.slice(0, at.index) + at[1] + after.slice(reminderAt.length);
    }
  }

  const recurrence = RECURRENCE_START.exec(rest);
  let dueSource = rest;
  if (recurrence) {
    const phraseStart = recurrence.index + recurrence[1]!.length;
    let phrase = rest.slice(phraseStart);
    const start = SERIES_START.exec(phrase);
    const explicitStart = start ? phrase.slice(start.index + start[0].length) : "";
    if (start) phrase = phrase.slice(0, start.index);
    draft.recurrenceText = phrase.trim();
    dueSource = explicitStart;
    rest = rest.slice(0, phraseStart);
  }

  const found = takeDue(dueSource, now);
  if (found.due) {
    draft.due = found.due;
    draft.dueText = found.dueText;
    if (dueSource === rest) rest = found.rest;
  }

  if (reminderAt) {
    // "remind me at 8am" means 8am on the due day, also when the due is later that day.
    const dueDay = draft.due?.kind === "time" ? localDate(draft.due.time) : draft.due?.date;
    const when = dueDay ? chrono.parse(reminderAt, new Date(`${dueDay}T00:00`))[0] : chrono.parse(reminderAt, now, { forwardDate: true })[0];
    if (when) draft.reminder = { kind: "at", time: when.start.date() };
  }

  draft.title = cleanTitle(rest);
  return draft;
}

/** The first date or time in the text (chrono), and the text without it. */
export function takeDue(text: string, now: Date): { due?: Due; dueText?: string; rest: string } {
  const found = chrono.parse(text, now, { forwardDate: true })[0];
  if (!found) return { rest: text };
  const date = found.start.date();
  return {
    due: found.start.isCertain("hour") ? { kind: "time", time: date } : { kind: "date", date: localDate(date) },
    dueText: found.text,
    rest: text.slice(0, found.index) + text.slice(found.index + found.text.length),
  };
}

/** Words left dangling when the date was cut out: "Submit report by" → "Submit report". */
export function cleanTitle(text: string): string {
  let title = text.replace(/\s+/g, " ").trim();
  for (;;) {
    const trimmed = title.replace(/\s+(?:on|at|by|due|in|for|from|starting|before|until)$/iu, "");
    if (trimmed === title) return title;
    title = trimmed;
  }
}

export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
