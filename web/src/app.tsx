import { useInfiniteQuery, useQuery } from "@connectrpc/connect-query";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { QueryErrorSchema, TaskService, type MoveTaskRequest } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { keepPreviousData } from "@tanstack/react-query";
import { translateQuestion } from "@taskmesh/filter";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { authClient, onSessionChange, resumeSession, setSession, type Session } from "./api/auth-client.js";
import { Consent, CONSENT_PATH } from "./auth/consent.js";
import { EmailLink, RESET_PASSWORD_PATH, VERIFY_EMAIL_PATH } from "./auth/email-link.js";
import { SignIn } from "./auth/sign-in.js";
import { useLiveSync } from "./live/use-live-sync.js";
import { NotificationCenter } from "./notifications/notification-center.js";
import { ProjectHeader } from "./projects/project-header.js";
import { ProjectSidebar } from "./projects/project-sidebar.js";
import { useProjects } from "./projects/projects-api.js";
import { SettingsButton } from "./settings/settings-dialog.js";
import { isNetworkFailure } from "./offline/offline-session.js";
import { PendingChanges, useOfflineSync } from "./offline/pending-changes.js";
import { Toasts } from "./notifications/notifications.js";
import { QuickAdd } from "./quick-add/quick-add.js";
import { FilterBar, SORTS } from "./tasks/filter-bar.js";
import { namedInQuery, requiredTags } from "./tasks/query-tokens.js";
import { useTaskActions } from "./tasks/task-actions.js";
import { TaskEditor } from "./tasks/task-editor.js";
import { TaskList } from "./tasks/task-list.js";
import { ErrorBoundary } from "./ui/error-boundary.js";
import { DayView } from "./views/day-view.js";
import { MonthCalendar } from "./views/month-calendar.js";
import { ProjectBoard } from "./views/project-board.js";
import { dayViewOf, VIEWS, type View } from "./views/view.js";
import { useSettling } from "./ui/use-debounced.js";
import { typing, useShortcuts } from "./ui/use-shortcuts.js";

export function App() {
  const [session, setCurrent] = useState<Session | undefined | "loading">("loading");
  useEffect(() => {
    const unsubscribe = onSessionChange(setCurrent);
    void resumeSession();
    return unsubscribe;
  }, []);
  return (
    <>
      <ErrorBoundary area="this page">
        {session === "loading" ? (
          <div className="splash" aria-busy="true" />
        ) : location.pathname === VERIFY_EMAIL_PATH || location.pathname === RESET_PASSWORD_PATH ? (
          <EmailLink />
        ) : session ? (
          location.pathname === CONSENT_PATH ? (
            <Consent session={session} />
          ) : (
            <Workspace session={session} />
          )
        ) : (
          <SignIn />
        )}
      </ErrorBoundary>
      <Toasts />
    </>
  );
}

const SHORTCUTS: [string, string][] = [
  ["q / n", "quick add"],
  ["/", "filter"],
  ["j / k", "next / previous task"],
  ["x", "complete or reopen"],
  ["e / Enter", "edit"],
  ["Esc", "close, leave a field"],
  ["?", "this help"],
];

function Workspace({ session }: { session: Session }) {
  const actions = useTaskActions();
  const [query, setQuery] = useState(() => readListAddress().query);
  const [orderBy, setOrderBy] = useState(() => readListAddress().orderBy);
  const [view, setView] = useState(() => readListAddress().view);
  const [selectedId, setSelectedId] = useState<string>();
  const [editingId, setEditingId] = useState<string>();
  const [help, setHelp] = useState(false);
  const live = useLiveSync(setEditingId);
  const projects = useProjects();
  const project = namedInQuery(query, "project", projects);
  const sections = useQuery(ProjectService.method.listSections, { projectId: project?.id ?? "" }, { enabled: project !== undefined && !project.inbox });
  const section = project && namedInQuery(query, "section", sections.data?.sections ?? []);
  const pending = useOfflineSync();
  const quickAddRef = useRef<HTMLInputElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);
  const [settledQuery, settleQuery] = useSettling(query, 200);
  // Typing waits for a pause; a chip, a sidebar entry or Back shows its list at once.
  const chooseQuery = useCallback(
    (next: string) => {
      setQuery(next);
      settleQuery(next);
    },
    [settleQuery],
  );
  // A question in the filter box ("what's overdue at home") is read as a query; one with nothing
  // a filter could use stays the plain text search it always was.
  const asked = useMemo(() => translateQuestion(settledQuery), [settledQuery]);
  const listQuery = asked.translated ? asked.query : settledQuery;
  // The filter and the sort live in the address (?q=…&sort=…): a reload or a shared link shows the
  // same list. Typing replaces the current entry once the query settles; a choice (a chip, a saved
  // filter, the sort) adds one, so Back returns to the list before it.
  const choice = useRef(false);
  const choose =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      choice.current = true;
      set(value);
    };
  useEffect(() => {
    const next = listAddress(settledQuery, orderBy, view);
    if (next !== location.search) {
      const url = `${location.pathname}${next}${location.hash}`;
      if (choice.current) history.pushState(history.state, "", url);
      else history.replaceState(history.state, "", url);
    }
    choice.current = false;
  }, [settledQuery, orderBy, view]);
  useEffect(() => {
    const onPop = () => {
      const { query, orderBy, view } = readListAddress();
      choice.current = false;
      chooseQuery(query);
      setOrderBy(orderBy);
      setView(view);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, [chooseQuery]);

  const list = useInfiniteQuery(
    TaskService.method.listTasks,
    { query: listQuery, orderBy, explain: true, pageSize: 50, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (last) => last.nextPageToken || undefined, placeholderData: keepPreviousData, retry: false },
  );
  // While the filter has a mistake, the last good results stay (dimmed) instead of an empty list.
  const lastGood = useRef<Task[]>([]);
  const tasks = useMemo(() => {
    if (list.error || !list.data) return lastGood.current;
    lastGood.current = list.data.pages.flatMap((p) => p.tasks);
    return lastGood.current;
  }, [list.data, list.error]);
  const summary = list.data?.pages[0]?.explanation?.summary;
  const queryError = list.error?.findDetails(QueryErrorSchema)[0];
  // Offline, a list not read before fails (or, with the last list kept on screen, waits).
  const unread = list.isPaused && list.isPlaceholderData;
  const listProblem =
    (list.error && !queryError) || unread
      ? !list.error || isNetworkFailure(list.error)
        ? "The server cannot be reached, and this list was not read on this device before: it shows once the server answers again."
        : list.error.rawMessage
      : undefined;
  const selectedIndex = tasks.findIndex((t) => t.id === selectedId);

  const move = (step: number) => {
    if (tasks.length === 0) return;
    const next = selectedIndex < 0 ? 0 : Math.min(tasks.length - 1, Math.max(0, selectedIndex + step));
    setSelectedId(tasks[next]!.id);
  };
  const selected = selectedIndex >= 0 ? tasks[selectedIndex] : undefined;
  useShortcuts({
    q: () => quickAddRef.current?.focus(),
    n: () => quickAddRef.current?.focus(),
    "/": () => {
      filterRef.current?.focus();
      filterRef.current?.select();
    },
    j: () => move(1),
    k: () => move(-1),
    x: () => selected && void actions.toggle(selected),
    e: () => selected && setEditingId(selected.id),
    // biome-ignore lint/correctness/noComponentHookFactories: a key's name, not a component
    Enter: () => selected && setEditingId(selected.id),
    "?": () => setHelp((h) => !h),
    // biome-ignore lint/correctness/noComponentHookFactories: a key's name, not a component
    Escape: () => {
      const active = document.activeElement;
      if (typing(active)) active.blur();
      else if (help) setHelp(false);
      else setEditingId(undefined);
    },
  });

  // A sidebar entry or the project's List / Board switch: a query and the view that shows it.
  const show = (next: string, nextView: View = "list") => {
    choice.current = true;
    chooseQuery(next);
    setView(nextView);
  };
  const dayView = view === "list" ? dayViewOf(listQuery) : undefined;
  const viewTags = useMemo(() => requiredTags(listQuery, projects), [listQuery, projects]);
  const rowHandlers = {
    ...(selectedId ? { selectedId } : {}),
    pendingIds: new Set(pending.map((c) => c.taskId)),
    onSelect: (t: Task) => setSelectedId(t.id),
    onOpen: (t: Task) => {
      setSelectedId(t.id);
      setEditingId(t.id);
    },
    onToggle: (t: Task) => void actions.toggle(t),
  };
  const paging = { loading: list.isLoading, hasMore: list.hasNextPage, onMore: () => void list.fetchNextPage() };

  async function signOut(everySession: boolean) {
    try {
      await authClient.signOut({ everySession });
    } finally {
      setSession(undefined);
    }
  }

  return (
    <div className={`workspace${editingId ? " with-editor" : ""}`}>
      <header className="topbar">
        <h1 className="brand">
          <span className="logo" aria-hidden /> taskmesh
        </h1>
        <span className={`live live-${live}`} role="status" title="Changes from your other devices appear here as they happen">
          <span className="dot" aria-hidden /> {live === "live" ? "Live" : live === "connecting" ? "Connecting…" : "Offline — reconnecting"}
        </span>
        <span className="spacer" />
        <NotificationCenter onOpenTask={(id) => setEditingId(id)} />
        <SettingsButton />
        <button type="button" className="link muted keyboard-only" onClick={() => setHelp(!help)} aria-expanded={help}>
          Shortcuts
        </button>
        <span className="who" title={session.user.email}>
          {session.user.displayName || session.user.email}
        </span>
        <button type="button" onClick={() => void signOut(false)}>
          Sign out
        </button>
        <button type="button" className="link muted" onClick={() => void signOut(true)} aria-label="Sign out everywhere" title="Signs this account out on every device">
          Everywhere
        </button>
      </header>
      {help && (
        <div className="shortcut-help" role="dialog" aria-label="Keyboard shortcuts">
          <dl>
            {SHORTCUTS.map(([keys, what]) => (
              <div key={keys}>
                <dt>
                  <kbd>{keys}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      <div className="body-row">
        <ProjectSidebar userId={session.user.id} query={query} view={view} onChoose={show} />
        <main className="main">
          {project && <ProjectHeader project={project} query={query} view={view} onChoose={show} />}
          <QuickAdd ref={quickAddRef} projects={projects} {...(project ? { project } : {})} {...(section ? { section } : {})} dueToday={dayView !== undefined || view === "calendar"} tags={viewTags} />
          <FilterBar
            ref={filterRef}
            query={query}
            onQuery={(typed) => {
              choice.current = false;
              setQuery(typed);
            }}
            onChoose={choose(chooseQuery)}
            orderBy={orderBy}
            onOrderBy={choose(setOrderBy)}
            {...(summary ? { summary } : {})}
            {...(asked.translated && asked.query !== settledQuery.trim() ? { asked } : {})}
            {...(queryError ? { error: queryError } : {})}
          />
          {listProblem && (
            <p className="field-error" role="alert">
              {listProblem}
            </p>
          )}
          <PendingChanges changes={pending} />
          <ErrorBoundary area="the task list" resetKey={settledQuery}>
            {view === "calendar" ? (
              <MonthCalendar query={listQuery} {...rowHandlers} />
            ) : view === "board" && project ? (
              <ProjectBoard project={project} tasks={tasks} {...rowHandlers} onUpdate={(request, said) => void actions.update(request, said)} {...paging} />
            ) : dayView ? (
              <DayView kind={dayView} tasks={tasks} {...rowHandlers} onUpdate={(request, said) => void actions.update(request, said)} {...paging} />
            ) : (
              <TaskList
                stale={list.error ? (queryError ? "filter" : "load") : unread ? "load" : undefined}
                onFixFilter={() => {
                  const input = filterRef.current;
                  if (!input) return;
                  input.focus();
                  if (queryError) input.setSelectionRange(queryError.position, queryError.position + Math.max(1, queryError.length));
                }}
                tasks={tasks}
                {...rowHandlers}
                {...(orderBy === "manual" ? { onMove: (t: Task, place: MoveTaskRequest["place"]) => void actions.move(t, place) } : {})}
                {...paging}
              />
            )}
          </ErrorBoundary>
        </main>
      </div>
      {editingId && <TaskEditor taskId={editingId} onClose={() => setEditingId(undefined)} />}
    </div>
  );
}

const DEFAULT_QUERY = "status:open";
const DEFAULT_ORDER = "due";

/** The list's filter, sort and view as the address gives them (`?q=…&sort=…&view=…`), the defaults when absent. */
function readListAddress(): { query: string; orderBy: string; view: View } {
  const params = new URLSearchParams(location.search);
  const sort = params.get("sort");
  const view = VIEWS.find((v) => v === params.get("view"));
  return {
    query: params.get("q") ?? DEFAULT_QUERY,
    orderBy: sort && SORTS.some((s) => s.value === sort) ? sort : DEFAULT_ORDER,
    view: view ?? "list",
  };
}

/** The query string for a filter, sort and view: the defaults are left out, other parameters kept. */
function listAddress(query: string, orderBy: string, view: View): string {
  const params = new URLSearchParams(location.search);
  if (query === DEFAULT_QUERY) params.delete("q");
  else params.set("q", query);
  if (orderBy === DEFAULT_ORDER) params.delete("sort");
  else params.set("sort", orderBy);
  if (view === "list") params.delete("view");
  else params.set("view", view);
  const text = params.toString();
  return text ? `?${text}` : "";
}
