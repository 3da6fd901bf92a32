import { ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService, type Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { useState } from "react";
import { useNotifications } from "../notifications/notifications.js";
import { nameTerm, projectsClient, useProjects, useRefreshProjects } from "./projects-api.js";
import { namedInQuery } from "../tasks/query-tokens.js";
import { ShareDialog } from "./share-dialog.js";
import { TODAY_QUERY, UPCOMING_QUERY, type View } from "../views/view.js";
import "./projects.css";

interface Props {
  userId: string;
  /** The list's filter query: the project it selects is highlighted. */
  query: string;
  view: View;
  /** Shows a filter query (a project's open tasks) in a view, the list unless named. */
  onChoose(query: string, view?: View): void;
}

/**
 * Views across projects: what is due by the end of today (overdue included), the week ahead, a
 * month of open tasks.
 */
const VIEWS: [string, string, View][] = [
  ["Today", TODAY_QUERY, "list"],
  ["Upcoming", UPCOMING_QUERY, "list"],
  ["Calendar", "status:open", "calendar"],
];

/** Inbox and projects: choose one, create, rename, archive, share; invitations to answer. */
export function ProjectSidebar({ userId, query, view, onChoose }: Props) {
  const projects = useProjects();
  const refresh = useRefreshProjects();
  const { toast } = useNotifications();
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<string>();
  const [sharing, setSharing] = useState<Project>();
  const [showArchived, setShowArchived] = useState(false);
  const [menuFor, setMenuFor] = useState<string>();
  const invitations = useQuery(ProjectService.method.listInvitations, {}, { refetchInterval: 30_000 });
  const current = namedInQuery(query, "project", projects);
  const active = projects.filter((p) => !p.archived);
  const archived = projects.filter((p) => p.archived);

  const run = async (what: () => Promise<unknown>, done?: string) => {
    try {
      await what();
      await refresh();
      if (done) toast({ text: done }, 3000);
      return true;
    } catch (err) {
      toast({ text: ConnectError.from(err).rawMessage }, 6000);
      return false;
    }
  };

  const fromMenu = (action: () => void) => () => {
    action();
    setMenuFor(undefined);
  };

  const row = (p: Project) => (
    <li key={p.id} className={`project-row${current?.id === p.id ? " current" : ""}`}>
      {renaming === p.id ? (
        <NameForm
          label={`Rename ${p.name}`}
          initial={p.name}
          onCancel={() => setRenaming(undefined)}
          onSave={async (name) => {
            if (await run(() => projectsClient.updateProject({ project: { id: p.id, name }, updateMask: { paths: ["name"] } }))) {
              setRenaming(undefined);
              if (current?.id === p.id) onChoose(`${nameTerm("project", name)} status:open`);
            }
          }}
        />
      ) : (
        <>
          <button type="button" className="project-name" aria-current={current?.id === p.id ? "page" : undefined} onClick={() => onChoose(`${nameTerm("project", p.name)} status:open`)}>
            <span className="project-dot" style={{ background: p.colour || undefined }} aria-hidden />
            {p.name}
            {p.memberCount > 1 && (
              <span className="project-shared" title={`Shared with ${p.memberCount - 1} other${p.memberCount > 2 ? "s" : ""}`}>
                {p.memberCount}
              </span>
            )}
          </button>
          {!p.inbox && p.role === ProjectRole.ADMIN && (
            <div className="project-menu">
              <button type="button" className="icon" aria-label={`Actions for ${p.name}`} aria-expanded={menuFor === p.id} onClick={() => setMenuFor(menuFor === p.id ? undefined : p.id)}>
                ⋯
              </button>
              {menuFor === p.id && (
                <div className="project-menu-items">
                  <button type="button" onClick={fromMenu(() => setRenaming(p.id))}>
                    Rename
                  </button>
                  <button type="button" onClick={fromMenu(() => setSharing(p))}>
                    Share…
                  </button>
                  <button
                    type="button"
                    onClick={fromMenu(
                      () =>
                        void run(
                          () => projectsClient.updateProject({ project: { id: p.id, archived: !p.archived }, updateMask: { paths: ["archived"] } }),
                          p.archived ? `Restored ${p.name}` : `Archived ${p.name}`,
                        ),
                    )}
                  >
                    {p.archived ? "Unarchive" : "Archive"}
                  </button>
                </div>
              )}
            </div>
          )}
          {!p.inbox && p.role !== ProjectRole.ADMIN && p.memberCount > 1 && (
            <button type="button" className="link muted project-share" onClick={() => setSharing(p)} aria-label={`Members of ${p.name}`}>
              Members
            </button>
          )}
        </>
      )}
    </li>
  );

  return (
    <nav className="project-sidebar" aria-label="Projects">
      {(invitations.data?.invitations.length ?? 0) > 0 && (
        <section className="invitations" aria-label="Invitations">
          {invitations.data!.invitations.map((i) => (
            <div key={i.id} className="invitation">
              <p>
                <b>{i.invitedByEmail || "Someone"}</b> invites you to <b>{i.projectName}</b>
              </p>
              <div className="invitation-actions">
                <button
                  type="button"
                  className="primary"
                  onClick={() => void run(() => projectsClient.acceptInvitation({ id: i.id }), `You joined ${i.projectName}`).then(() => invitations.refetch())}
                >
                  Accept
                </button>
                <button type="button" onClick={() => void run(() => projectsClient.declineInvitation({ id: i.id })).then(() => invitations.refetch())}>
                  Decline
                </button>
              </div>
            </div>
          ))}
        </section>
      )}
      <ul className="project-list views">
        {VIEWS.map(([label, viewQuery, layout]) => {
          // The calendar stays current while its filter changes: the filter applies to it.
          const isCurrent = layout === "calendar" ? view === "calendar" : view === "list" && query === viewQuery;
          return (
            <li key={label} className={`project-row${isCurrent ? " current" : ""}`}>
              <button type="button" className="project-name" aria-current={isCurrent ? "page" : undefined} onClick={() => onChoose(viewQuery, layout)}>
                {label}
              </button>
            </li>
          );
        })}
      </ul>
      <h2 className="sidebar-title">Projects</h2>
      <ul className="project-list">{active.map(row)}</ul>
      {creating ? (
        <NameForm
          label="New project name"
          initial=""
          onCancel={() => setCreating(false)}
          onSave={async (name) => {
            if (await run(() => projectsClient.createProject({ name }), `Created ${name}`)) {
              setCreating(false);
              onChoose(`${nameTerm("project", name)} status:open`);
            }
          }}
        />
      ) : (
        <button type="button" className="link new-project" onClick={() => setCreating(true)}>
          + New project
        </button>
      )}
      {archived.length > 0 && (
        <>
          <button type="button" className="link muted archived-toggle" aria-expanded={showArchived} onClick={() => setShowArchived(!showArchived)}>
            Archived ({archived.length})
          </button>
          {showArchived && <ul className="project-list archived">{archived.map(row)}</ul>}
        </>
      )}
      {sharing && <ShareDialog project={sharing} userId={userId} onClose={() => setSharing(undefined)} />}
    </nav>
  );
}

function NameForm({ label, initial, onSave, onCancel }: { label: string; initial: string; onSave(name: string): Promise<void>; onCancel(): void }) {
  const [name, setName] = useState(initial);
  return (
    <form
      className="name-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) void onSave(name.trim());
      }}
    >
      {/* biome-ignore lint/a11y/noAutofocus: opened by Rename or New project, whose button it replaces: focus follows the user's choice */}
      <input aria-label={label} value={name} maxLength={120} autoFocus onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Escape" && onCancel()} />
      <button type="submit" className="primary" disabled={!name.trim()}>
        Save
      </button>
    </form>
  );
}
