// Clickable filters edit the query text itself, so the box always shows exactly what is applied.
import { parseFilter, resolveNames, type FilterNode } from "@taskmesh/filter";

/** Adds the term, or removes it when present; terms in `exclusive` replace each other (one status). */
export function toggleTerm(query: string, term: string, exclusive: readonly string[] = []): string {
  const terms = query.split(/\s+/).filter(Boolean);
  const lower = term.toLowerCase();
  if (terms.some((t) => t.toLowerCase() === lower)) return terms.filter((t) => t.toLowerCase() !== lower).join(" ");
  const others = new Set(exclusive.map((t) => t.toLowerCase()));
  return [...terms.filter((t) => !others.has(t.toLowerCase())), term].join(" ");
}

export function hasTerm(query: string, term: string): boolean {
  const lower = term.toLowerCase();
  return query.split(/\s+/).some((t) => t.toLowerCase() === lower);
}

/**
 * The tags every task the query lists must have (its top-level `#tag` and `@tag` terms, but a
 * `#name` that names one of `projects`, which is that project): a task added on that list gets
 * them, so it shows there.
 */
export function requiredTags(query: string, projects: readonly { name: string }[]): string[] {
  let root: FilterNode;
  try {
    root = resolveNames(parseFilter(query), { projects, sections: [] });
  } catch {
    return [];
  }
  const terms = root.kind === "and" ? root.children : [root];
  return terms.flatMap((t) => (t.kind === "tag" && t.tag !== null ? [t.tag] : []));
}
