// Tasks carry their project's and section's ids; an agent reads names. Every tool's answer gets them
// from one ListProjects per request (and one ListSections per project its tasks are in), rather than
// each tool looking them up on its own.
import type { Client } from "@connectrpc/connect";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";

interface NamedTask {
  projectId?: string;
  projectName?: string;
  sectionId?: string;
  sectionName?: string;
}

export class ProjectNames {
  #projects?: Promise<Map<string, string>>;
  readonly #sections = new Map<string, Promise<Map<string, string>>>();

  constructor(private readonly projects: Client<typeof ProjectService>) {}

  /** The result with projectName and sectionName beside every task's ids (its text repeats the JSON). */
  async name(result: CallToolResult): Promise<CallToolResult> {
    if (!result.structuredContent) return result;
    const tasks = tasksIn(result.structuredContent);
    if (tasks.length === 0) return result;
    try {
      for (const task of tasks) {
        if (task.projectId) task.projectName = (await this.#projectNames()).get(task.projectId);
        if (task.projectId && task.sectionId) task.sectionName = (await this.#sectionNames(task.projectId)).get(task.sectionId);
      }
    } catch {
      // The ids are there; a name the project service could not give is left out rather than fail a change already made.
      return result;
    }
    return { ...result, content: [{ type: "text", text: JSON.stringify(result.structuredContent) }] };
  }

  #projectNames() {
    this.#projects ??= this.projects.listProjects({ includeArchived: true }).then((r) => new Map(r.projects.map((p) => [p.id, p.name])));
    return this.#projects;
  }

  #sectionNames(projectId: string) {
    let names = this.#sections.get(projectId);
    if (!names) {
      names = this.projects.listSections({ projectId }).then((r) => new Map(r.sections.map((s) => [s.id, s.name])));
      this.#sections.set(projectId, names);
    }
    return names;
  }
}

/** Every object in the answer that is a task (it has a projectId), at any depth. */
function tasksIn(value: unknown, found: NamedTask[] = []): NamedTask[] {
  if (Array.isArray(value)) for (const item of value) tasksIn(item, found);
  else if (value && typeof value === "object") {
    if (typeof (value as NamedTask).projectId === "string") found.push(value as NamedTask);
    for (const child of Object.values(value)) tasksIn(child, found);
  }
  return found;
}
