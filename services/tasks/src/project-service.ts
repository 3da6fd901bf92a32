import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { currentTraceparent, invalidArgument, requireUser } from "@taskmesh/kit";
import { maskedPaths } from "./update-mask.js";
import {
  type AcceptInvitationRequest,
  type CreateProjectRequest,
  type CreateSectionRequest,
  type DeclineInvitationRequest,
  type DeleteProjectRequest,
  type DeleteSectionRequest,
  type GetProjectRequest,
  type InviteMemberRequest,
  type ListMembersRequest,
  type ListProjectsRequest,
  type ListSectionsRequest,
  type RemoveMemberRequest,
  type UpdateMemberRequest,
  type UpdateProjectRequest,
  type UpdateSectionRequest,
  UpdateProjectRequestSchema,
  UpdateSectionRequestSchema,
  InvitationSchema,
  ProjectRole,
  ProjectSchema,
  type ProjectService,
  SectionSchema,
  type Invitation,
  type Project,
  type Section,
} from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { emailOf, permissionDenied, projectFor, projectNotFound } from "./project-access.js";
import type { InvitationRow, ProjectRow, ProjectStore, SectionRow } from "./project-store.js";
import { taskEventRecord } from "./task-events.js";
import { replace } from "./task-service.js";
import { violationsUnder } from "./violations.js";
import type { TaskStore } from "./task-store.js";

export interface ProjectServiceDeps {
  store: TaskStore;
  projects: ProjectStore;
  now?: () => Date;
}

const PROJECT_PATHS = ["name", "colour", "archived", "position"];
const SECTION_PATHS = ["name", "position"];

/** What the handlers share. */
interface Deps {
  store: TaskStore;
  projects: ProjectStore;
  now: () => Date;
  validator: Validator;
}

/**
 * ProjectService. Changes that decide who sees which tasks (members, deletions) run in a write of
 * the project's owner, so they are ordered with every change of its tasks: a member removed is
 * refused by the next write and sent the deletion of each of the project's tasks on the change feed
 * (open WatchTasks streams and live sockets drop them at once).
 */
export function createProjectServiceImpl({ store, projects, now = () => new Date() }: ProjectServiceDeps): ServiceImpl<typeof ProjectService> {
  const deps: Deps = { store, projects, now, validator: createValidator() };
  return {
    createProject: (req, ctx) => createProject(deps, req, ctx),
    getProject: (req, ctx) => getProject(deps, req, ctx),
    listProjects: (req, ctx) => listProjects(deps, req, ctx),
    updateProject: (req, ctx) => updateProject(deps, req, ctx),
    deleteProject: (req, ctx) => deleteProject(deps, req, ctx),
    createSection: (req, ctx) => createSection(deps, req, ctx),
    listSections: (req, ctx) => listSections(deps, req, ctx),
    updateSection: (req, ctx) => updateSection(deps, req, ctx),
    deleteSection: (req, ctx) => deleteSection(deps, req, ctx),
    inviteMember: (req, ctx) => inviteMember(deps, req, ctx),
    listInvitations: (_req, ctx) => listInvitations(deps, ctx),
    acceptInvitation: (req, ctx) => acceptInvitation(deps, req, ctx),
    declineInvitation: (req, ctx) => declineInvitation(deps, req, ctx),
    listMembers: (req, ctx) => listMembers(deps, req, ctx),
    updateMember: (req, ctx) => updateMember(deps, req, ctx),
    removeMember: (req, ctx) => removeMember(deps, req, ctx),
  };
}

const sectionFor = async (projects: ProjectStore, caller: string, id: string, need: ProjectRole) => {
  const section = await projects.section(id);
  const project = section && (await projects.get(caller, section.projectId));
  if (!section || !project) throw new ConnectError(`section ${id} not found`, Code.NotFound);
  await projectFor(projects, caller, project.id, need);
  return { section, project };
};

const invitationFor = async (projects: ProjectStore, id: string, email: string): Promise<InvitationRow> => {
  const invitation = await projects.invitation(id);
  // Only its addressee may see an invitation: anyone else is told it does not exist.
  if (!invitation || !email || invitation.email !== email) throw new ConnectError(`invitation ${id} not found`, Code.NotFound);
  return invitation;
};

async function createProject({ projects }: Deps, req: CreateProjectRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  await projects.inbox(caller, emailOf(ctx));
  const id = await projects.create(caller, emailOf(ctx), req.name.trim(), req.colour.toLowerCase());
  return { project: projectToProto((await projects.get(caller, id))!) };
}

async function getProject({ projects }: Deps, req: GetProjectRequest, ctx: HandlerContext) {
  const project = await projects.get(requireUser(ctx), req.id);
  if (!project) throw projectNotFound(req.id);
  return { project: projectToProto(project) };
}

async function listProjects({ projects }: Deps, req: ListProjectsRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  await projects.inbox(caller, emailOf(ctx));
  const rows = await projects.list(caller);
  return { projects: rows.filter((p) => req.includeArchived || !p.archived).map(projectToProto) };
}

async function updateProject({ projects, now, validator }: Deps, req: UpdateProjectRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  const patch = req.project;
  if (!patch) throw invalidArgument([{ field: "project", ruleId: "required", message: "project is required: its id and the fields to change" }]);
  const paths = maskedPaths(req.updateMask, PROJECT_PATHS);
  const project = await projectFor(projects, caller, patch.id, ProjectRole.ADMIN);
  // Named with its current value (as a full replacement, "*", names it), a field of the Inbox is no change.
  const renamed = paths.includes("name") && patch.name.trim() !== project.name;
  if (project.inbox && (renamed || (paths.includes("archived") && patch.archived !== project.archived))) {
    throw invalidArgument([{ field: `project.${renamed ? "name" : "archived"}`, ruleId: "project.inbox", message: "the Inbox cannot be renamed or archived" }]);
  }
  const merged = projectToProto(project);
  if (paths.includes("name")) merged.name = patch.name.trim();
  if (paths.includes("colour")) merged.colour = patch.colour.toLowerCase();
  if (paths.includes("archived")) merged.archived = patch.archived;
  if (paths.includes("position")) merged.position = patch.position;
  const result = validator.validate(ProjectSchema, merged);
  if (result.kind === "invalid") throw violationsUnder(UpdateProjectRequestSchema.field.project, result.violations);
  if (result.kind === "error") throw result.error;
  await projects.update(project.id, merged, now());
  return { project: projectToProto((await projects.get(caller, project.id))!) };
}

async function deleteProject({ store, projects, now }: Deps, req: DeleteProjectRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  const project = await projectFor(projects, caller, req.id, ProjectRole.ADMIN);
  if (project.ownerId !== caller) throw permissionDenied(`only the owner may delete project ${req.id}`);
  if (project.inbox) throw new ConnectError("the Inbox cannot be deleted", Code.FailedPrecondition);
  const origin = { userId: caller, traceparent: currentTraceparent(ctx.requestHeader), device: (ctx.requestHeader.get("x-device") ?? "").slice(0, 64) };
  await store.write(project.ownerId, async (tx) => {
    const at = now();
    for (const row of await tx.lockProject(project.id)) {
      const last = await tx.delete(row, at);
      await tx.emit(taskEventRecord(origin, tx.userId, last, { case: "deleted", value: { task: last } }, at));
    }
    await projects.delete(tx.writes(), project.id);
  });
  return {};
}

async function createSection({ projects }: Deps, req: CreateSectionRequest, ctx: HandlerContext) {
  const project = await projectFor(projects, requireUser(ctx), req.projectId, ProjectRole.EDITOR);
  return { section: sectionToProto(await projects.createSection(project.id, req.name.trim())) };
}

async function listSections({ projects }: Deps, req: ListSectionsRequest, ctx: HandlerContext) {
  const project = await projectFor(projects, requireUser(ctx), req.projectId, ProjectRole.VIEWER);
  return { sections: (await projects.sections(project.id)).map(sectionToProto) };
}

async function updateSection({ projects, validator }: Deps, req: UpdateSectionRequest, ctx: HandlerContext) {
  const patch = req.section;
  if (!patch) throw invalidArgument([{ field: "section", ruleId: "required", message: "section is required: its id and the fields to change" }]);
  const paths = maskedPaths(req.updateMask, SECTION_PATHS);
  const { section } = await sectionFor(projects, requireUser(ctx), patch.id, ProjectRole.EDITOR);
  const merged = sectionToProto(section);
  if (paths.includes("name")) merged.name = patch.name.trim();
  if (paths.includes("position")) merged.position = patch.position;
  const result = validator.validate(SectionSchema, merged);
  if (result.kind === "invalid") throw violationsUnder(UpdateSectionRequestSchema.field.section, result.violations);
  if (result.kind === "error") throw result.error;
  return { section: sectionToProto(await projects.updateSection(section.id, merged.name, merged.position)) };
}

async function deleteSection({ store, projects, now }: Deps, req: DeleteSectionRequest, ctx: HandlerContext) {
  const { section, project } = await sectionFor(projects, requireUser(ctx), req.id, ProjectRole.EDITOR);
  await store.write(project.ownerId, async (tx) => {
    await tx.clearSection(section.id, now());
    await projects.deleteSection(tx.writes(), section.id);
  });
  return {};
}

async function inviteMember({ projects }: Deps, req: InviteMemberRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  const project = await projectFor(projects, caller, req.projectId, ProjectRole.ADMIN);
  if (project.inbox) throw new ConnectError("the Inbox cannot be shared: create a project to share", Code.FailedPrecondition);
  const email = req.email.trim().toLowerCase();
  if ((await projects.members(project.id)).some((m) => m.email === email)) {
    throw new ConnectError(`${email} is already a member of project ${project.id}`, Code.AlreadyExists);
  }
  return { invitation: invitationToProto(await projects.invite(project.id, email, req.role, caller, emailOf(ctx))) };
}

async function listInvitations({ projects }: Deps, ctx: HandlerContext) {
  requireUser(ctx);
  const email = emailOf(ctx);
  return { invitations: email ? (await projects.invitationsFor(email)).map(invitationToProto) : [] };
}

async function acceptInvitation({ store, projects }: Deps, req: AcceptInvitationRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  const email = emailOf(ctx);
  const invitation = await invitationFor(projects, req.id, email);
  const owner = await projects.ownerOf(invitation.projectId);
  await store.write(owner, async (tx) => {
    // The owner accepting their own invitation keeps their role.
    if (caller !== owner) await projects.addMember(tx.writes(), invitation.projectId, caller, email, invitation.role);
    await projects.dropInvitation(invitation.id, tx.writes());
  });
  return { project: projectToProto((await projects.get(caller, invitation.projectId))!) };
}

async function declineInvitation({ projects }: Deps, req: DeclineInvitationRequest, ctx: HandlerContext) {
  requireUser(ctx);
  const invitation = await invitationFor(projects, req.id, emailOf(ctx));
  await projects.dropInvitation(invitation.id);
  return {};
}

async function listMembers({ projects }: Deps, req: ListMembersRequest, ctx: HandlerContext) {
  const project = await projectFor(projects, requireUser(ctx), req.projectId, ProjectRole.VIEWER);
  const [members, invitations] = await Promise.all([projects.members(project.id), projects.invitationsOf(project.id)]);
  return {
    members: members.map((m) => ({ userId: m.userId, email: m.email, role: m.role, owner: m.userId === project.ownerId })),
    invitations: invitations.map(invitationToProto),
  };
}

async function updateMember({ store, projects }: Deps, req: UpdateMemberRequest, ctx: HandlerContext) {
  const project = await projectFor(projects, requireUser(ctx), req.projectId, ProjectRole.ADMIN);
  const member = await projects.member(project.id, req.userId);
  if (!member) throw new ConnectError(`${req.userId} is not a member of project ${project.id}`, Code.NotFound);
  if (req.userId === project.ownerId) throw new ConnectError("the owner stays an admin", Code.FailedPrecondition);
  await store.write(project.ownerId, (tx) => projects.setRole(tx.writes(), project.id, req.userId, req.role));
  return { member: { userId: member.userId, email: member.email, role: req.role, owner: false } };
}

async function removeMember({ store, projects, now }: Deps, req: RemoveMemberRequest, ctx: HandlerContext) {
  const caller = requireUser(ctx);
  const leaving = req.userId === caller;
  const project = await projectFor(projects, caller, req.projectId, leaving ? ProjectRole.VIEWER : ProjectRole.ADMIN);
  if (req.userId === project.ownerId) {
    throw new ConnectError(leaving ? "the owner cannot leave: delete the project instead" : "the owner cannot be removed", Code.FailedPrecondition);
  }
  if (!(await projects.member(project.id, req.userId))) throw new ConnectError(`${req.userId} is not a member of project ${project.id}`, Code.NotFound);
  const origin = { userId: caller, traceparent: currentTraceparent(ctx.requestHeader), device: (ctx.requestHeader.get("x-device") ?? "").slice(0, 64) };
  await store.write(project.ownerId, async (tx) => {
    await projects.removeMember(tx.writes(), project.id, req.userId);
    const at = now();
    for (const taskId of await projects.taskIds(tx.em, project.id)) tx.feed({ owner: project.ownerId, taskId, task: undefined, at, to: { user: req.userId } });
    // An assignee is a member: their tasks here are unassigned, so that reminders stop going to them.
    for (const row of await tx.lockProject(project.id)) {
      if (row.assigneeId === req.userId) await replace(tx, origin, row, tx.userId, { projectId: project.id, sectionId: row.sectionId, assigneeId: null, parentId: row.parentId }, at);
    }
  });
  return {};
}

function projectToProto(p: ProjectRow): Project {
  return create(ProjectSchema, {
    id: p.id,
    name: p.name,
    colour: p.colour,
    archived: p.archived,
    position: p.position,
    inbox: p.inbox,
    ownerId: p.ownerId,
    role: p.role,
    memberCount: p.memberCount,
    createTime: timestampFromDate(new Date(p.createdAt)),
    updateTime: timestampFromDate(new Date(p.updatedAt)),
  });
}

function sectionToProto(s: SectionRow): Section {
  return create(SectionSchema, { id: s.id, projectId: s.projectId, name: s.name, position: s.position });
}

function invitationToProto(i: InvitationRow): Invitation {
  return create(InvitationSchema, {
    id: i.id,
    projectId: i.projectId,
    projectName: i.projectName,
    email: i.email,
    role: i.role,
    invitedBy: i.invitedBy,
    invitedByEmail: i.invitedByEmail,
    createTime: timestampFromDate(new Date(i.createdAt)),
  });
}
