import { Migration } from "@mikro-orm/migrations";

// Two costs of a substring search, which tests rows wherever no index narrows it (the first rows of
// the list for every word, every task of the user for a term without a trigram: "c++", "c#", "a+"):
// - ILIKE lowers every row it tests (1.1 µs a row against LIKE's 0.2 on this 2-core machine), and a
//   pattern folded in the statement is folded again for every row (0.26 µs). search_text is now
//   tasks.search_folded(title || ' ' || notes), lower-cased as well as without accents, and matched
//   with LIKE against tasks.search_folded(pattern), an immutable function of a constant that
//   PostgreSQL evaluates once while planning (plpgsql: not inlined). Lower case alone leaves a
//   word's final sigma apart from its capital ("ΟΔΟΣ" lowers to "οδοσ", typed "οδος"): it is
//   folded to σ, as Unicode's case folding does.
// - pg_trgm keeps letters and digits only, so a term made by its symbols has no trigram to look up.
//   The search column now also holds each symbol's neighbourhood: every two and three characters
//   with a symbol among them, within a run of non-blanks of the folded text (tasks.symbol_grams). A
//   term with a symbol holds all of its own, so a task containing the term holds them too;
//   tasks.symbol_query is the tsquery of the term's (NULL when it has none: "+" alone), and the
//   substring match still decides.
// Both generated columns are rebuilt as folded_search rebuilt them: the table is rewritten once under
// its lock (~5 s per 100,000 tasks). A search issued by the version before keeps its results (ILIKE
// on a lower-cased text; the search column only gained lexemes that no word query names).

const gin = `WITH (gin_pending_list_limit = 256)`;
/** What makes a term what it is (the filter's LITERAL_SYMBOL: its ASCII, the common currency and math signs). */
const SYMBOLS = "+#%&@*=<>~^|\\\\$€£¥¢±×÷";
const WORDS = `setweight(to_tsvector('tasks.folded', title), 'A') || setweight(to_tsvector('tasks.folded', notes), 'B')`;
const FOLDED = `tasks.folded(title || ' ' || notes)`;

/** The functions' bodies as this migration defines them; the entities describe the schema with these. */
export const SEARCH_FUNCTION_BODIES = {
  search_folded: ` BEGIN RETURN translate(lower(public.unaccent('public.unaccent'::regdictionary, value)), 'ς', 'σ'); END `,
  // Most tasks have no symbol: the test costs them ~3 µs, the grams ~80 µs a task that has some.
  symbol_grams: `
      DECLARE folded text := tasks.search_folded(value);
      BEGIN
        IF folded !~ '[${SYMBOLS}]' THEN RETURN '{}'; END IF;
        RETURN ARRAY(
          SELECT DISTINCT w.gram
            FROM regexp_matches(folded, '\\S*[${SYMBOLS}]\\S*', 'g') AS run,
                 LATERAL generate_series(1, length(run[1]) - 1) AS at,
                 LATERAL (VALUES (substr(run[1], at, 2)), (substr(run[1], at, 3))) AS w(gram)
           WHERE w.gram ~ '[${SYMBOLS}]');
      END `,
  symbol_query: `
      DECLARE grams text[] := tasks.symbol_grams(term);
      BEGIN
        IF cardinality(grams) = 0 THEN RETURN NULL; END IF;
        RETURN array_to_string(ARRAY(SELECT '''' || replace(replace(g, '\\', '\\\\'), '''', '''''') || '''' FROM unnest(grams) AS g), ' & ')::tsquery;
      END `,
};

export class Migration20261206160000_symbol_search extends Migration {
  override up(): void {
    const { search_folded, symbol_grams, symbol_query } = SEARCH_FUNCTION_BODIES;
    this.addSql(`CREATE FUNCTION tasks.search_folded(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$${search_folded}$$`);
    this.addSql(`CREATE FUNCTION tasks.symbol_grams(value text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$${symbol_grams}$$`);
    this.addSql(`CREATE FUNCTION tasks.symbol_query(term text) RETURNS tsquery LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$${symbol_query}$$`);
    this.#rebuild(`${WORDS} || array_to_tsvector(tasks.symbol_grams(title || ' ' || notes))`, `tasks.search_folded(title || ' ' || notes)`);
  }

  override down(): void {
    this.#rebuild(WORDS, FOLDED);
    this.addSql(`DROP FUNCTION tasks.symbol_query(text)`);
    this.addSql(`DROP FUNCTION tasks.symbol_grams(text)`);
    this.addSql(`DROP FUNCTION tasks.search_folded(text)`);
  }

  #rebuild(search: string, searchText: string): void {
    this.addSql(`DROP INDEX tasks.tasks_search_by_user`);
    this.addSql(`DROP INDEX tasks.tasks_text_trgm_by_user`);
    this.addSql(`ALTER TABLE tasks.tasks
      DROP COLUMN search,
      DROP COLUMN search_text,
      ADD COLUMN search tsvector GENERATED ALWAYS AS (${search}) STORED,
      ADD COLUMN search_text text GENERATED ALWAYS AS (${searchText}) STORED`);
    this.addSql(`CREATE INDEX tasks_search_by_user ON tasks.tasks USING gin (user_id, search) ${gin}`);
    this.addSql(`CREATE INDEX tasks_text_trgm_by_user ON tasks.tasks USING gin (user_id, search_text public.gin_trgm_ops) ${gin}`);
  }
}
