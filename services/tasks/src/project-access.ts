import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { invalidArgument } from "@taskmesh/kit";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { EntityManager } from "@taskmesh/db";
import type { ProjectRow, ProjectStore } from "./project-store.js";
import type { Placement } from "./task-store.js";
import type { TaskRow } from "./task-row.js";

/** Trusted metadata from the gateway: the caller's account e-mail (invitations are addressed to it). */
const EMAIL_HEADER = "x-user-email";

export function emailOf(ctx: HandlerContext): string {
  const value = (ctx.requestHeader.get(EMAIL_HEADER) ?? "").trim().toLowerCase();
  return value.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(value) ? value : "";
}

export function permissionDenied(message: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied);
}

export function projectNotFound(id: string): ConnectError {
  return new ConnectError(`project ${id} not found`, Code.NotFound);
}

/** The caller's role on the task's project; undefined: the caller may not see it. */
export async function roleOnTask(projects: ProjectStore, caller: string, row: TaskRow, em?: EntityManager): Promise<ProjectRole | undefined> {
  if (row.userId === caller) return ProjectRole.ADMIN;
  if (!row.projectId) return undefined;
  return (await projects.member(row.projectId, caller, em))?.role;
}

/** The project, for a caller who needs at least `need` on it (NOT_FOUND for a stranger). */
export async function projectFor(projects: ProjectStore, caller: string, id: string, need: ProjectRole, em?: EntityManager): Promise<ProjectRow> {
  const project = await projects.get(caller, id, em);
  if (!project) throw projectNotFound(id);
  if (project.role < need) {
    const what = need === ProjectRole.ADMIN ? "an admin" : "an editor";
    throw permissionDenied(`you are ${project.role === ProjectRole.VIEWER ? "a viewer" : "an editor"} of “${project.name}”: only ${what} may do this (an admin of the project can change your role)`);
  }
  return project;
}

/**
 * Where a task created or moved by `caller` goes: a project the caller may edit, a section of it,
 * and an assignee among its members (`prefix` + field for errors: "" or "task."). The owner of the
 * project owns the task.
 */
export async function placementOf(
  projects: ProjectStore,
  caller: string,
  projectId: string,
  sectionId: string,
  assigneeId: string,
  prefix: string,
  em?: EntityManager,
): Promise<{ owner: string; placement: Placement }> {
  const project = await projectFor(projects, caller, projectId, ProjectRole.EDITOR, em);
  if (sectionId && (await projects.section(sectionId, em))?.projectId !== project.id) {
    throw invalidArgument([{ field: `${prefix}section_id`, ruleId: "section_id.in_project", message: `section ${sectionId} is not a section of project ${project.id}` }]);
  }
  if (assigneeId && !(await projects.member(project.id, assigneeId, em))) {
    throw invalidArgument([{ field: `${prefix}assignee_id`, ruleId: "assignee_id.member", message: `${assigneeId} is not a member of project ${project.id}` }]);
  }
  return { owner: project.ownerId, placement: { projectId: project.id, sectionId: sectionId || null, assigneeId: assigneeId || null, parentId: null } };
}
