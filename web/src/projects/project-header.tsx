import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService, type Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { useId, useState } from "react";
import type { View } from "../views/view.js";
import { FieldError } from "../ui/field-error.js";
import { emptiedIfStill } from "../ui/sent-draft.js";
import { useAttempt } from "../ui/use-attempt.js";
import { nameTerm, projectsClient, useRefreshProjects } from "./projects-api.js";

interface Props {
  project: Project;
  query: string;
  view: View;
  onChoose(query: string, view?: View): void;
}

/** Above the list of one project: the list or its board, its sections, to show one of them or add one. */
export function ProjectHeader({ project, query, view, onChoose }: Props) {
  const sections = useQuery(ProjectService.method.listSections, { projectId: project.id });
  const refresh = useRefreshProjects();
  const ids = useId();
  const [name, setName] = useState("");
  const canEdit = project.role >= ProjectRole.EDITOR;
  const base = `${nameTerm("project", project.name)} status:open`;

  const { problem, attempt: run } = useAttempt(() => Promise.all([sections.refetch(), refresh()]));

  return (
    <section className="project-header" aria-label={`Sections of ${project.name}`}>
      <h2>
        <span className="project-dot" style={{ background: project.colour || undefined }} aria-hidden /> {project.name}
        {project.role === ProjectRole.VIEWER && <span className="muted role-note"> · view only</span>}
        <span className="segmented view-switch" role="radiogroup" aria-label="Show the project as">
          {(["list", "board"] as const).map((layout) => (
            <label key={layout} className="inline">
              <input type="radio" name={`${ids}-view`} checked={view === layout} onChange={() => onChoose(query, layout)} />
              {layout === "list" ? "List" : "Board"}
            </label>
          ))}
        </span>
      </h2>
      <div className="chips sections">
        <button type="button" className="chip toggle" aria-pressed={query === base} onClick={() => onChoose(base, view)}>
          All sections
        </button>
        {sections.data?.sections.map((s) => {
          const term = `${nameTerm("project", project.name)} ${nameTerm("section", s.name)} status:open`;
          return (
            <span key={s.id} className="section-chip">
              <button type="button" className="chip toggle" aria-pressed={query === term} onClick={() => onChoose(term, view)}>
                {s.name}
              </button>
              {canEdit && (
                <button
                  type="button"
                  className="icon small"
                  aria-label={`Delete section ${s.name} (its tasks stay in the project)`}
                  onClick={() => void run(() => projectsClient.deleteSection({ id: s.id }))}
                >
                  ×
                </button>
              )}
            </span>
          );
        })}
        {canEdit && (
          <form
            className="name-form inline"
            onSubmit={(e) => {
              e.preventDefault();
              const sent = name.trim();
              void run(async () => {
                await projectsClient.createSection({ projectId: project.id, name: sent });
                setName(emptiedIfStill(sent));
              });
            }}
          >
            <input aria-label="New section name" placeholder="+ Section" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />
            {name.trim() && (
              <button type="submit" className="primary">
                Add
              </button>
            )}
          </form>
        )}
      </div>
      <FieldError problem={problem} />
    </section>
  );
}
