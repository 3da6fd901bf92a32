import { Migration } from "@mikro-orm/migrations";

export class Migration20261203180000_projects extends Migration {
  override name = "Migration20261203180000_projects";

  override up(): void {
    // Tasks keep user_id as their partition: the owner of their project. One user's lists, locks
    // and indexes stay as they were; a member of a shared project reaches its tasks by project_id.
    this.addSql(`CREATE TABLE tasks.projects (
      id uuid PRIMARY KEY,
      owner_id text NOT NULL,
      name text NOT NULL,
      colour text NOT NULL DEFAULT '',
      archived boolean NOT NULL DEFAULT false,
      position integer NOT NULL DEFAULT 0,
      inbox boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE UNIQUE INDEX projects_inbox ON tasks.projects (owner_id) WHERE inbox`);
    this.addSql(`CREATE INDEX projects_owner ON tasks.projects (owner_id)`);
    // role: 1 viewer, 2 editor, 3 admin (taskmesh.projects.v1.ProjectRole); the owner is a member too.
    this.addSql(`CREATE TABLE tasks.project_members (
      project_id uuid NOT NULL REFERENCES tasks.projects ON DELETE CASCADE,
      user_id text NOT NULL,
      role smallint NOT NULL,
      email text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (project_id, user_id)
    )`);
    this.addSql(`CREATE INDEX project_members_user ON tasks.project_members (user_id)`);
    this.addSql(`CREATE TABLE tasks.invitations (
      id uuid PRIMARY KEY,
      project_id uuid NOT NULL REFERENCES tasks.projects ON DELETE CASCADE,
      email text NOT NULL,
      role smallint NOT NULL,
      invited_by text NOT NULL,
      invited_by_email text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (project_id, email)
    )`);
    this.addSql(`CREATE INDEX invitations_email ON tasks.invitations (email)`);
    this.addSql(`CREATE TABLE tasks.sections (
      id uuid PRIMARY KEY,
      project_id uuid NOT NULL REFERENCES tasks.projects ON DELETE CASCADE,
      name text NOT NULL,
      position integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE INDEX sections_project ON tasks.sections (project_id, position)`);
    // Nullable: a replica of the previous version may still create tasks during a rolling upgrade;
    // the service reads a task without a project as being in its owner's Inbox.
    this.addSql(`ALTER TABLE tasks.tasks ADD COLUMN project_id uuid, ADD COLUMN section_id uuid, ADD COLUMN assignee_id text`);
    this.addSql(`CREATE INDEX tasks_by_project ON tasks.tasks (project_id, (coalesce(due_at, 'infinity'::timestamptz)), id)`);
    this.addSql(`CREATE INDEX tasks_by_assignee ON tasks.tasks (assignee_id) WHERE assignee_id IS NOT NULL`);
    // Every existing task goes into its user's Inbox.
    this.addSql(`INSERT INTO tasks.projects (id, owner_id, name, inbox)
                 SELECT gen_random_uuid(), user_id, 'Inbox', true FROM (SELECT DISTINCT user_id FROM tasks.tasks) AS users`);
    this.addSql(`INSERT INTO tasks.project_members (project_id, user_id, role) SELECT id, owner_id, 3 FROM tasks.projects`);
    this.addSql(`UPDATE tasks.tasks t SET project_id = p.id FROM tasks.projects p WHERE p.owner_id = t.user_id AND p.inbox`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE tasks.tasks DROP COLUMN project_id, DROP COLUMN section_id, DROP COLUMN assignee_id`);
    this.addSql(`DROP TABLE tasks.sections`);
    this.addSql(`DROP TABLE tasks.invitations`);
    this.addSql(`DROP TABLE tasks.project_members`);
    this.addSql(`DROP TABLE tasks.projects`);
  }
}
