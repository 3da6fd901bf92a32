import { Migration } from "@mikro-orm/migrations";

export class Migration20261125000000_tasks extends Migration {
  override name = "Migration20261125000000_tasks";

  override up(): void {
    this.addSql(`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`);
    this.addSql(`CREATE TABLE tasks.tasks (
      id uuid PRIMARY KEY,
      user_id text NOT NULL,
      title text NOT NULL,
      notes text NOT NULL DEFAULT '',
      status smallint NOT NULL DEFAULT 1,
      priority smallint NOT NULL DEFAULT 1,
      tags text[] NOT NULL DEFAULT '{}',
      due_time timestamptz,
      due_date date,
      due_at timestamptz,
      time_zone text NOT NULL DEFAULT 'UTC',
      recurrence jsonb,
      reminders jsonb NOT NULL DEFAULT '[]',
      series_id uuid,
      request_id text,
      version integer NOT NULL DEFAULT 1,
      field_versions jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      completed_at timestamptz,
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', notes), 'B')
      ) STORED
    )`);
    this.addSql(`CREATE UNIQUE INDEX tasks_request_id ON tasks.tasks (user_id, request_id) WHERE request_id IS NOT NULL`);
    // Keyset orders (see list-query.ts): each index matches one order's key expressions exactly.
    this.addSql(`CREATE INDEX tasks_by_due ON tasks.tasks (user_id, (coalesce(due_at, 'infinity'::timestamptz)), id)`);
    this.addSql(`CREATE INDEX tasks_by_priority ON tasks.tasks (user_id, ((5 - priority)), (coalesce(due_at, 'infinity'::timestamptz)), id)`);
    this.addSql(`CREATE INDEX tasks_by_created ON tasks.tasks (user_id, created_at, id)`);
    this.addSql(`CREATE INDEX tasks_by_updated ON tasks.tasks (user_id, updated_at, id)`);
    this.addSql(`CREATE INDEX tasks_by_title ON tasks.tasks (user_id, lower(title), id)`);
    this.addSql(`CREATE INDEX tasks_search ON tasks.tasks USING gin (search)`);
    this.addSql(`CREATE INDEX tasks_text_trgm ON tasks.tasks USING gin ((title || ' ' || notes) public.gin_trgm_ops)`);
    this.addSql(`CREATE INDEX tasks_tags ON tasks.tasks USING gin (tags)`);

    // Change feed behind WatchTasks; cursor = seq. Rows of one user are written under a per-user
    // advisory lock, so a user's seq order is its commit order and a cursor never skips a row.
    this.addSql(`CREATE TABLE tasks.task_changes (
      seq bigserial PRIMARY KEY,
      user_id text NOT NULL,
      task_id uuid NOT NULL,
      deleted boolean NOT NULL,
      snapshot jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE INDEX task_changes_user ON tasks.task_changes (user_id, seq)`);
    this.addSql(`CREATE INDEX task_changes_created ON tasks.task_changes (created_at)`);
    this.addSql(`CREATE TABLE tasks.change_horizon (id boolean PRIMARY KEY DEFAULT true CHECK (id), pruned_through bigint NOT NULL)`);
    this.addSql(`INSERT INTO tasks.change_horizon (pruned_through) VALUES (0)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.change_horizon`);
    this.addSql(`DROP TABLE tasks.task_changes`);
    this.addSql(`DROP TABLE tasks.tasks`);
  }
}
