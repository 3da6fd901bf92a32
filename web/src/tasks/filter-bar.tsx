import { useQuery } from "@connectrpc/connect-query";
import { TaskService, type QueryError } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Translation } from "@taskmesh/filter";
import { forwardRef } from "react";
import { useProjects } from "../projects/projects-api.js";
import { hasTerm, toggleTerm } from "./query-tokens.js";
import { useSavedFilters } from "./saved-filters.js";

export const SORTS = [
  { value: "due", label: "Due date" },
  { value: "priority desc", label: "Priority" },
  { value: "created desc", label: "Newest" },
  { value: "updated desc", label: "Recently changed" },
  { value: "title", label: "Title" },
  { value: "manual", label: "Manual (drag to reorder)" },
] as const;

const STATUS = ["status:open", "status:completed", "status:all"] as const;
interface QuickFilter {
  term: string;
  label: string;
  exclusive?: readonly string[];
}
const QUICK_FILTERS: QuickFilter[] = [
  { term: "status:open", label: "Open", exclusive: STATUS },
  { term: "status:completed", label: "Completed", exclusive: STATUS },
  { term: "due:today", label: "Today" },
  { term: "due:this-week", label: "This week" },
  { term: "due:overdue", label: "Overdue" },
  { term: "!high", label: "High priority" },
  { term: "!medium", label: "Medium priority" },
];
// Offered once a project is shared: alone, nobody else assigns anything.
const ASSIGNED_TO_ME: QuickFilter = { term: "assignee:me", label: "Assigned to me" };

interface Props {
  query: string;
  /** Typing in the filter box. */
  onQuery(query: string): void;
  /** A chip or a saved filter chosen: a new entry in the browser's history. */
  onChoose(query: string): void;
  orderBy: string;
  onOrderBy(orderBy: string): void;
  summary?: string;
  /** The box holds a question: the query it became (which the list shows) and how it was read. */
  asked?: Translation;
  error?: QueryError;
}

export const FilterBar = forwardRef<HTMLInputElement, Props>(function FilterBar({ query, onQuery, onChoose, orderBy, onOrderBy, summary, asked, error }, ref) {
  const tags = useQuery(TaskService.method.listTags, {});
  const { saved, save, remove } = useSavedFilters();
  const chips = useProjects().some((p) => p.memberCount > 1) ? [...QUICK_FILTERS, ASSIGNED_TO_ME] : QUICK_FILTERS;
  // A mistake's position is in the query the server was sent.
  const sent = asked?.query ?? query;
  return (
    <section className="filter-bar" aria-label="Search and filter">
      <div className="filter-row">
        <label htmlFor="filter-input" className="visually-hidden">
          Filter tasks
        </label>
        <input
          id="filter-input"
          ref={ref}
          type="search"
          value={query}
          onChange={(e) => onQuery(e.target.value)}
          placeholder="Filter or ask — e.g. #home !high due:this-week, or: what's overdue at home?"
          spellCheck={false}
          // The service reads at most this much of a query; past it the box stops taking keys rather than refusing the list.
          maxLength={1000}
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby="filter-feedback"
          onKeyDown={(e) => e.key === "Escape" && e.currentTarget.blur()}
        />
        <label className="sort">
          <span>Sort</span>
          <select value={orderBy} onChange={(e) => onOrderBy(e.target.value)} aria-label="Sort by">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div id="filter-feedback" className={`filter-feedback${error ? " has-error" : ""}`} aria-live="polite">
        {error ? (
          <>
            <code className="query-echo">
              {sent.slice(0, error.position)}
              <mark>{sent.slice(error.position, error.position + Math.max(1, error.length)) || " "}</mark>
              {sent.slice(error.position + Math.max(1, error.length))}
            </code>
            <span role="alert">{error.message}</span>
          </>
        ) : asked ? (
          <>
            <span>Read as {asked.query ? <code className="query-echo">{asked.query}</code> : "all tasks"}</span>
            <button type="button" className="link" onClick={() => onChoose(asked.query)}>
              Edit as a filter
            </button>
            <span className="explain">{asked.explanation}</span>
          </>
        ) : (
          summary && <span className="explain">Showing {summary === "all tasks" ? summary : `tasks where ${summary}`}</span>
        )}
      </div>
      <fieldset className="chips filters" aria-label="Quick filters">
        {chips.map((f) => (
          <button key={f.term} type="button" className="chip toggle" aria-pressed={hasTerm(query, f.term)} onClick={() => onChoose(toggleTerm(query, f.term, f.exclusive))}>
            {f.label}
          </button>
        ))}
        {tags.data?.tags.map((t) => (
          <button key={t.name} type="button" className="chip toggle chip-tag" aria-pressed={hasTerm(query, `#${t.name}`)} onClick={() => onChoose(toggleTerm(query, `#${t.name}`))}>
            #{t.name} <span className="count">{t.openTaskCount}</span>
          </button>
        ))}
      </fieldset>
      <fieldset className="chips saved" aria-label="Saved filters">
        {saved.map((q) => (
          <span key={q} className="chip saved-filter">
            <button type="button" className="link" aria-pressed={q === query} onClick={() => onChoose(q)}>
              {q || "all tasks"}
            </button>
            <button type="button" className="icon" aria-label={`Forget saved filter ${q}`} onClick={() => remove(q)}>
              ×
            </button>
          </span>
        ))}
        {!error && query.trim() && !saved.includes(query.trim()) && (
          <button type="button" className="link" onClick={() => save(query.trim())}>
            Save this filter
          </button>
        )}
      </fieldset>
    </section>
  );
});
