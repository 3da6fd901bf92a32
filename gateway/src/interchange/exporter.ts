import type { ExportContent } from "@taskmesh/interchange";
import type { Comment, Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { Caller } from "./caller.js";

const PAGE = 500;
// Tasks whose comments are read at once: enough to overlap round trips, few enough to leave room for everyone else's requests.
const COMMENT_READS = 16;

/** Every task matching `query` the user may see, page by page. */
export async function allTasks(caller: Caller, query: string, orderBy = "created"): Promise<Task[]> {
  const tasks: Task[] = [];
  let pageToken = "";
  do {
    const page = await caller.tasks.listTasks({ query, orderBy, pageSize: PAGE, pageToken });
    tasks.push(...page.tasks);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return tasks;
}

/** What the user owns: their projects (the Inbox and archived ones included), sections, and those projects' tasks. */
export async function collectExport(caller: Caller, now: Date = new Date()): Promise<ExportContent> {
  const { projects } = await caller.projects.listProjects({ includeArchived: true });
  const owned = projects.filter((p) => p.ownerId === caller.identity.userId);
  const withSections = await Promise.all(owned.map(async (project) => ({ project, sections: (await caller.projects.listSections({ projectId: project.id })).sections })));
  const ids = new Set(owned.map((p) => p.id));
  const tasks = (await allTasks(caller, "status:all")).filter((t) => ids.has(t.projectId));
  const commented = tasks.filter((t) => t.commentCount > 0);
  const comments: Comment[] = [];
  for (let i = 0; i < commented.length; i += COMMENT_READS) {
    for (const list of await Promise.all(commented.slice(i, i + COMMENT_READS).map((t) => commentsOf(caller, t.id)))) comments.push(...list);
  }
  return { projects: withSections, tasks, comments, exportedAt: now };
}

async function commentsOf(caller: Caller, taskId: string): Promise<Comment[]> {
  const comments: Comment[] = [];
  let pageToken = "";
  do {
    const page = await caller.tasks.listComments({ taskId, pageSize: PAGE, pageToken });
    comments.push(...page.comments);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return comments;
}
