import { useQuery } from "@connectrpc/connect-query";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useEffect } from "react";
import { currentSession } from "../api/auth-client.js";

/**
 * The e-mails of the members of a task's project, by user id. `seen`: user ids on screen; one the
 * members read so far do not name joined since, and they are read again.
 */
export function useMemberEmails(task: Task, seen: readonly string[] = []): Map<string, string> {
  const members = useQuery(ProjectService.method.listMembers, { projectId: task.projectId }, { enabled: task.projectId !== "" });
  const emails = new Map((members.data?.members ?? []).map((m) => [m.userId, m.email]));
  const me = currentSession()?.user?.id;
  const unknown = [...new Set(seen.filter((id) => id && id !== me && !emails.has(id)))].join();
  const { refetch, isFetched } = members;
  useEffect(() => {
    if (unknown && isFetched) void refetch();
  }, [unknown, isFetched, refetch]);
  return emails;
}

/** Who a task of a shared project is assigned to, in its row: "you", or the member's e-mail name; who assigned it in its title. */
export function AssigneeBadge({ task }: { task: Task }) {
  const emails = useMemberEmails(task, [task.assigneeId, task.assignerId]);
  const me = currentSession()?.user?.id;
  const full = (id: string) => (id === me ? "you" : (emails.get(id) ?? "a member"));
  const mine = task.assigneeId === me;
  const name = mine ? "you" : (emails.get(task.assigneeId)?.split("@")[0] ?? "a member");
  const by = task.assignerId && task.assignerId !== task.assigneeId ? ` by ${full(task.assignerId)}` : "";
  return (
    <span className="assignee" title={`Assigned to ${full(task.assigneeId)}${by}`}>
      {`→ ${name}`}
    </span>
  );
}
