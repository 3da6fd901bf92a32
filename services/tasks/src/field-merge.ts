/**
 * Per-field optimistic concurrency. Every task remembers, per field, the version that last changed
 * it. An edit that started from `expectedVersion` conflicts only on the fields it touches that
 * someone changed after that version; edits of different fields from the same version both apply.
 */

/** UpdateTask mask paths → the field whose version they share (due_time/due_date are one oneof). */
export const MASK_FIELDS: Record<string, string> = {
  title: "title",
  notes: "notes",
  priority: "priority",
  tags: "tags",
  due_time: "due",
  due_date: "due",
  time_zone: "time_zone",
  recurrence: "recurrence",
  reminders: "reminders",
  project_id: "project",
  section_id: "section",
  assignee_id: "assignee",
  parent_id: "parent",
};

/** Mask paths whose field changed after expectedVersion. */
export function conflictingPaths(paths: string[], fieldVersions: Record<string, number>, expectedVersion: number): string[] {
  return paths.filter((p) => (fieldVersions[MASK_FIELDS[p]!] ?? 0) > expectedVersion);
}

/** The field versions after an edit that changed `fields` to `version`. */
export function bumpFields(fieldVersions: Record<string, number>, fields: Iterable<string>, version: number): Record<string, number> {
  const next = { ...fieldVersions };
  for (const f of fields) next[f] = version;
  return next;
}
