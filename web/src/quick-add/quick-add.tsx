import { ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey } from "@connectrpc/connect-query";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQuery as useRpcQuery } from "@connectrpc/connect-query";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { forwardRef, useState } from "react";
import { recurrenceClient, tasksClient } from "../api/clients.js";
import { isQueuedOffline } from "../offline/offline-queue.js";
import { isNetworkFailure } from "../offline/offline-session.js";
import { useDebounced } from "../ui/use-debounced.js";
import { useNotifications } from "../notifications/notifications.js";
import { browserTimeZone, formatDay, formatDuration, formatTime, PRIORITY_LABELS } from "../tasks/format.js";
import { ProjectRole, ProjectService, type Project, type Section } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import {
  ALL_DAY_REMINDER_TIME,
  lineProject,
  localDate,
  mentionsSomeone,
  namesSection,
  parseQuickAdd,
  pickAssignee,
  pickProject,
  pickSection,
  placeWithin,
  type PlacementLookups,
  resolveQuickAdd,
  taggedWith,
  toCreateRequest,
  toWall,
  type Due,
  type ResolvedQuickAdd,
} from "@taskmesh/quick-add";
import { projectsClient } from "../projects/projects-api.js";

function describeDue(due: Due, zone: string | undefined): string {
  if (due.kind === "date") return formatDay(new Date(`${due.date}T00:00`));
  if (!zone) return `${formatDay(due.time)} ${formatTime(due.time)}`;
  // A zone named in the line: the time as typed, in that zone.
  const wall = toWall(due.time, zone);
  const shown = new Date(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  return `${formatDay(shown)} ${formatTime(shown)} ${zone}`;
}

interface Props {
  /** Where `#name` may point (see pickProject). */
  projects: readonly Project[];
  /** The project on screen: new tasks go there unless the line names another. */
  project?: Project;
  /** The section of it on screen: new tasks going to the project go into it too. */
  section?: Section;
  /** The view shows tasks by their day (Today, Upcoming, the calendar): a line without a date is due today. */
  dueToday?: boolean;
  /** Tags the list on screen requires: a new task gets them too. */
  tags?: readonly string[];
}

/**
 * The sections and members a line may name; offline, none: its `/name` and `+name` stay in the
 * title and the line is kept on this device as typed, like any other.
 */
const placementLookups: PlacementLookups = {
  listSections: (req) => projectsClient.listSections(req).catch(noneOffline({ sections: [] })),
  listMembers: (req) => projectsClient.listMembers(req).catch(noneOffline({ members: [] })),
};

function noneOffline<T>(none: T): (err: unknown) => T {
  return (err) => {
    if (isNetworkFailure(err)) return none;
    throw err;
  };
}

/** One line, natural language; shows what was understood before it is saved. */
export const QuickAdd = forwardRef<HTMLInputElement, Props>(function QuickAdd({ projects, project, section, dueToday = false, tags = [] }, ref) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(0);
  const queryClient = useQueryClient();
  const { toast } = useNotifications();
  const timeZone = browserTimeZone();
  // On a project its viewer only looks at, a line would go there and be refused.
  const viewOnly = project !== undefined && !project.inbox && project.role < ProjectRole.EDITOR;
  const typed = useDebounced(text.trim(), 250);
  const resolveQuery = (line: string) => ({
    queryKey: ["quick-add", line, timeZone],
    queryFn: ({ signal }: { signal: AbortSignal }) => resolveQuickAdd(parseQuickAdd(line, new Date(), timeZone), recurrenceClient, timeZone, new Date(), signal),
    staleTime: 30_000,
    // Reading a line needs no server (a repeat phrase is read in the page: recurrenceClient). Paused
    // while offline, a line saved then would be cancelled (CancelledError) once its query lost its
    // observer, never queued.
    networkMode: "always" as const,
  });
  const understood = useQuery({ ...resolveQuery(typed), enabled: typed.length > 0 });
  // What can be read without the server shows at once; the recurrence joins when it is understood.
  const read = (line: ResolvedQuickAdd): ResolvedQuickAdd => {
    const dated = dueToday && !line.due && !line.recurrenceText ? { ...line, due: { kind: "date", date: localDate(new Date()) } as const } : line;
    const chosen = pickProject(
      dated,
      projects.filter((p) => !p.archived),
    );
    // After the project is picked: a tag the list requires stays a tag even if a project bears its name.
    const picked = tags.every((t) => chosen.tags.includes(t)) ? chosen : { ...chosen, tags: [...new Set([...chosen.tags, ...tags])] };
    if (picked.project || !project || project.inbox || project.archived) return picked;
    return { ...picked, project: { id: project.id, name: project.name }, ...(section ? { section: { id: section.id, name: section.name } } : {}) };
  };
  const typedDraft = text.trim() ? (text.trim() === typed && understood.data) || parseQuickAdd(text.trim(), new Date(), timeZone) : undefined;
  const withProject = typedDraft && read(typedDraft);
  // `/name` is looked for among the sections of the project the line goes to (the Inbox when none),
  // `+name` among its members; save() places the line the same way (placeWithin).
  const target = withProject && lineProject(withProject, projects);
  const sectionsOf = target && namesSection(withProject.title) ? target : undefined;
  const sections = useRpcQuery(ProjectService.method.listSections, { projectId: sectionsOf?.id ?? "" }, { enabled: sectionsOf !== undefined, staleTime: 30_000 });
  const placed = withProject && sectionsOf && sections.data ? pickSection(withProject, sectionsOf, sections.data.sections) : withProject;
  const naming = placed?.project && mentionsSomeone(placed.title) ? placed.project.id : "";
  const members = useRpcQuery(ProjectService.method.listMembers, { projectId: naming }, { enabled: naming !== "", staleTime: 30_000 });
  const draft = placed && members.data && naming ? pickAssignee(placed, members.data.members) : placed;

  // The line is cleared at once so the next one can be typed while this one saves; if saving
  // fails, it comes back (unless something new was typed meanwhile).
  async function save() {
    const line = text.trim();
    if (!line) return;
    setText("");
    setSaving((n) => n + 1);
    setError(undefined);
    try {
      const resolved = await placeWithin(read(await queryClient.fetchQuery(resolveQuery(line))), projects, placementLookups);
      if (!resolved.title) throw new Error("Give the task a title");
      const { task } = await tasksClient.createTask(toCreateRequest(resolved, timeZone));
      toast({ text: `Added “${task?.title}”` }, 3000);
      await queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService, cardinality: undefined }) });
    } catch (err) {
      if (isQueuedOffline(err)) {
        toast({ text: `Added “${line}” on this device: it is sent when the server answers again` }, 4000);
        return;
      }
      setText((current) => current || line);
      setError(err instanceof ConnectError ? err.rawMessage : (err as Error).message);
    } finally {
      setSaving((n) => n - 1);
    }
  }

  return (
    <form
      className="quick-add"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor="quick-add-input" className="visually-hidden">
        Quick add a task
      </label>
      <div className="quick-add-row">
        <span className="quick-add-plus" aria-hidden>
          +
        </span>
        <input
          id="quick-add-input"
          ref={ref}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setError(undefined);
          }}
          placeholder={viewOnly ? `View only: you are a viewer of “${project.name}”` : "Add a task — e.g. Pay rent every month on the 1st at 9am #home !high"}
          disabled={viewOnly}
          autoComplete="off"
          aria-describedby="quick-add-understood"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              setText("");
              e.currentTarget.blur();
            }
          }}
        />
        <button type="submit" className="primary" disabled={!text.trim()}>
          {saving > 0 && !text.trim() ? "Adding…" : "Add"}
        </button>
      </div>
      <div id="quick-add-understood" className="chips understood" aria-live="polite">
        {draft && (
          <>
            <span className="chip chip-title" data-kind="title">
              {draft.title || <em>no title yet</em>}
            </span>
            {draft.due && (
              <span className="chip" data-kind="due">
                <b>Due</b> {describeDue(draft.due, draft.timeZone)}
              </span>
            )}
            {draft.recurrenceSummary && (
              <span className="chip" data-kind="recurrence">
                <b>Repeats</b> {draft.recurrenceSummary}
              </span>
            )}
            {draft.recurrenceText && !draft.recurrenceSummary && (
              <span className="chip chip-pending" data-kind="recurrence">
                <b>Repeats</b> …
              </span>
            )}
            {draft.recurrenceError && (
              <span className="chip chip-warn" data-kind="recurrence-error" title={draft.recurrenceError}>
                Repeat not understood
              </span>
            )}
            {draft.priority !== undefined && (
              <span className={`chip priority-${PRIORITY_LABELS[draft.priority].toLowerCase()}`} data-kind="priority">
                <b>Priority</b> {PRIORITY_LABELS[draft.priority]}
              </span>
            )}
            {draft.project && (
              <span className="chip chip-project" data-kind="project">
                <b>Project</b> {draft.project.name}
              </span>
            )}
            {draft.section && (
              <span className="chip chip-project" data-kind="section">
                <b>Section</b> {draft.section.name}
              </span>
            )}
            {draft.assignee && (
              <span className="chip" data-kind="assignee">
                <b>Assigned</b> {draft.assignee.email}
              </span>
            )}
            {taggedWith(draft).map((tag) => (
              <span key={tag} className="chip chip-tag" data-kind="tag">
                #{tag}
              </span>
            ))}
            {draft.reminder && (
              <span className={`chip${draft.reminder.kind === "before" && !draft.due ? " chip-warn" : ""}`} data-kind="reminder">
                <b>Remind</b>{" "}
                {draft.reminder.kind === "before"
                  ? draft.reminder.morningOf
                    ? `${draft.reminder.morningOf} at ${ALL_DAY_REMINDER_TIME}`
                    : formatDuration(draft.reminder.seconds)
                  : `${formatDay(draft.reminder.time)} ${formatTime(draft.reminder.time)}`}
                {draft.reminder.kind === "before" && !draft.due && " (needs a due date)"}
              </span>
            )}
          </>
        )}
        {error && (
          <span className="chip chip-error" role="alert">
            {error}
          </span>
        )}
      </div>
    </form>
  );
});
