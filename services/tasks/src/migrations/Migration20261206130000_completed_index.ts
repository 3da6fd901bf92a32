import { Migration } from "@mikro-orm/migrations";

/**
 * Completion times by user (`completed:today`, "what did I finish last week"), only of completed
 * tasks: without it such a filter reads every task of the user.
 */
export class Migration20261206130000_completed_index extends Migration {
  override up(): void {
    this.addSql(`CREATE INDEX tasks_by_completed ON tasks.tasks (user_id, completed_at) WHERE completed_at IS NOT NULL`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_by_completed`);
  }
}
