// Todoist users type `#project`; here `#` has always meant a tag. Both habits keep working: a `#name`
// that names one of the user's projects (compared as the filter's `project:` compares names, so
// `#home-reno` is "Home reno") puts the task there, and any other `#name` stays a tag.
import { nameKey } from "@taskmesh/filter";
import type { QuickAddDraft } from "./parse-quick-add.js";

export interface ProjectChoice {
  id: string;
  name: string;
}

/** The draft with its first `#tag` that names a project taken as the project (the tag dropped). */
export function pickProject<D extends QuickAddDraft>(draft: D, projects: readonly ProjectChoice[]): D {
  for (const tag of draft.tags) {
    const project = projects.find((p) => nameKey(p.name) === nameKey(tag));
    if (project) return { ...draft, project, tags: draft.tags.filter((t) => t !== tag) };
  }
  return draft;
}
