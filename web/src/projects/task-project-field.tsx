import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useId } from "react";
import { currentSession } from "../api/auth-client.js";
import { tasksClient } from "../api/clients.js";
import { FieldError } from "../ui/field-error.js";
import { useAttempt } from "../ui/use-attempt.js";
import { useProjects, useRefreshProjects } from "./projects-api.js";

const MASK_PATHS = { projectId: "project_id", sectionId: "section_id", assigneeId: "assignee_id" } as const;

/** The task's project, section and (in a shared project) assignee in the editor: choosing one applies it at once. */
export function TaskProjectField({ task }: { task: Task }) {
  const ids = useId();
  const projects = useProjects();
  const refresh = useRefreshProjects();
  const sections = useQuery(ProjectService.method.listSections, { projectId: task.projectId }, { enabled: Boolean(task.projectId) });
  const current = projects.find((p) => p.id === task.projectId);
  const targets = projects.filter((p) => !p.archived && p.role >= ProjectRole.EDITOR);
  // Read each time the editor opens rather than taken from the project's member count or an earlier read:
  // someone joining changes no task, so nothing live says so.
  const members = useQuery(ProjectService.method.listMembers, { projectId: task.projectId }, { enabled: Boolean(task.projectId), staleTime: 0 });
  const shared = (members.data?.members.length ?? 0) > 1 || task.assigneeId !== "";
  const me = currentSession()?.user?.id;
  const readOnly = current !== undefined && current.role < ProjectRole.EDITOR;

  const { problem, attempt } = useAttempt(refresh);
  const move = (fields: Partial<Record<keyof typeof MASK_PATHS, string>>) => {
    const paths = (Object.keys(fields) as (keyof typeof MASK_PATHS)[]).map((k) => MASK_PATHS[k]);
    return attempt(() => tasksClient.updateTask({ task: { id: task.id, ...fields }, updateMask: { paths }, expectedVersion: task.version }));
  };

  return (
    <div className="field-row task-project">
      <div>
        <label htmlFor={`${ids}-project`}>Project</label>
        <select id={`${ids}-project`} value={task.projectId} disabled={readOnly} onChange={(e) => void move({ projectId: e.target.value })}>
          {current && !targets.includes(current) && <option value={current.id}>{current.name}</option>}
          {targets.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {(sections.data?.sections.length ?? 0) > 0 && (
        <div>
          <label htmlFor={`${ids}-section`}>Section</label>
          <select id={`${ids}-section`} value={task.sectionId} disabled={readOnly} onChange={(e) => void move({ sectionId: e.target.value })}>
            <option value="">No section</option>
            {sections.data!.sections.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {shared && (
        <div>
          <label htmlFor={`${ids}-assignee`}>Assigned to</label>
          <select id={`${ids}-assignee`} value={task.assigneeId} disabled={readOnly} onChange={(e) => void move({ assigneeId: e.target.value })}>
            <option value="">Nobody</option>
            {/* Until the members are read, the current assignee still shows as chosen. */}
            {task.assigneeId && !members.data && <option value={task.assigneeId}>…</option>}
            {members.data?.members.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.userId === me ? `Me (${m.email})` : m.email}
              </option>
            ))}
          </select>
        </div>
      )}
      <FieldError problem={problem} />
    </div>
  );
}
