import { Migration } from "@mikro-orm/migrations";

export class Migration20261203100000_list_indexes extends Migration {
  override name = "Migration20261203100000_list_indexes";

  override up(): void {
    // Every filter reads one user's tasks: with user_id in the GIN indexes (btree_gin), a word or
    // tag common among other users costs this one nothing, and no other user's row is fetched only
    // to be thrown away. The planner also prices them closer to what they cost, so a tag common in
    // this user's tasks no longer drives a bitmap of every task with that tag.
    // New entries wait in a pending list of at most 256 kB (not 4 MB) until they are merged: every
    // search reads the whole list, which after a burst of creates made a search for a rare word
    // 7–21 ms instead of under 1 and priced the index out of the planner's choice until the next
    // vacuum; merging more often costs creates a few hundredths of a millisecond each.
    const gin = `WITH (gin_pending_list_limit = 256)`;
    this.addSql(`CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public`);
    this.addSql(`CREATE INDEX tasks_search_by_user ON tasks.tasks USING gin (user_id, search) ${gin}`);
    this.addSql(`CREATE INDEX tasks_text_trgm_by_user ON tasks.tasks USING gin (user_id, (title || ' ' || notes) public.gin_trgm_ops) ${gin}`);
    this.addSql(`CREATE INDEX tasks_tags_by_user ON tasks.tasks USING gin (user_id, tags) ${gin}`);
    this.addSql(`DROP INDEX tasks.tasks_search`);
    this.addSql(`DROP INDEX tasks.tasks_text_trgm`);
    this.addSql(`DROP INDEX tasks.tasks_tags`);
    // A due range with a priority bound ("priority>=high due:next-7-days") tests the priority in
    // the index instead of fetching every task of the range; it serves plain due ranges as before.
    this.addSql(`CREATE INDEX tasks_due_priority ON tasks.tasks (user_id, due_at, priority) WHERE due_at IS NOT NULL`);
    this.addSql(`DROP INDEX tasks.tasks_due_range`);
  }

  override down(): void {
    this.addSql(`CREATE INDEX tasks_due_range ON tasks.tasks (user_id, due_at) WHERE due_at IS NOT NULL`);
    this.addSql(`DROP INDEX tasks.tasks_due_priority`);
    this.addSql(`CREATE INDEX tasks_tags ON tasks.tasks USING gin (tags)`);
    this.addSql(`CREATE INDEX tasks_text_trgm ON tasks.tasks USING gin ((title || ' ' || notes) public.gin_trgm_ops)`);
    this.addSql(`CREATE INDEX tasks_search ON tasks.tasks USING gin (search)`);
    this.addSql(`DROP INDEX tasks.tasks_tags_by_user`);
    this.addSql(`DROP INDEX tasks.tasks_text_trgm_by_user`);
    this.addSql(`DROP INDEX tasks.tasks_search_by_user`);
  }
}
