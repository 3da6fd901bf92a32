import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService, type Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { useEffect, useId, useRef, useState } from "react";
import { FieldError } from "../ui/field-error.js";
import { emptiedIfStill } from "../ui/sent-draft.js";
import { useAttempt } from "../ui/use-attempt.js";
import { projectsClient, ROLE_NAMES, useRefreshProjects } from "./projects-api.js";

const ROLES = [ProjectRole.VIEWER, ProjectRole.EDITOR, ProjectRole.ADMIN];

/** Members and invitations of a project; admins invite by e-mail, change roles and remove; anyone may leave. */
export function ShareDialog({ project, userId, onClose }: { project: Project; userId: string; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  // Members change on other devices (an invitation accepted): read them afresh each time it opens.
  const members = useQuery(ProjectService.method.listMembers, { projectId: project.id }, { refetchOnMount: "always" });
  const refresh = useRefreshProjects();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState(ProjectRole.EDITOR);
  const admin = project.role === ProjectRole.ADMIN;

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const { problem, attempt: run } = useAttempt(() => Promise.all([members.refetch(), refresh()]));

  return (
    <dialog ref={dialog} className="share-dialog" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <header className="share-header">
        <h2 id={`${ids}-title`}>Share “{project.name}”</h2>
        <button type="button" className="icon" aria-label="Close sharing" onClick={() => dialog.current?.close()}>
          ×
        </button>
      </header>
      {admin && (
        <form
          className="invite-form"
          onSubmit={(e) => {
            e.preventDefault();
            const sent = email.trim();
            void run(async () => {
              await projectsClient.inviteMember({ projectId: project.id, email: sent, role });
              setEmail(emptiedIfStill(sent));
            });
          }}
        >
          <label htmlFor={`${ids}-email`}>Invite by e-mail</label>
          <div className="invite-row">
            <input id={`${ids}-email`} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@example.com" />
            <select aria-label="Role of the invited person" value={role} onChange={(e) => setRole(Number(e.target.value))}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_NAMES[r]}
                </option>
              ))}
            </select>
            <button type="submit" className="primary" disabled={!email.trim()}>
              Invite
            </button>
          </div>
          <p className="hint">Viewers see the tasks; editors also change them; admins also manage the project and its members.</p>
        </form>
      )}
      <FieldError problem={problem} />
      <h3>Members</h3>
      <ul className="member-list">
        {members.data?.members.map((m) => (
          <li key={m.userId}>
            <span className="member-email">{m.email || m.userId}</span>
            {m.owner ? (
              <span className="muted">Owner</span>
            ) : admin ? (
              <>
                <select
                  aria-label={`Role of ${m.email || m.userId}`}
                  value={m.role}
                  onChange={(e) => void run(() => projectsClient.updateMember({ projectId: project.id, userId: m.userId, role: Number(e.target.value) }))}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {ROLE_NAMES[r]}
                    </option>
                  ))}
                </select>
                <button type="button" className="link danger" onClick={() => void run(() => projectsClient.removeMember({ projectId: project.id, userId: m.userId }))}>
                  Remove
                </button>
              </>
            ) : (
              <span className="muted">{ROLE_NAMES[m.role]}</span>
            )}
          </li>
        ))}
        {members.data?.invitations.map((i) => (
          <li key={i.id} className="pending">
            <span className="member-email">{i.email}</span>
            <span className="muted">Invited · {ROLE_NAMES[i.role]}</span>
          </li>
        ))}
      </ul>
      {project.ownerId !== userId && (
        <button type="button" className="danger" onClick={() => void run(() => projectsClient.removeMember({ projectId: project.id, userId })).then((ok) => ok && dialog.current?.close())}>
          Leave project
        </button>
      )}
    </dialog>
  );
}
