import { Migration } from "@mikro-orm/migrations";

// A search matches whatever accents either side is written with ("reunion" finds "Réunion",
// "café" finds "Cafe"), as people type on a keyboard without them. Both matches fold through
// PostgreSQL's unaccent dictionary: the full-text one through a text-search configuration that
// runs unaccent before the English stemmer, the substring one on search_text, title and notes
// folded when written (folding them while searching cost 2–3 µs a row, and a search for a rare
// word tests thousands of rows), against a pattern folded with the same dictionary.
// Sorting by title ignores accents too ("Épicerie" among the E's, not after "Zoo"): title_key,
// the title folded and lower-cased, in the title order's index.
// The search column is rebuilt (PostgreSQL before 17 cannot change a generated column's
// expression), which rewrites the table and its indexes under the table's lock, once: reads and
// writes of tasks wait ~5 s per 100,000 tasks on an idle 2-core machine.

const gin = `WITH (gin_pending_list_limit = 256)`;

export class Migration20261205220000_folded_search extends Migration {
  override name = "Migration20261205220000_folded_search";

  override up(): void {
    this.addSql(`CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public`);
    // unaccent(text) is only STABLE (it finds its dictionary through search_path); with the
    // dictionary named, the result depends on the text alone, so it may be stored and indexed.
    this.addSql(`CREATE FUNCTION tasks.folded(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
      AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, value) $$`);
    this.addSql(`CREATE TEXT SEARCH CONFIGURATION tasks.folded (COPY = pg_catalog.english)`);
    this.addSql(`ALTER TEXT SEARCH CONFIGURATION tasks.folded ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, pg_catalog.english_stem`);
    // Dropped before the rewrite, which would rebuild them only to be replaced.
    this.addSql(`DROP INDEX tasks.tasks_text_trgm_by_user`);
    this.addSql(`DROP INDEX tasks.tasks_by_title`);
    this.addSql(`ALTER TABLE tasks.tasks
      DROP COLUMN search,
      ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('tasks.folded', title), 'A') || setweight(to_tsvector('tasks.folded', notes), 'B')
      ) STORED,
      ADD COLUMN search_text text GENERATED ALWAYS AS (tasks.folded(title || ' ' || notes)) STORED,
      ADD COLUMN title_key text GENERATED ALWAYS AS (lower(tasks.folded(title))) STORED`);
    this.addSql(`CREATE INDEX tasks_by_title ON tasks.tasks (user_id, title_key, id)`);
    this.addSql(`CREATE INDEX tasks_search_by_user ON tasks.tasks USING gin (user_id, search) ${gin}`);
    this.addSql(`CREATE INDEX tasks_text_trgm_by_user ON tasks.tasks USING gin (user_id, search_text public.gin_trgm_ops) ${gin}`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_text_trgm_by_user`);
    this.addSql(`DROP INDEX tasks.tasks_by_title`);
    this.addSql(`ALTER TABLE tasks.tasks
      DROP COLUMN title_key,
      DROP COLUMN search_text,
      DROP COLUMN search,
      ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', notes), 'B')
      ) STORED`);
    this.addSql(`CREATE INDEX tasks_search_by_user ON tasks.tasks USING gin (user_id, search) ${gin}`);
    this.addSql(`CREATE INDEX tasks_text_trgm_by_user ON tasks.tasks USING gin (user_id, (title || ' ' || notes) public.gin_trgm_ops) ${gin}`);
    this.addSql(`CREATE INDEX tasks_by_title ON tasks.tasks (user_id, lower(title), id)`);
    this.addSql(`DROP TEXT SEARCH CONFIGURATION tasks.folded`);
    this.addSql(`DROP FUNCTION tasks.folded(text)`);
  }
}
