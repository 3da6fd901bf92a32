// A task's history, newest first, with Undo of the latest change that can be undone.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import type { ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { useQueries, useQueryClient } from "@tanstack/react-query";
import { emptyNote } from "../ui/empty-note.js";
import { useEffect } from "react";
import { recurrenceClient, tasksClient } from "../api/clients.js";
import { currentSession } from "../api/auth-client.js";
import { useNotifications } from "../notifications/notifications.js";
import { formatDay, formatTime } from "./format.js";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { useProjects, useViewOnly } from "../projects/projects-api.js";
import { assigneesOf, entryWords, rulesOf, type HistoryContext } from "./history-words.js";
import { useMemberEmails } from "./members.js";
import { useTaskActions } from "./task-actions.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

function sendUndo(entry: ActivityEntry): Promise<unknown> {
  const undo = entry.undo?.request;
  switch (undo?.case) {
    case "updateTask":
      return tasksClient.updateTask(undo.value);
    case "reopenTask":
      return tasksClient.reopenTask(undo.value);
    case "completeTask":
      return tasksClient.completeTask(undo.value);
    case "deleteTask":
      return tasksClient.deleteTask(undo.value);
    case "createTask":
      return tasksClient.createTask(undo.value);
    case "restoreTask":
      return tasksClient.restoreTask(undo.value);
    default:
      return Promise.resolve();
  }
}

/** Other members are named by their e-mail. */
export function ActivityPanel({ task, timeZone }: { task: Task; timeZone: string }) {
  // A new version or comment makes a new entry, a moment later.
  const { id: taskId, version, commentCount: comments } = task;
  const activity = useQuery(AuditService.method.listActivity, { taskId, pageSize: 20 });
  // The history is recorded from events, a moment after the change: reload shortly after each new version.
  const { refetch } = activity;
  // biome-ignore lint/correctness/useExhaustiveDependencies: version and comments are what the reload waits for, the effect reads neither
  useEffect(() => {
    const timer = setTimeout(() => void refetch(), 500);
    return () => clearTimeout(timer);
  }, [version, comments, refetch]);
  const queryClient = useQueryClient();
  const { refresh } = useTaskActions();
  const { toast } = useNotifications();
  const me = currentSession()?.user?.id;
  const entries = activity.data?.entries ?? [];
  const emails = useMemberEmails(task, [...entries.map((e) => e.actor), ...assigneesOf(entries)]);
  const projects = useProjects();
  const sections = useQuery(ProjectService.method.listSections, { projectId: task.projectId }, { enabled: task.projectId !== "" }).data?.sections ?? [];
  const rules = useQueries({
    queries: rulesOf(entries).map((rrule) => ({
      queryKey: ["rule-summary", rrule],
      queryFn: async () => (await recurrenceClient.parseRecurrence({ text: rrule })).summary,
      staleTime: Infinity,
      retry: false,
      networkMode: "always" as const,
    })),
  });
  const summaries = new Map(rulesOf(entries).map((rrule, i) => [rrule, rules[i]?.data]));
  const words: HistoryContext = {
    timeZone,
    rule: (rrule) => summaries.get(rrule),
    name: (field, id) => (field === "project" ? projects.find((p) => p.id === id)?.name : field === "section" ? sections.find((s) => s.id === id)?.name : id === me ? "you" : emails.get(id)),
  };
  // A viewer cannot make the change an Undo would.
  const latestUndoable = useViewOnly(task.projectId) ? undefined : entries.find((e) => e.undo?.request.case !== undefined);

  async function undo(entry: ActivityEntry) {
    try {
      await sendUndo(entry);
      toast({ text: `Undone: ${entryWords(entry, words)}` }, 3000);
    } catch (err) {
      toast({ text: `Could not undo: ${ConnectError.from(err).rawMessage}`, tone: "error" });
    }
    await Promise.all([refresh(), queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: AuditService, cardinality: undefined }) })]);
  }

  return (
    <section className="activity" aria-label="Activity">
      <h3>Activity</h3>
      {activity.error && <p className="muted">History is not available: {activity.error.rawMessage}</p>}
      {!activity.error && entries.length === 0 && <p className="muted">{emptyNote(activity, "changes", "Nothing yet.")}</p>}
      <ol className="activity-list">
        {entries.map((entry) => {
          const when = entry.occurTime ? timestampDate(entry.occurTime) : undefined;
          const who = !entry.actor ? "" : entry.actor === me ? "by you" : `by ${emails.get(entry.actor) ?? entry.actor}`;
          return (
            <li key={entry.id}>
              <span className="activity-summary">{entryWords(entry, words)}</span>
              <span className="muted"> {[who, entry.device && `on ${entry.device}`, when && `${formatDay(when)} ${formatTime(when)}`].filter(Boolean).join(" · ")}</span>
              {entry === latestUndoable && (
                <button type="button" className="link" onClick={() => void undo(entry)}>
                  Undo
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
