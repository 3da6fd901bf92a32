import { Migration } from "@mikro-orm/migrations";

// A term of one or two characters ("qz", "7", "+") has no trigram and, unless it is a symbol's, no
// gram in the search column: a search for one that is rare tested every task of the user (~100 ms
// at 100,000 tasks), and the web app searches as a person types, so the second keypress is one.
// Every character and every two characters within a run of non-blanks of search_text are indexed
// (tasks.short_grams); tasks.short_gram is the term's own, folded as search_text is (NULL for any
// other term), which the index looks up before the substring match decides.
//
// An index on the expression, not a stored column: the grams are computed when a row's index entry
// is written (as a generated column would be, once a write) and cost no space in the table, whose
// rows every page of the list reads. The function's cost (SQL's default, 100 operators) keeps it
// after the substring match wherever both test a row.

/** The functions' bodies as this migration defines them; the entities describe the schema with these. */
export const SHORT_GRAM_FUNCTION_BODIES = {
  // Duplicates stay: GIN keeps each key of a row once.
  short_grams: `
      SELECT array_remove(c, ' ') || ARRAY(SELECT a || b FROM unnest(c[:cardinality(c) - 1], c[2:]) AS pair(a, b) WHERE a <> ' ' AND b <> ' ')
        FROM string_to_array(regexp_replace(folded, '\\s+', ' ', 'g'), NULL) AS c`,
  short_gram: `
      SELECT CASE WHEN f ~ '^\\S{1,2}$' THEN ARRAY[f] END FROM tasks.search_folded(term) AS f`,
};

export class Migration20261206190000_short_grams extends Migration {
  override up(): void {
    const { short_grams, short_gram } = SHORT_GRAM_FUNCTION_BODIES;
    this.addSql(`CREATE FUNCTION tasks.short_grams(folded text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$${short_grams}$$`);
    this.addSql(`CREATE FUNCTION tasks.short_gram(term text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$${short_gram}$$`);
    this.addSql(`CREATE INDEX tasks_short_grams_by_user ON tasks.tasks USING gin (user_id, tasks.short_grams(search_text)) WITH (gin_pending_list_limit = 256)`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_short_grams_by_user`);
    this.addSql(`DROP FUNCTION tasks.short_gram(text)`);
    this.addSql(`DROP FUNCTION tasks.short_grams(text)`);
  }
}
