// Clickable filters edit the query text itself, so the box always shows exactly what is applied.
import { nameKey, parseFilter, resolveNames, type FilterNode } from "@taskmesh/filter";

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

type Named = readonly { name: string }[];

/**
 * The terms every task the query lists meets (its top-level ANDed terms), `#name` and `/name` read
 * against these projects and sections as the server reads them; none while the query does not parse.
 */
function requiredTerms(query: string, projects: Named, sections: Named): FilterNode[] {
  let root: FilterNode;
  try {
    root = resolveNames(parseFilter(query), { projects, sections });
  } catch {
    return [];
  }
  return root.kind === "and" ? root.children : [root];
}

/**
 * The tags every task the query lists must have (`#tag`, `@tag`, `tag:`; a `#name` of one of
 * `projects` is that project): a task added on that list gets them, so it shows there.
 */
export function requiredTags(query: string, projects: Named): string[] {
  return requiredTerms(query, projects, []).flatMap((t) => (t.kind === "tag" && t.tag !== null ? [t.tag] : []));
}

/**
 * The project (or section) of `named` every task the query lists is in (`project:`, `#name`,
 * `##name`; `section:`, `/name`): where a task added on that list goes, so it shows there.
 */
export function namedInQuery<T extends { name: string }>(query: string, field: "project" | "section", named: readonly T[]): T | undefined {
  for (const term of requiredTerms(query, field === "project" ? named : [], field === "section" ? named : [])) {
    const found = term.kind === field ? named.find((n) => nameKey(n.name) === term.name) : undefined;
    if (found) return found;
  }
  return undefined;
}
