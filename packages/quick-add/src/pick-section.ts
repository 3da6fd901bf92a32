// Todoist users file a task as they type it: `/meetings` puts it in the section Meetings of the
// project the line goes to (the one it names with `#`, else the one it would go to anyway), as the
// filter reads `/meetings`. Names compare as the filter compares them (`/to-do` is "To do"). A
// `/word` that names no section there ("and /or", "/tmp") stays in the title as typed, where the
// missing section in what was understood shows it.
import { nameKey } from "@taskmesh/filter";
import { withoutWord, type QuickAddDraft } from "./parse-quick-add.js";
import type { ProjectChoice } from "./pick-project.js";

export interface SectionChoice {
  id: string;
  name: string;
}

const SECTION = /(^|\s)\/([\p{L}\p{N}][\p{L}\p{N}_.-]*)(?=\s|$)/gu;

/** Whether the line's title has a `/name`, so the sections are asked for only when one may be named. */
export function namesSection(title: string): boolean {
  return title.search(SECTION) !== -1;
}

/**
 * The draft with its first `/name` that names one of `sections`, the sections of `project` (the
 * project the line goes to), taken as the section (the word dropped): the line then goes to that
 * project even when it named none.
 */
export function pickSection<D extends QuickAddDraft>(draft: D, project: ProjectChoice, sections: readonly SectionChoice[]): D {
  for (const match of draft.title.matchAll(SECTION)) {
    const section = sections.find((s) => nameKey(s.name) === nameKey(match[2]!));
    if (section) return { ...draft, title: withoutWord(draft.title, match), project: { id: project.id, name: project.name }, section: { id: section.id, name: section.name } };
  }
  return draft;
}
