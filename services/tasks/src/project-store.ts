import { randomUUID } from "node:crypto";
import type { Database } from "@taskmesh/db";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";

/** Parameterised SQL on some connection (a request's, or a write's transaction). */
export type Sql = <Row>(text: string, params?: unknown[]) => Promise<Row[]>;

/** A project as one member sees it. */
export interface ProjectRow {
  id: string;
  ownerId: string;
  name: string;
  colour: string;
  archived: boolean;
  position: number;
  inbox: boolean;
  role: ProjectRole;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SectionRow {
  id: string;
  projectId: string;
  name: string;
  position: number;
}

export interface MemberRow {
  userId: string;
  email: string;
  role: ProjectRole;
}

export interface InvitationRow {
  id: string;
  projectId: string;
  projectName: string;
  email: string;
  role: ProjectRole;
  invitedBy: string;
  invitedByEmail: string;
  createdAt: Date;
}

const PROJECT_COLUMNS = `p.id, p.owner_id AS "ownerId", p.name, p.colour, p.archived, p.position, p.inbox, m.role,
  (SELECT count(*)::int FROM tasks.project_members c WHERE c.project_id = p.id) AS "memberCount",
  p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;
const SECTION_COLUMNS = `id, project_id AS "projectId", name, position`;
const INVITATION_COLUMNS = `i.id, i.project_id AS "projectId", p.name AS "projectName", i.email, i.role, i.invited_by AS "invitedBy",
  i.invited_by_email AS "invitedByEmail", i.created_at AS "createdAt"`;

/** Projects, sections, members and invitations: every statement of them. */
export class ProjectStore {
  /** Inbox ids by owner: an Inbox is never deleted, so a cached id stays right. */
  readonly #inboxes = new Map<string, string>();

  constructor(private readonly db: Database) {}

  /** Reads outside a write's transaction. */
  readonly read: Sql = (text, params = []) => this.db.query(this.db.em(), text, params);

  /** The user's Inbox id, made on first use. */
  async inbox(userId: string, email = ""): Promise<string> {
    const cached = this.#inboxes.get(userId);
    if (cached) return cached;
    // A concurrent first use inserts the same Inbox: this statement's snapshot may not see it yet,
    // the next one does.
    let row: { id: string } | undefined;
    for (let attempt = 0; !row; attempt++) {
      if (attempt === 3) throw new Error(`no Inbox for ${userId}`);
      [row] = await this.read<{ id: string }>(
        `WITH made AS (
           INSERT INTO tasks.projects (id, owner_id, name, inbox) VALUES ($2, $1, 'Inbox', true)
           ON CONFLICT (owner_id) WHERE inbox DO NOTHING RETURNING id
         ), member AS (
           INSERT INTO tasks.project_members (project_id, user_id, role, email) SELECT id, $1, ${ProjectRole.ADMIN}, $3 FROM made
         )
         SELECT id FROM made UNION ALL SELECT id FROM tasks.projects WHERE owner_id = $1 AND inbox`,
        [userId, randomUUID(), email],
      );
    }
    this.#inboxes.set(userId, row.id);
    return row.id;
  }

  /** The projects the user is a member of (archived ones too), Inbox first. */
  async list(userId: string, sql: Sql = this.read): Promise<ProjectRow[]> {
    return sql(
      `SELECT ${PROJECT_COLUMNS} FROM tasks.project_members m JOIN tasks.projects p ON p.id = m.project_id
        WHERE m.user_id = $1 ORDER BY p.inbox DESC, p.position, p.created_at, p.id`,
      [userId],
    );
  }

  /** The project as the user sees it; undefined when the user is not a member. */
  async get(userId: string, id: string, sql: Sql = this.read): Promise<ProjectRow | undefined> {
    const [row] = await sql<ProjectRow>(
      `SELECT ${PROJECT_COLUMNS} FROM tasks.project_members m JOIN tasks.projects p ON p.id = m.project_id
        WHERE m.user_id = $1 AND p.id = $2`,
      [userId, id],
    );
    return row;
  }

  async create(sql: Sql, ownerId: string, email: string, name: string, colour: string): Promise<string> {
    const id = randomUUID();
    await sql(
      `WITH made AS (
         INSERT INTO tasks.projects (id, owner_id, name, colour, position)
         SELECT $1, $2, $3, $4, coalesce(max(position) + 1, 1) FROM tasks.projects WHERE owner_id = $2 RETURNING id
       )
       INSERT INTO tasks.project_members (project_id, user_id, role, email) SELECT id, $2, ${ProjectRole.ADMIN}, $5 FROM made`,
      [id, ownerId, name, colour, email],
    );
    return id;
  }

  async update(sql: Sql, id: string, fields: { name: string; colour: string; archived: boolean; position: number }, now: Date): Promise<void> {
    await sql(`UPDATE tasks.projects SET name = $2, colour = $3, archived = $4, position = $5, updated_at = $6 WHERE id = $1`, [id, fields.name, fields.colour, fields.archived, fields.position, now]);
  }

  async delete(sql: Sql, id: string): Promise<void> {
    await sql(`DELETE FROM tasks.projects WHERE id = $1`, [id]);
  }

  async sections(projectId: string): Promise<SectionRow[]> {
    return this.read(`SELECT ${SECTION_COLUMNS} FROM tasks.sections WHERE project_id = $1 ORDER BY position, created_at, id`, [projectId]);
  }

  async section(id: string, sql: Sql = this.read): Promise<SectionRow | undefined> {
    const [row] = await sql<SectionRow>(`SELECT ${SECTION_COLUMNS} FROM tasks.sections WHERE id = $1`, [id]);
    return row;
  }

  /** Sections of any of the projects, for `section:` filters. */
  async sectionsOf(projectIds: string[]): Promise<SectionRow[]> {
    return this.read(`SELECT ${SECTION_COLUMNS} FROM tasks.sections WHERE project_id = ANY($1::uuid[])`, [projectIds]);
  }

  async createSection(sql: Sql, projectId: string, name: string): Promise<SectionRow> {
    const [row] = await sql<SectionRow>(
      `INSERT INTO tasks.sections (id, project_id, name, position)
       SELECT $1, $2, $3, coalesce(max(position) + 1, 1) FROM tasks.sections WHERE project_id = $2
       RETURNING ${SECTION_COLUMNS}`,
      [randomUUID(), projectId, name],
    );
    return row!;
  }

  async updateSection(sql: Sql, id: string, name: string, position: number): Promise<SectionRow> {
    const [row] = await sql<SectionRow>(`UPDATE tasks.sections SET name = $2, position = $3 WHERE id = $1 RETURNING ${SECTION_COLUMNS}`, [id, name, position]);
    return row!;
  }

  async deleteSection(sql: Sql, id: string): Promise<void> {
    await sql(`DELETE FROM tasks.sections WHERE id = $1`, [id]);
  }

  async members(projectId: string, sql: Sql = this.read): Promise<MemberRow[]> {
    return sql(`SELECT user_id AS "userId", email, role FROM tasks.project_members WHERE project_id = $1 ORDER BY created_at, user_id`, [projectId]);
  }

  async member(projectId: string, userId: string, sql: Sql = this.read): Promise<MemberRow | undefined> {
    const [row] = await sql<MemberRow>(`SELECT user_id AS "userId", email, role FROM tasks.project_members WHERE project_id = $1 AND user_id = $2`, [projectId, userId]);
    return row;
  }

  async addMember(sql: Sql, projectId: string, userId: string, email: string, role: ProjectRole): Promise<void> {
    await sql(
      `INSERT INTO tasks.project_members (project_id, user_id, role, email) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, email = excluded.email`,
      [projectId, userId, role, email],
    );
  }

  async setRole(sql: Sql, projectId: string, userId: string, role: ProjectRole): Promise<void> {
    await sql(`UPDATE tasks.project_members SET role = $3 WHERE project_id = $1 AND user_id = $2`, [projectId, userId, role]);
  }

  async removeMember(sql: Sql, projectId: string, userId: string): Promise<void> {
    await sql(`DELETE FROM tasks.project_members WHERE project_id = $1 AND user_id = $2`, [projectId, userId]);
  }

  async invite(sql: Sql, projectId: string, email: string, role: ProjectRole, by: string, byEmail: string): Promise<InvitationRow> {
    const [row] = await sql<InvitationRow>(
      `WITH i AS (
         INSERT INTO tasks.invitations (id, project_id, email, role, invited_by, invited_by_email) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id, email) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by,
           invited_by_email = excluded.invited_by_email
         RETURNING *
       )
       SELECT ${INVITATION_COLUMNS} FROM i JOIN tasks.projects p ON p.id = i.project_id`,
      [randomUUID(), projectId, email, role, by, byEmail],
    );
    return row!;
  }

  async invitationsFor(email: string): Promise<InvitationRow[]> {
    return this.read(`SELECT ${INVITATION_COLUMNS} FROM tasks.invitations i JOIN tasks.projects p ON p.id = i.project_id WHERE i.email = $1 ORDER BY i.created_at`, [email]);
  }

  async invitationsOf(projectId: string): Promise<InvitationRow[]> {
    return this.read(`SELECT ${INVITATION_COLUMNS} FROM tasks.invitations i JOIN tasks.projects p ON p.id = i.project_id WHERE i.project_id = $1 ORDER BY i.created_at`, [projectId]);
  }

  async ownerOf(projectId: string): Promise<string> {
    return (await this.read<{ ownerId: string }>(`SELECT owner_id AS "ownerId" FROM tasks.projects WHERE id = $1`, [projectId]))[0]!.ownerId;
  }

  async invitation(id: string): Promise<InvitationRow | undefined> {
    const [row] = await this.read<InvitationRow>(`SELECT ${INVITATION_COLUMNS} FROM tasks.invitations i JOIN tasks.projects p ON p.id = i.project_id WHERE i.id = $1`, [id]);
    return row;
  }

  async dropInvitation(sql: Sql, id: string): Promise<void> {
    await sql(`DELETE FROM tasks.invitations WHERE id = $1`, [id]);
  }

  /** The ids of the project's tasks, for a member who lost it. */
  async taskIds(sql: Sql, projectId: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(`SELECT id FROM tasks.tasks WHERE project_id = $1`, [projectId]);
    return rows.map((r) => r.id);
  }
}
