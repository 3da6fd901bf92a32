// Where a line goes, read as the web app's quick add reads it, for the clients that ask the
// server as they go (the CLI, the MCP tools): `#name` is the project of that name (else a tag),
// `/name` a section of the project the line goes to (the Inbox when it names none), `+name` a member
// of that project.
import type { QuickAddDraft } from "./parse-quick-add.js";
import { mentionsSomeone, pickAssignee, type MemberChoice } from "./pick-assignee.js";
import { pickProject, type ProjectChoice } from "./pick-project.js";
import { namesSection, pickSection, type SectionChoice } from "./pick-section.js";

/** The caller's projects as ListProjects gives them (archived ones are never picked). */
type Projects = readonly (ProjectChoice & { inbox: boolean; archived: boolean })[];
/** What is read of the project service (its client, or one that answers "none" when it cannot be reached). */
export interface PlacementLookups {
  listSections(req: { projectId: string }): Promise<{ sections: readonly SectionChoice[] }>;
  listMembers(req: { projectId: string }): Promise<{ members: readonly MemberChoice[] }>;
}

/** The draft placed: its project, then the section and member named within it. */
export async function placeLine<D extends QuickAddDraft>(draft: D, projects: Projects, client: PlacementLookups): Promise<D> {
  return placeWithin(
    pickProject(
      draft,
      projects.filter((p) => !p.archived),
    ),
    projects,
    client,
  );
}

/** The project a draft goes to, whose sections its `/name` is looked for among: the one it names, else the Inbox. */
export function lineProject(draft: QuickAddDraft, projects: Projects): ProjectChoice | undefined {
  return draft.project ?? projects.find((p) => p.inbox);
}

/** The section and member a draft names, within the project it goes to (already chosen: the Inbox when none). */
export async function placeWithin<D extends QuickAddDraft>(draft: D, projects: Projects, client: PlacementLookups): Promise<D> {
  const target = lineProject(draft, projects);
  const placed = target && namesSection(draft.title) ? pickSection(draft, target, (await client.listSections({ projectId: target.id })).sections) : draft;
  return placed.project && mentionsSomeone(placed.title) ? pickAssignee(placed, (await client.listMembers({ projectId: placed.project.id })).members) : placed;
}
