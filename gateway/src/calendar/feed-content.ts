import { Code, ConnectError } from "@connectrpc/connect";
import type { Caller } from "../interchange/caller.js";
import { allTasks } from "../interchange/exporter.js";

/**
 * The iCalendar text of a feed, read as its owner: every open task with a due the owner may see, or
 * one project's. Undefined when the owner may no longer see that project (removed, or it is gone).
 */
export async function feedContent(caller: Caller, projectId: string | null): Promise<string | undefined> {
  // Loaded by the first feed read rather than at start (interchange/routes.ts).
  const { calendarFeed } = await import("@taskmesh/interchange");
  if (!projectId) return calendarFeed({ name: "taskmesh", tasks: await allTasks(caller, "status:open due:any", "due"), timeZone: caller.timeZone });
  let name: string;
  try {
    name = (await caller.projects.getProject({ id: projectId })).project!.name;
  } catch (err) {
    const code = ConnectError.from(err).code;
    if (code === Code.NotFound || code === Code.PermissionDenied) return undefined;
    throw err;
  }
  // project: matches by name, and names need not be unique: the id picks the one.
  const tasks = (await allTasks(caller, `status:open due:any project:"${name.replace(/[\\"]/g, "\\$&")}"`, "due")).filter((t) => t.projectId === projectId);
  return calendarFeed({ name: `taskmesh: ${name}`, tasks, timeZone: caller.timeZone });
}
