import { Migration } from "@mikro-orm/migrations";

export class Migration20261203110000_due_covering extends Migration {
  override name = "Migration20261203110000_due_covering";

  override up(): void {
    // The index of dues also holds what filters over a due range test besides it (status, tags) and
    // the id, so a page such as "tag:home priority>=high due:next-7-days" finds its ids in the index
    // alone (an index-only scan) and reads from the table only the rows it returns, instead of every
    // task of the range with that priority.
    this.addSql(`CREATE INDEX tasks_due_covering ON tasks.tasks (user_id, due_at, priority) INCLUDE (status, tags, id) WHERE due_at IS NOT NULL`);
    this.addSql(`DROP INDEX tasks.tasks_due_priority`);
  }

  override down(): void {
    this.addSql(`CREATE INDEX tasks_due_priority ON tasks.tasks (user_id, due_at, priority) WHERE due_at IS NOT NULL`);
    this.addSql(`DROP INDEX tasks.tasks_due_covering`);
  }
}
