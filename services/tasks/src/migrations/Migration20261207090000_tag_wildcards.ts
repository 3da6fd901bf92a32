import { Migration } from "@mikro-orm/migrations";

// A tag wildcard (`@home*`) cannot use the tags' GIN index, which finds whole tags only: without
// another index, a page for a wildcard no tag matches walks every task of the user (190 ms for
// 100,000). The tags as one text, each between two U+001F (a character no tag has), trigram-indexed
// as the search text is: `\x1fhome%` finds the tasks with a tag starting with "home" through the index,
// and ANALYZE's statistics of the expression tell the planner how rare the pattern is. Without
// the user's id in it: an index whose first key is the user's id is also a way to every task of
// the user, which the planner takes for searches of one or two characters (a bitmap of all 100,000
// rows, 110 ms where the text indexes take 60–80); other users' tasks with a matching tag are
// dropped by the recheck.
export const TAG_TEXT_BODY = `SELECT E'\\x1f' || array_to_string(tags, E'\\x1f') || E'\\x1f'`;

export class Migration20261207090000_tag_wildcards extends Migration {
  override up(): void {
    this.addSql(`CREATE FUNCTION tasks.tag_text(tags text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ ${TAG_TEXT_BODY} $$`);
    this.addSql(`CREATE INDEX tasks_tag_text_trgm ON tasks.tasks USING gin (tasks.tag_text(tags) public.gin_trgm_ops) WITH (gin_pending_list_limit = 256)`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_tag_text_trgm`);
    this.addSql(`DROP FUNCTION tasks.tag_text(text[])`);
  }
}
