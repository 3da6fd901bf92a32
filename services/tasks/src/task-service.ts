import { clone, create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { compileFilterToSql, explainFilter, FilterSyntaxError, mentions, namesNeeded, normalizeFilter, parseFilter, resolveNames, type FilterNode } from "@taskmesh/filter";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { canonicalTimeZone, currentTraceparent, GroupCommit, idForRequest, invalidArgument, KeyedGroupCommit, pageSizeOf, requireUser, TIME_ZONE_HEADER } from "@taskmesh/kit";
import { CommentSchema, TaskSchema, TaskStatus, type Comment, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type AddCommentRequest,
  type CompleteTaskRequest,
  type CreateTaskRequest,
  type DeleteCommentRequest,
  type DeleteTaskRequest,
  type EditCommentRequest,
  type GetTaskRequest,
  type ListCommentsRequest,
  type ListTasksRequest,
  type MoveTaskRequest,
  type ReopenTaskRequest,
  type RestoreTaskRequest,
  type UpdateTaskRequest,
  UpdateTaskRequestSchema,
  type WatchTasksRequest,
  OpenSubtasksSchema,
  QueryErrorSchema,
  TaskConflictSchema,
  type TaskService,
  type WatchTasksResponse,
  WatchTasksResponseSchema,
} from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { randomBytes, randomUUID } from "node:crypto";
import type { ChangeHub } from "./change-hub.js";
import { bumpFields, conflictingPaths, MASK_FIELDS } from "./field-merge.js";
import { maskedPaths } from "./update-mask.js";
import { afterToken, encodePageToken, fingerprint, ListRequestError, parseOrderBy, type ListQuery } from "./list-query.js";
import { changedPaths, taskEventRecord, type ChangeOrigin } from "./task-events.js";
import { taskFromRow, type TaskRow } from "./task-row.js";
import { toTaskFields, type WritableTask } from "./task-fields.js";
import { WriteFailed, type CommentRow, type NewTask, type Placement, type TaskStore, type Tx, type Write } from "./task-store.js";
import type { SavedFilterMethod } from "./saved-filters.js";
import { violationsUnder } from "./violations.js";
import { emailOf, permissionDenied, placementOf, roleOnTask } from "./project-access.js";
import { lockChildren, lockSubtree, parentFor, requireSameProject } from "./subtasks.js";
import { keyNextTo } from "./order-keys.js";
import type { ProjectRow, ProjectStore } from "./project-store.js";

const PAGE_SIZE = { default: 50, max: 500 };
const COMMENT_PAGE_SIZE = { default: 100, max: 500 };
const FEED_BATCH = 500;
const CREATE_BATCH = 256;
const WRITE_BATCH = 64;
/** A caught-up change feed silent this long gets a heartbeat: under the 60 s after which proxies (nginx) end a silent stream. */
const WATCH_HEARTBEAT_MS = 25_000;

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

export interface TaskServiceDeps {
  store: TaskStore;
  projects: ProjectStore;
  hub: ChangeHub;
  /** HMAC key of page tokens (default: one for this process only). */
  pageTokenKey?: Uint8Array;
  now?: () => Date;
  /** Silence after which a caught-up WatchTasks stream gets a heartbeat (default 25 s). */
  watchHeartbeatMs?: number | undefined;
}

/** What the handlers share. */
interface Deps {
  store: TaskStore;
  projects: ProjectStore;
  hub: ChangeHub;
  pageTokenKey: Uint8Array;
  now: () => Date;
  validator: Validator;
  creates: GroupCommit<NewTask, TaskRow | Error>;
  /** `locksTree`: the task whose tree `work` locks (Tx.lockTree), locked with those of the other writes of its batch. */
  write: <T>(userId: string, work: (tx: Tx) => Promise<T>, locksTree?: string) => Promise<T>;
  sharingMembers: SharingMembers;
  watchHeartbeatMs: number;
}

const SHARING_MEMBERS_MAX = 10_000;

/**
 * Callers last seen to be members of a project someone else owns: their ListTasks pages read their
 * projects first instead of trying the one statement that serves only callers without such a
 * project (TaskStore.ownList). It chooses a path, never an answer: both read the membership afresh,
 * and a wrong guess costs one round trip.
 */
class SharingMembers {
  readonly #users = new Set<string>();

  has(userId: string): boolean {
    return this.#users.has(userId);
  }

  note(userId: string, member: boolean): void {
    if (!member) {
      this.#users.delete(userId);
      return;
    }
    if (this.#users.size >= SHARING_MEMBERS_MAX) this.#users.clear();
    this.#users.add(userId);
  }
}

/** Every TaskService method but the saved filters' (saved-filters.ts). */
export function createTaskServiceImpl({
  store,
  projects,
  hub,
  pageTokenKey = randomBytes(32),
  now = () => new Date(),
  watchHeartbeatMs = WATCH_HEARTBEAT_MS,
}: TaskServiceDeps): Omit<ServiceImpl<typeof TaskService>, SavedFilterMethod> {
  // Concurrent creates share one transaction (TaskStore.createMany): under load, one commit per
  // batch instead of one per task. A batch that fails is retried item by item, so that one bad
  // create fails alone.
  const creates = new GroupCommit<NewTask, TaskRow | Error>(async (items) => {
    try {
      return await store.createMany(items);
    } catch (err) {
      if (items.length === 1) return [asError(err)];
      const results: (TaskRow | Error)[] = [];
      for (const item of items) results.push(await store.createMany([item]).then((rows) => rows[0]!, asError));
      return results;
    }
  }, CREATE_BATCH);

  // Concurrent changes of one user's tasks (update, complete, reopen, delete) share one transaction
  // and its commit (TaskStore.writeMany), in call order: they hold the user's write lock once
  // instead of queueing for it one commit at a time.
  const changes = new KeyedGroupCommit<string, Write, unknown>((userId, works) => store.writeMany(userId, works), WRITE_BATCH);
  const write = async <T>(userId: string, work: (tx: Tx) => Promise<T>, locksTree?: string): Promise<T> => {
    const [result] = await changes.submit(userId, [{ run: work, locksTree }]);
    if (result instanceof WriteFailed) throw result.cause;
    return result as T;
  };

  const deps: Deps = { store, projects, hub, pageTokenKey, now, validator: createValidator(), creates, write, sharingMembers: new SharingMembers(), watchHeartbeatMs };
  return {
    createTask: (req, ctx) => createTask(deps, req, ctx),
    getTask: (req, ctx) => getTask(deps, req, ctx),
    updateTask: (req, ctx) => updateTask(deps, req, ctx),
    completeTask: (req, ctx) => completeTask(deps, req, ctx),
    reopenTask: (req, ctx) => reopenTask(deps, req, ctx),
    restoreTask: (req, ctx) => restoreTask(deps, req, ctx),
    deleteTask: (req, ctx) => deleteTask(deps, req, ctx),
    moveTask: (req, ctx) => moveTask(deps, req, ctx),
    addComment: (req, ctx) => addComment(deps, req, ctx),
    editComment: (req, ctx) => editComment(deps, req, ctx),
    deleteComment: (req, ctx) => deleteComment(deps, req, ctx),
    listComments: (req, ctx) => listComments(deps, req, ctx),
    listTasks: (req, ctx) => listTasks(deps, req, ctx),
    listTags: (_req, ctx) => listTags(deps, ctx),
    watchTasks: (req, ctx) => watchTasks(deps, req, ctx),
  };
}

const zoneOf = (ctx: HandlerContext) => canonicalTimeZone(ctx.requestHeader.get(TIME_ZONE_HEADER) ?? "") ?? "UTC";

const fieldsOrThrow = (input: WritableTask, ctx: HandlerContext, prefix: string) => {
  const fields = toTaskFields(input, zoneOf(ctx), prefix);
  if (Array.isArray(fields)) throw invalidArgument(fields);
  return fields;
};

const originOf = (ctx: HandlerContext): ChangeOrigin => ({
  userId: requireUser(ctx),
  traceparent: currentTraceparent(ctx.requestHeader),
  device: (ctx.requestHeader.get("x-device") ?? "").slice(0, 64),
});

const notFound = (id: string) => new ConnectError(`task ${id} not found`, Code.NotFound);

/**
 * Runs `work` on the locked task in a write of its owner, for a caller with at least role `need` on it. The
 * caller's own tasks (the common case) are found in the caller's own write; a task of a shared
 * project is looked up first, then locked in its owner's write, where the caller's role is
 * checked (a member removed meanwhile is refused). A task the caller may not see is NOT_FOUND.
 * With `subtree`, every subtask of the task at any depth is locked with it, in the same statement,
 * and passed to `work` (undefined otherwise).
 */
async function onTask<T>(
  { store, projects, write }: Deps,
  caller: string,
  id: string,
  work: (tx: Tx, current: TaskRow, subtree: TaskRow[] | undefined) => Promise<T>,
  { need = ProjectRole.EDITOR, subtree = false }: { need?: ProjectRole; subtree?: boolean } = {},
): Promise<T> {
  const lock = async (tx: Tx) => (subtree ? tx.lockTree(id) : tx.lock(id).then((task) => task && { task, subtree: undefined }));
  const tree = subtree ? id : undefined;
  const missing = Symbol("missing");
  const own = await write(
    caller,
    async (tx) => {
      const locked = await lock(tx);
      return locked ? work(tx, locked.task, locked.subtree) : missing;
    },
    tree,
  );
  if (own !== missing) return own as T;
  const row = await store.get(id);
  if (!row || row.userId === caller) throw notFound(id);
  return write(
    row.userId,
    async (tx) => {
      const locked = await lock(tx);
      if (!locked) throw notFound(id);
      const role = await roleOnTask(projects, caller, locked.task, tx.em);
      if (!role) throw notFound(id);
      if (role < need) throw permissionDenied(`you are a viewer of this task's project: ask an admin to make you an editor`);
      return work(tx, locked.task, locked.subtree);
    },
    tree,
  );
}

/** Checks expected_version (0 = any) for whole-task operations. */
function checkVersion(row: TaskRow, expectedVersion: bigint): TaskRow {
  if (expectedVersion !== 0n && BigInt(row.version) !== expectedVersion) {
    throw conflict(row, [], `task ${row.id} is at version ${row.version}, not ${expectedVersion}: reload it and retry`);
  }
  return row;
}

async function createTask({ store, projects, now, creates }: Deps, req: CreateTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  if (req.requestId.includes("\u0000")) {
    throw invalidArgument([{ field: "request_id", ruleId: "string.no_nul", message: "must not contain the NUL character (U+0000)" }]);
  }
  const fields = fieldsOrThrow(req, ctx, "");
  const parent = req.parentId ? await parentFor(projects, origin.userId, req.parentId, null, "parent_id", store.read) : undefined;
  const projectId = req.projectId || parent?.projectId || (await projects.inbox(origin.userId, emailOf(ctx)));
  const { owner, placement } = await placementOf(projects, origin.userId, projectId, req.sectionId, req.assigneeId, "");
  if (parent) requireSameProject(parent, placement.projectId, "parent_id");
  const at = now();
  const id = req.requestId ? idForRequest(origin.userId, req.requestId) : randomUUID();
  const [row] = await creates.submit([
    {
      id,
      userId: owner,
      fields,
      placement: { ...placement, parentId: parent?.id ?? null },
      requestId: req.requestId || null,
      // The next occurrence of a series stays given by whoever gave the series to its assignee.
      assigner: (req.seriesId && placement.assigneeId && (await store.seriesAssigner(req.seriesId, placement.projectId, placement.assigneeId))) || origin.userId,
      // A recurring task starts its own series unless it continues one.
      seriesId: req.seriesId || (fields.recurrence ? id : null),
      now: at,
      events: createdEvents(origin, at),
    },
  ]);
  if (row instanceof Error) throw row;
  return { task: taskFromRow(row!) };
}

/** The event of a task's creation (or restoring), from the row as stored. */
const createdEvents = (origin: ChangeOrigin, at: Date) => (created: TaskRow) => {
  const task = taskFromRow(created);
  return [taskEventRecord(origin, created.userId, task, { case: "created", value: { task } }, at)];
};

async function getTask({ store, projects }: Deps, req: GetTaskRequest, ctx: HandlerContext) {
  const row = await store.get(req.id);
  if (!row || !(await roleOnTask(projects, requireUser(ctx), row))) throw notFound(req.id);
  return { task: taskFromRow(row) };
}

async function updateTask(deps: Deps, req: UpdateTaskRequest, ctx: HandlerContext) {
  const { projects, now, validator } = deps;
  const origin = originOf(ctx);
  const id = req.task?.id ?? "";
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw invalidArgument([{ field: "task.id", ruleId: "task.id.uuid", message: "task.id must be the UUID of the task to update" }]);
  }
  const paths = maskedPaths(req.updateMask, Object.keys(MASK_FIELDS));
  const row = await onTask(deps, origin.userId, id, async (tx, current) => {
    if (req.expectedVersion > BigInt(current.version)) {
      throw new ConnectError(`expected_version ${req.expectedVersion} is newer than the task (version ${current.version})`, Code.FailedPrecondition);
    }
    const conflicts = conflictingPaths(paths, current.fieldVersions, Number(req.expectedVersion));
    if (conflicts.length > 0) {
      throw conflict(current, conflicts, `${conflicts.join(", ")} changed since version ${req.expectedVersion}: review the current task and retry`);
    }
    const before = taskFromRow(current);
    const merged = mergeMasked(before, req.task!, paths);
    const result = validator.validate(TaskSchema, merged);
    if (result.kind === "invalid") throw violationsUnder(UpdateTaskRequestSchema.field.task, result.violations);
    if (result.kind === "error") throw result.error;
    const fields = fieldsOrThrow(merged, ctx, "task.");
    const parentMasked = paths.includes("parent_id");
    const parent = parentMasked && merged.parentId ? await parentFor(projects, origin.userId, merged.parentId, current.id, "task.parent_id", tx.read, tx.em) : undefined;
    const currentProject = current.projectId ?? (await projects.inbox(current.userId));
    // A new parent in another project takes the task there, unless the request names the project.
    const projectId = (paths.includes("project_id") && merged.projectId) || parent?.projectId || currentProject;
    const stays = projectId === currentProject;
    // Moved without naming an assignee: the assignee goes along only as a member there, as its subtasks' do.
    const keepsAssignee = stays || paths.includes("assignee_id") || !merged.assigneeId || (await projects.member(projectId, merged.assigneeId, tx.em));
    const { owner, placement } = await placementOf(
      projects,
      origin.userId,
      projectId,
      // Moved without naming a section: the task leaves its section.
      paths.includes("section_id") || stays ? merged.sectionId : "",
      keepsAssignee ? merged.assigneeId : "",
      "task.",
      tx.em,
    );
    if (parent) requireSameProject(parent, placement.projectId, "task.parent_id");
    // Moved without naming a parent: the task leaves its parent, which stays behind.
    placement.parentId = parentMasked ? (parent?.id ?? null) : stays ? current.parentId : null;
    // A move named by parent_id alone still changes the project, and any move may leave a parent or an assignee.
    const implied = stays ? paths : [...new Set([...paths, "project_id", "parent_id", "assignee_id"])];
    const changed = changedPaths(before, taskFromRow({ ...current, ...fields, ...placementColumns(placement) }), implied);
    // Saving what is already there is not a change: no new version, no event.
    if (changed.length === 0) return current;
    const at = now();
    const updated = await tx.updateFields(current, owner, fields, placement, bumpFields(current.fieldVersions, touchedBy(changed), current.version + 1), at, origin.userId);
    const after = taskFromRow(updated);
    await tx.emit(taskEventRecord(origin, owner, after, { case: "updated", value: { before, after, changedFields: changed } }, at));
    // Its subtasks go with it, into no section, keeping an assignee only if a member there.
    if (!stays) {
      for (const sub of await lockSubtree(tx.read, tx.userId, current.id)) {
        const assignee = sub.assigneeId && (await projects.member(placement.projectId, sub.assigneeId, tx.em)) ? sub.assigneeId : null;
        await replace(tx, origin, sub, owner, { projectId: placement.projectId, sectionId: null, assigneeId: assignee, parentId: sub.parentId }, at);
      }
    }
    return updated;
  });
  return { task: taskFromRow(row) };
}

async function completeTask(deps: Deps, req: CompleteTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  const { task, completedSubtaskIds } = await onTask(
    deps,
    origin.userId,
    req.id,
    async (tx, current, subtree) => {
      checkVersion(current, req.expectedVersion);
      if (current.status === TaskStatus.COMPLETED) return { task: taskFromRow(current), completedSubtaskIds: [] };
      const open = subtree!.filter((sub) => sub.status === TaskStatus.OPEN);
      if (open.length > 0 && !req.includeSubtasks) {
        const count = open.length === 1 ? "1 open subtask" : `${open.length} open subtasks`;
        throw new ConnectError(`task ${req.id} has ${count}: complete them first, or complete them too (include_subtasks)`, Code.FailedPrecondition, undefined, [
          { desc: OpenSubtasksSchema, value: { openCount: open.length } },
        ]);
      }
      const at = deps.now();
      for (const sub of open) await complete(tx, origin, sub, at);
      return { task: await complete(tx, origin, current, at), completedSubtaskIds: open.map((sub) => sub.id) };
    },
    { subtree: true },
  );
  return { task, completedSubtaskIds };
}

async function reopenTask(deps: Deps, req: ReopenTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  const task = await onTask(deps, origin.userId, req.id, async (tx, current) => {
    checkVersion(current, req.expectedVersion);
    if (current.status === TaskStatus.OPEN) return taskFromRow(current);
    const at = deps.now();
    const open = tx.setStatus(current, TaskStatus.OPEN, null, bumpFields(current.fieldVersions, ["status"], current.version + 1), at);
    await tx.emit(taskEventRecord(origin, tx.userId, open, { case: "reopened", value: { task: open } }, at));
    return open;
  });
  return { task };
}

async function deleteTask(deps: Deps, req: DeleteTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  await onTask(deps, origin.userId, req.id, async (tx, current) => {
    checkVersion(current, req.expectedVersion);
    const at = deps.now();
    // Its subtasks move up a level rather than disappear with it: deleting one row never
    // deletes tasks the user did not see go, and each move is an entry of their history.
    for (const child of await lockChildren(tx.read, tx.userId, current.id)) {
      // A subtask always has a project: its parent's.
      await replace(tx, origin, child, tx.userId, { projectId: child.projectId!, sectionId: child.sectionId, assigneeId: child.assigneeId, parentId: current.parentId }, at);
    }
    const last = await tx.delete(current, at);
    await tx.emit(taskEventRecord(origin, tx.userId, last, { case: "deleted", value: { task: last } }, at));
  });
  return {};
}

async function restoreTask({ store, projects, now, creates }: Deps, req: RestoreTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  const kept = await store.deleted(req.id);
  if (!kept) {
    // Restored already (a retry), or never deleted: the task as it is, to whoever may see it.
    const existing = await store.get(req.id);
    if (existing && (await roleOnTask(projects, origin.userId, existing))) return { task: taskFromRow(existing) };
    throw new ConnectError(`task ${req.id} cannot be restored: it was not deleted, or was deleted longer ago than deleted tasks are kept`, Code.NotFound);
  }
  const last = fromJson(TaskSchema, kept.task, { ignoreUnknownFields: true });
  // Its owner, or an editor of the project it was in, may bring it back; to anyone else it does not exist.
  const project = last.projectId ? await projects.get(origin.userId, last.projectId) : undefined;
  const there = project && project.role >= ProjectRole.EDITOR ? project : undefined;
  if (kept.userId !== origin.userId && !there) throw notFound(req.id);
  // Back where it was, as far as that still exists; else the caller's Inbox, at the top level.
  const sectionId = there && last.sectionId && (await projects.section(last.sectionId))?.projectId === there.id ? last.sectionId : "";
  const assigneeId = there && last.assigneeId && (await projects.member(there.id, last.assigneeId)) ? last.assigneeId : "";
  const { owner, placement } = await placementOf(projects, origin.userId, there?.id ?? (await projects.inbox(origin.userId, emailOf(ctx))), sectionId, assigneeId, "");
  const parent = there && last.parentId ? await store.get(last.parentId) : undefined;
  const parentId = parent?.projectId === placement.projectId ? parent.id : null;
  const samePlace = placement.projectId === (last.projectId || null) && placement.sectionId === (last.sectionId || null) && parentId === (last.parentId || null);
  const at = now();
  const [row] = await creates.submit([
    {
      id: req.id,
      userId: owner,
      fields: fieldsOrThrow(last, ctx, ""),
      placement: { ...placement, parentId },
      requestId: null,
      // Back with its assignee, it keeps who gave it to them.
      assigner: last.assignerId || origin.userId,
      seriesId: last.seriesId || null,
      now: at,
      restored: {
        status: last.status,
        completedAt: last.completeTime ? timestampDate(last.completeTime) : null,
        createdAt: last.createTime ? timestampDate(last.createTime) : at,
        // Versions of a task keep increasing across its deletion.
        version: Number(last.version) + 1,
        commentCount: last.commentCount,
        ...(samePlace && last.orderKey ? { orderKey: last.orderKey } : {}),
      },
      events: createdEvents(origin, at),
    },
  ]);
  if (row instanceof Error) throw row;
  await store.restoreComments(req.id);
  return { task: taskFromRow(row!) };
}

async function moveTask(deps: Deps, req: MoveTaskRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  const side = req.place.case === "beforeId" ? "before" : "after";
  const anchorId = req.place.value ?? "";
  const row = await onTask(deps, origin.userId, req.id, async (tx, current) => {
    const key = await keyNextTo(tx.read, tx.userId, current, anchorId, side);
    if (!key) {
      throw invalidArgument([
        {
          field: `${side}_id`,
          ruleId: `${side}_id.sibling`,
          message: `task ${anchorId} is not another subtask of the same parent, or top-level task of the same project and section, as task ${req.id}`,
        },
      ]);
    }
    const before = taskFromRow(current);
    const at = deps.now();
    const moved = await tx.setOrderKey(current, key, bumpFields(current.fieldVersions, ["order"], current.version + 1), at);
    const after = taskFromRow(moved);
    await tx.emit(taskEventRecord(origin, tx.userId, after, { case: "updated", value: { before, after, changedFields: ["order_key"] } }, at));
    return moved;
  });
  return { task: taskFromRow(row) };
}

async function addComment(deps: Deps, req: AddCommentRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  if (req.requestId.includes("\u0000")) {
    throw invalidArgument([{ field: "request_id", ruleId: "string.no_nul", message: "must not contain the NUL character (U+0000)" }]);
  }
  const id = req.requestId ? idForRequest(origin.userId, `comment\u0000${req.requestId}`) : randomUUID();
  const comment = await onTask(
    deps,
    origin.userId,
    req.taskId,
    async (tx, current) => {
      const at = deps.now();
      const added = await tx.addComment(current, { id, authorId: origin.userId, body: req.body, at });
      if ("existing" in added) return added.existing;
      const task = taskFromRow(added.task);
      const value = commentFromRow(added.comment);
      await tx.emit(taskEventRecord(origin, tx.userId, task, { case: "commentAdded", value: { comment: value, taskTitle: task.title } }, at));
      return added.comment;
    },
    // Viewers comment too: a comment is how someone who may not change the task raises something
    // about it, and it changes none of the task's fields.
    { need: ProjectRole.VIEWER },
  );
  return { comment: commentFromRow(comment) };
}

async function editComment(deps: Deps, req: EditCommentRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  const edited = await onTask(
    deps,
    origin.userId,
    req.taskId,
    async (tx, current) => {
      const before = await authoredComment(tx, current, req.commentId, origin.userId, "edit");
      if (before.body === req.body) return before;
      const at = deps.now();
      const after = await tx.editComment(current, before.id, req.body, at);
      const task = taskFromRow(current);
      await tx.emit(taskEventRecord(origin, tx.userId, task, { case: "commentEdited", value: { comment: commentFromRow(after), beforeBody: before.body, taskTitle: task.title } }, at));
      return after;
    },
    { need: ProjectRole.VIEWER },
  );
  return { comment: commentFromRow(edited) };
}

async function deleteComment(deps: Deps, req: DeleteCommentRequest, ctx: HandlerContext) {
  const origin = originOf(ctx);
  await onTask(
    deps,
    origin.userId,
    req.taskId,
    async (tx, current) => {
      const comment = await authoredComment(tx, current, req.commentId, origin.userId, "delete");
      const at = deps.now();
      const task = taskFromRow(await tx.deleteComment(current, comment.id, at));
      await tx.emit(taskEventRecord(origin, tx.userId, task, { case: "commentDeleted", value: { comment: { ...commentFromRow(comment), body: "" }, taskTitle: task.title } }, at));
    },
    { need: ProjectRole.VIEWER },
  );
  return {};
}

async function listComments({ store, projects }: Deps, req: ListCommentsRequest, ctx: HandlerContext) {
  const row = await store.get(req.taskId);
  if (!row || !(await roleOnTask(projects, requireUser(ctx), row))) throw notFound(req.taskId);
  if (req.pageToken && !/^\d{1,19}$/.test(req.pageToken)) {
    throw invalidArgument([{ field: "page_token", ruleId: "page_token.invalid", message: "page_token must be a next_page_token of ListComments" }]);
  }
  const pageSize = pageSizeOf(req.pageSize, COMMENT_PAGE_SIZE);
  const rows = await store.comments(req.taskId, BigInt(req.pageToken || "0"), pageSize + 1);
  const page = rows.slice(0, pageSize);
  return { comments: page.map(commentFromRow), nextPageToken: rows.length > pageSize ? page[page.length - 1]!.seq : "" };
}

async function listTasks({ store, projects, pageTokenKey, now, sharingMembers }: Deps, req: ListTasksRequest, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  let filter: FilterNode;
  try {
    filter = parseFilter(req.query);
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    throw invalidArgument([{ field: "query", ruleId: "query.syntax", message: `at position ${err.position}: ${err.message}` }], {
      desc: QueryErrorSchema,
      value: { position: err.position, length: err.length, message: err.message },
    });
  }
  try {
    const order = parseOrderBy(req.orderBy);
    // A `#name` is the caller's project of that name if they have one, as in quick add; a `/name`
    // their section of that name; `assignee:bob` a member of their projects.
    const needed = namesNeeded(filter);
    let visible = needed.projects || needed.sections ? await projects.list(userId) : undefined;
    let sections = visible && needed.sections ? await projects.sectionsOf(visible.map((p) => p.id)) : undefined;
    if (visible) filter = resolveNames(filter, { projects: visible, sections: sections ?? [] });
    const fp = fingerprint(normalizeFilter(filter), order);
    const pageSize = pageSizeOf(req.pageSize, PAGE_SIZE);
    // The page's statement for the projects the caller is a member of.
    const query = async (members: readonly ProjectRow[]): Promise<ListQuery> => {
      // Projects shared with the caller: their tasks are in their owners' partitions.
      const shared = members.filter((p) => p.ownerId !== userId).map((p) => p.id);
      const params: unknown[] = [...shared];
      const scopes = ["user_id = $1", ...shared.map((_, i) => `project_id = $${i + 2}::uuid`)];
      if (mentions(filter, "section")) sections ??= await projects.sectionsOf(members.map((p) => p.id));
      // `assignee:bob`: the members of those projects, by e-mail.
      const people = needed.members ? await projects.membersOf(members.map((p) => p.id)) : [];
      // $1 is the user id, then the shared projects if any; the filter's parameters follow.
      const compiled = compileFilterToSql(filter, {
        now: now(),
        timeZone: zoneOf(ctx),
        placeholder: (i) => `$${i}`,
        firstIndex: params.length + 2,
        userId,
        projects: members,
        sections: sections ?? [],
        members: people,
      });
      params.push(...compiled.params);
      const after = req.pageToken
        ? afterToken(order, fp, req.pageToken, pageTokenKey, (value, type) => {
            params.push(value);
            return `$${params.length + 1}::${type === "int" ? "int" : type}`;
          })
        : null;
      return { scopes, filter: compiled, after, params, order, limit: pageSize + 1 };
    };
    // A filter naming no project or section needs the caller's projects only for those shared with
    // them: one statement reads the page of the caller's own tasks and whether any are shared.
    const byName = mentions(filter, "project") || mentions(filter, "section") || needed.members;
    let rows = byName || visible || sharingMembers.has(userId) ? undefined : await store.ownList(userId, await query([]));
    if (!rows) {
      visible ??= await projects.list(userId);
      sharingMembers.note(
        userId,
        visible.some((p) => p.ownerId !== userId),
      );
      rows = await store.list(userId, await query(visible));
    }
    const page = rows.slice(0, pageSize);
    return {
      tasks: page.map(taskFromRow),
      nextPageToken: rows.length > pageSize ? encodePageToken(order, fp, page[page.length - 1]!, pageTokenKey) : "",
      explanation: req.explain ? { normalizedQuery: normalizeFilter(filter), summary: explainFilter(filter) } : undefined,
    };
  } catch (err) {
    if (err instanceof ListRequestError) throw invalidArgument([{ field: err.field, ruleId: `${err.field}.invalid`, message: err.message }]);
    throw err;
  }
}

async function listTags({ store }: Deps, ctx: HandlerContext) {
  const tags = await store.tags(requireUser(ctx));
  return { tags: tags.map((t) => ({ name: t.name, openTaskCount: t.open, taskCount: t.total })) };
}

async function* watchTasks({ store, hub, watchHeartbeatMs }: Deps, req: WatchTasksRequest, ctx: HandlerContext) {
  const userId = requireUser(ctx);
  const bounds = await store.feedBounds();
  let cursor = bounds.latest;
  if (req.cursor) {
    if (!/^\d{1,19}$/.test(req.cursor)) {
      throw invalidArgument([{ field: "cursor", ruleId: "cursor.format", message: "cursor must be a value received from WatchTasks" }]);
    }
    const asked = BigInt(req.cursor);
    // Too old (pruned) or from another database: the client must refetch.
    if (asked < bounds.prunedThrough || asked > bounds.latest) {
      yield create(WatchTasksResponseSchema, { cursor: cursor.toString(), change: { case: "resyncRequired", value: {} } });
    } else {
      cursor = asked;
    }
  }

  let pending = true;
  let wake: (() => void) | undefined;
  const unsubscribe = hub.subscribe(userId, () => {
    pending = true;
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
  try {
    let caughtUp = false;
    while (!ctx.signal.aborted) {
      if (!pending) {
        let beat: NodeJS.Timeout | undefined;
        const silent = caughtUp ? [new Promise<"silent">((resolve) => (beat = setTimeout(() => resolve("silent"), watchHeartbeatMs)))] : [];
        const woke = await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted, ...silent]);
        clearTimeout(beat);
        if (woke === "silent" && !pending && !ctx.signal.aborted) {
          yield create(WatchTasksResponseSchema, { cursor: cursor.toString(), change: { case: "heartbeat", value: { interval: durationFromMs(watchHeartbeatMs) } } });
          continue;
        }
      }
      if (ctx.signal.aborted) break;
      pending = false;
      const rows = await store.changesAfter(userId, cursor, FEED_BATCH);
      for (const row of rows) {
        cursor = BigInt(row.seq);
        yield changeMessage(row.seq, row.deleted ? undefined : row.snapshot, row.taskId);
      }
      if (rows.length === FEED_BATCH) {
        pending = true;
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield create(WatchTasksResponseSchema, { cursor: cursor.toString(), change: { case: "caughtUp", value: {} } });
        if (req.untilCaughtUp) return;
      }
    }
  } finally {
    unsubscribe();
  }
}

/** The placement as the columns of a task row. */
function placementColumns(pl: Placement): Pick<TaskRow, "projectId" | "sectionId" | "assigneeId" | "parentId"> {
  return { projectId: pl.projectId, sectionId: pl.sectionId, assigneeId: pl.assigneeId, parentId: pl.parentId };
}

/** The field versions an update bumps for the mask paths it changed. */
function touchedBy(changed: string[]): Set<string> {
  return new Set(changed.map((p) => MASK_FIELDS[p]!));
}

/** Completes a locked open task, with its event; returns the task as completed. */
async function complete(tx: Tx, origin: ChangeOrigin, row: TaskRow, at: Date): Promise<Task> {
  const done = tx.setStatus(row, TaskStatus.COMPLETED, at, bumpFields(row.fieldVersions, ["status"], row.version + 1), at);
  await tx.emit(taskEventRecord(origin, tx.userId, done, { case: "completed", value: { task: done } }, at));
  return done;
}

/** Puts a locked task elsewhere as a consequence of another change (its parent's move or deletion, its assignee's removal), with its event. */
export async function replace(tx: Tx, origin: ChangeOrigin, row: TaskRow, owner: string, placement: Placement, at: Date): Promise<void> {
  const before = taskFromRow(row);
  const changed = changedPaths(before, taskFromRow({ ...row, ...placementColumns(placement) }), ["project_id", "section_id", "assignee_id", "parent_id"]);
  if (changed.length === 0) return;
  const moved = await tx.place(row, owner, placement, bumpFields(row.fieldVersions, touchedBy(changed), row.version + 1), at, origin.userId);
  const after = taskFromRow(moved);
  await tx.emit(taskEventRecord(origin, owner, after, { case: "updated", value: { before, after, changedFields: changed } }, at));
}

function commentFromRow(row: CommentRow): Comment {
  return create(CommentSchema, {
    id: row.id,
    taskId: row.taskId,
    authorId: row.authorId,
    body: row.body,
    createTime: timestampFromDate(new Date(row.createdAt)),
    updateTime: row.updatedAt ? timestampFromDate(new Date(row.updatedAt)) : undefined,
  });
}

/** The comment of the locked task, for its author only (the one change of a task a viewer makes). */
async function authoredComment(tx: Tx, current: TaskRow, id: string, caller: string, what: "edit" | "delete"): Promise<CommentRow> {
  const comment = await tx.lockComment(current, id);
  if (!comment) throw new ConnectError(`comment ${id} not found on task ${current.id}`, Code.NotFound);
  if (comment.authorId !== caller) throw permissionDenied(`only the author of a comment may ${what} it`);
  return comment;
}

function changeMessage(seq: string, snapshot: unknown, taskId: string): WatchTasksResponse {
  if (snapshot === undefined) return create(WatchTasksResponseSchema, { cursor: seq, change: { case: "deletedTaskId", value: taskId } });
  return create(WatchTasksResponseSchema, { cursor: seq, change: { case: "upserted", value: fromJson(TaskSchema, snapshot as JsonValue) } });
}

function conflict(current: TaskRow, fields: string[], message: string): ConnectError {
  return new ConnectError(message, Code.Aborted, undefined, [{ desc: TaskConflictSchema, value: { current: taskFromRow(current), conflictingFields: fields } }]);
}

/** Copies the masked fields of `patch` onto `base`. */
function mergeMasked(base: Task, patch: Task, paths: string[]): Task {
  const merged = clone(TaskSchema, base);
  for (const path of paths) {
    switch (path) {
      case "title":
        merged.title = patch.title;
        break;
      case "notes":
        merged.notes = patch.notes;
        break;
      case "priority":
        merged.priority = patch.priority;
        break;
      case "tags":
        merged.tags = patch.tags;
        break;
      case "time_zone":
        merged.timeZone = patch.timeZone;
        break;
      case "recurrence":
        merged.recurrence = patch.recurrence;
        break;
      case "reminders":
        merged.reminders = patch.reminders;
        break;
      // due_time and due_date are one oneof: naming either replaces the due (unset clears it).
      case "due_time":
      case "due_date":
        merged.due = patch.due;
        break;
      case "project_id":
        merged.projectId = patch.projectId;
        break;
      case "section_id":
        merged.sectionId = patch.sectionId;
        break;
      case "assignee_id":
        merged.assigneeId = patch.assigneeId;
        break;
      case "parent_id":
        merged.parentId = patch.parentId;
        break;
    }
  }
  return merged;
}
