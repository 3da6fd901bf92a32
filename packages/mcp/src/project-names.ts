// Tasks carry their project's, section's and assignee's ids; an agent reads names. Every tool's answer
// gets them from one ListProjects per request (and one ListSections per project its tasks are in, one
// ListMembers per project with an assigned task), rather than each tool looking them up on its own.
import type { Client } from "@connectrpc/connect";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";

export interface NamedTask {
  projectId?: string;
  projectName?: string;
  sectionId?: string;
  sectionName?: string;
  assigneeId?: string;
  assigneeEmail?: string;
  assignerId?: string;
  assignerEmail?: string;
}

export class ProjectNames {
  #projects?: Promise<Map<string, string>>;
  readonly #sections = new Map<string, Promise<Map<string, string>>>();
  readonly #members = new Map<string, Promise<Map<string, string>>>();

  constructor(private readonly projects: Client<typeof ProjectService>) {}

  /** The result with projectName, sectionName, assigneeEmail and assignerEmail beside every task's ids (its text repeats the JSON). */
  async name(result: CallToolResult): Promise<CallToolResult> {
    if (!result.structuredContent) return result;
    const tasks = tasksIn(result.structuredContent);
    if (tasks.length === 0) return result;
    try {
      for (const task of tasks) await this.nameTask(task);
    } catch {
      // The ids are there; a name the project service could not give is left out rather than fail a change already made.
      return result;
    }
    return { ...result, content: [{ type: "text", text: JSON.stringify(result.structuredContent) }] };
  }

  /** Sets projectName, sectionName, assigneeEmail and assignerEmail beside the task's ids. */
  async nameTask(task: NamedTask): Promise<void> {
    if (task.projectId) task.projectName = (await this.#projectNames()).get(task.projectId);
    if (task.projectId && task.sectionId) task.sectionName = (await this.#sectionNames(task.projectId)).get(task.sectionId);
    if (task.projectId && task.assigneeId) task.assigneeEmail = (await this.#memberEmails(task.projectId)).get(task.assigneeId);
    if (task.projectId && task.assignerId) task.assignerEmail = (await this.#memberEmails(task.projectId)).get(task.assignerId);
  }

  #projectNames() {
    this.#projects ??= this.projects.listProjects({ includeArchived: true }).then((r) => new Map(r.projects.map((p) => [p.id, p.name])));
    return this.#projects;
  }

  #sectionNames(projectId: string) {
    return once(this.#sections, projectId, () => this.projects.listSections({ projectId }).then((r) => new Map(r.sections.map((s) => [s.id, s.name]))));
  }

  #memberEmails(projectId: string) {
    return once(this.#members, projectId, () => this.projects.listMembers({ projectId }).then((r) => new Map(r.members.map((m) => [m.userId, m.email]))));
  }
}

/** The lookup kept under `key`, made by `read` the first time. */
function once<T>(kept: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let value = kept.get(key);
  if (!value) {
    value = read();
    kept.set(key, value);
  }
  return value;
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
