import type { Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { useCallback, useEffect, useId, useState } from "react";
import { apiFetch, jsonOf } from "./api-fetch.js";

interface Feed {
  id: string;
  projectId: string | null;
  createdAt: string;
}

/**
 * Calendar subscriptions: a secret address per feed (all tasks, or one project's) that calendar
 * apps poll. Only its hash is kept, so the address is shown once, when made; making it again
 * replaces it, and revoking ends it.
 */
export function CalendarFeeds({ projects }: { projects: readonly Project[] }) {
  const ids = useId();
  const [feeds, setFeeds] = useState<Feed[]>([]);
  const [scope, setScope] = useState("");
  const [made, setMade] = useState<{ projectId: string | null; url: string }>();
  const [problem, setProblem] = useState<string>();

  const load = useCallback(async () => setFeeds((await jsonOf<{ feeds: Feed[] }>(await apiFetch("/api/calendar-feeds"))).feeds), []);
  useEffect(() => {
    load().catch((err: Error) => setProblem(err.message));
  }, [load]);

  const run = async (what: () => Promise<void>) => {
    setProblem(undefined);
    try {
      await what();
      await load();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const nameOf = (projectId: string | null) => (projectId ? (projects.find((p) => p.id === projectId)?.name ?? "a project no longer yours") : "All your tasks");
  const make = (projectId: string | null) =>
    run(async () => {
      const { path } = await jsonOf<{ path: string }>(await apiFetch("/api/calendar-feeds", { method: "POST", body: JSON.stringify(projectId ? { projectId } : {}) }));
      setMade({ projectId, url: new URL(path, location.origin).href });
    });

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Calendar feed</h3>
      <p className="hint">Tasks with a due date in your calendar app (repeating ones repeat there). Anyone with the address can read them: keep it to yourself.</p>
      <div className="settings-row">
        <select aria-label="Tasks of the feed" value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="">All your tasks</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <button type="button" className="primary" onClick={() => void make(scope || null)}>
          {feeds.some((f) => (f.projectId ?? "") === scope) ? "Make a new address" : "Make an address"}
        </button>
      </div>
      {made && (
        <div className="feed-address" role="status">
          <p>
            {nameOf(made.projectId)}: copy this address now, it is shown only once. <a href={made.url.replace(/^https?:/, "webcal:")}>Subscribe</a>
          </p>
          <input aria-label="Calendar feed address" readOnly value={made.url.replace(/^https?:/, "webcal:")} onFocus={(e) => e.target.select()} />
          <p className="hint">Calendar apps that ask for an https address take {made.url}</p>
        </div>
      )}
      {feeds.length > 0 && (
        <ul className="feed-list">
          {feeds.map((f) => (
            <li key={f.id}>
              <span>{nameOf(f.projectId)}</span>
              <span className="muted">since {new Date(f.createdAt).toLocaleDateString()}</span>
              <button type="button" className="link danger" onClick={() => void run(async () => void (await jsonOf(await apiFetch(`/api/calendar-feeds/${f.id}`, { method: "DELETE" }))))}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
