// Todoist users assign as they type: `+bob` in a line for a shared project. A `+name` that is one
// member's e-mail, or the part of it before the @, assigns the task to that member and leaves the
// title; any other `+word` (a typo, someone not in the project) stays in the title as typed, where
// the missing "Assigned" in what was understood shows it.
import { isNamedMember } from "@taskmesh/filter";
import { withoutWord, type QuickAddDraft } from "./parse-quick-add.js";

export interface MemberChoice {
  userId: string;
  email: string;
}

const MENTION = /(^|\s)\+(\p{L}[\p{L}\p{N}_.@'+-]*)(?=\s|$)/gu;

/** Whether the line's title has a `+name`, so the members are asked for only when one may be named. */
export function mentionsSomeone(title: string): boolean {
  return title.search(MENTION) !== -1;
}

/** The draft with its first `+name` that names exactly one member taken as the assignee (the word dropped). */
export function pickAssignee<D extends QuickAddDraft>(draft: D, members: readonly MemberChoice[]): D {
  for (const match of draft.title.matchAll(MENTION)) {
    const name = match[2]!.toLowerCase();
    const named = members.filter((m) => isNamedMember(m.email, name));
    if (named.length !== 1) continue;
    return { ...draft, title: withoutWord(draft.title, match), assignee: { id: named[0]!.userId, email: named[0]!.email } };
  }
  return draft;
}
