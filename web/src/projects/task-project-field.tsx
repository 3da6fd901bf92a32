import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useId } from "react";
import { tasksClient } from "../api/clients.js";
import { FieldError } from "../ui/field-error.js";
import { useAttempt } from "../ui/use-attempt.js";
import { useProjects, useRefreshProjects } from "./projects-api.js";

/** The task's project and section in the editor: choosing one moves the task at once. */
export function TaskProjectField({ task }: { task: Task }) {
  const ids = useId();
  const projects = useProjects();
  const refresh = useRefreshProjects();
  const sections = useQuery(ProjectService.method.listSections, { projectId: task.projectId }, { enabled: Boolean(task.projectId) });
  const current = projects.find((p) => p.id === task.projectId);
  const targets = projects.filter((p) => !p.archived && p.role >= ProjectRole.EDITOR);

  const { problem, attempt } = useAttempt(refresh);
  const move = (fields: { projectId?: string; sectionId?: string }) => {
    const paths = Object.keys(fields).map((k) => (k === "projectId" ? "project_id" : "section_id"));
    return attempt(() => tasksClient.updateTask({ task: { id: task.id, ...fields }, updateMask: { paths }, expectedVersion: task.version }));
  };

  return (
    <div className="field-row task-project">
      <div>
        <label htmlFor={`${ids}-project`}>Project</label>
        <select id={`${ids}-project`} value={task.projectId} disabled={current && current.role < ProjectRole.EDITOR} onChange={(e) => void move({ projectId: e.target.value })}>
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
          <select id={`${ids}-section`} value={task.sectionId} disabled={current && current.role < ProjectRole.EDITOR} onChange={(e) => void move({ sectionId: e.target.value })}>
            <option value="">No section</option>
            {sections.data!.sections.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <FieldError problem={problem} />
    </div>
  );
}
