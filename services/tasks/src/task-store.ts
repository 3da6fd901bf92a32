import { toJson } from "@bufbuild/protobuf";
import type { Database } from "@taskmesh/db";
import type { EntityManager } from "@mikro-orm/sql";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { taskUpdateRecord, type OutboxRecord } from "./task-events.js";
import { TASK_COLUMNS, taskFromRow, type TaskRow } from "./task-row.js";
import type { TaskFields } from "./task-fields.js";

export const CHANGES_CHANNEL = "tasks_changed";
export const OUTBOX_CHANNEL = "tasks_outbox";

export interface ChangeRow {
  seq: string;
  taskId: string;
  deleted: boolean;
  snapshot: unknown;
}

/**
 * All SQL of the task service. Every statement is parameterised and filtered by user_id; the
 * only SQL text not written here comes from the filter compiler, which emits placeholders only.
 */
export class TaskStore {
  constructor(private readonly db: Database) {}

  /** Runs `work` in one transaction holding the user's write lock (see task_changes). */
  async write<T>(userId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.em().transactional(async (em) => {
      const tx = new Tx(this.db, em as unknown as EntityManager, userId);
      await tx.sql(`SELECT pg_advisory_xact_lock(hashtext($1))`, [userId]);
      return work(tx);
    });
  }

  async get(userId: string, id: string): Promise<TaskRow | undefined> {
    const rows = await this.db.query<TaskRow>(this.db.em(), `SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND id = $2`, [userId, id]);
    return rows[0];
  }

  async list(userId: string, where: string, params: unknown[], keys: string, orderBy: string, limit: number): Promise<(TaskRow & Record<string, unknown>)[]> {
    const sql = `SELECT ${TASK_COLUMNS}, ${keys} FROM tasks.tasks WHERE user_id = $1 AND ${where} ORDER BY ${orderBy} LIMIT ${Number(limit)}`;
    return this.db.query(this.db.em(), sql, [userId, ...params]);
  }

  async tags(userId: string): Promise<{ name: string; open: number; total: number }[]> {
    return this.db.query(
      this.db.em(),
      `SELECT tag AS name, count(*) FILTER (WHERE status = 1)::int AS open, count(*)::int AS total
         FROM tasks.tasks, unnest(tags) AS tag WHERE user_id = $1 GROUP BY tag ORDER BY tag`,
      [userId],
    );
  }

  async changesAfter(userId: string, seq: bigint, limit: number): Promise<ChangeRow[]> {
    return this.db.query(
      this.db.em(),
      `SELECT seq::text AS seq, task_id AS "taskId", deleted, snapshot FROM tasks.task_changes
        WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT ${Number(limit)}`,
      [userId, seq.toString()],
    );
  }

  /** The newest seq overall, and the newest seq already pruned from the feed. */
  async feedBounds(): Promise<{ latest: bigint; prunedThrough: bigint }> {
    const [row] = await this.db.query<{ latest: string; pruned: string }>(
      this.db.em(),
      `SELECT (SELECT coalesce(max(seq), 0) FROM tasks.task_changes)::text AS latest,
              (SELECT pruned_through FROM tasks.change_horizon)::text AS pruned`,
    );
    return { latest: BigInt(row!.latest), prunedThrough: BigInt(row!.pruned) };
  }

  /** Drops feed rows older than `before`; clients behind them are told to resync. */
  async pruneChanges(before: Date): Promise<number> {
    return this.db.em().transactional(async (em) => {
      const rows = await this.db.query<{ seq: string }>(
        em as unknown as EntityManager,
        `DELETE FROM tasks.task_changes WHERE created_at < $1 RETURNING seq::text AS seq`,
        [before],
      );
      if (rows.length > 0) {
        const max = rows.reduce((m, r) => (BigInt(r.seq) > m ? BigInt(r.seq) : m), 0n);
        await this.db.query(em as unknown as EntityManager, `UPDATE tasks.change_horizon SET pruned_through = greatest(pruned_through, $1)`, [max.toString()]);
      }
      return rows.length;
    });
  }
}

/** One write transaction of one user. */
export class Tx {
  constructor(
    private readonly db: Database,
    private readonly em: EntityManager,
    readonly userId: string,
  ) {}

  sql<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.db.query<Row>(this.em, sql, params);
  }

  async lock(id: string): Promise<TaskRow | undefined> {
    const rows = await this.sql<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND id = $2 FOR UPDATE`, [this.userId, id]);
    return rows[0];
  }

  async byRequestId(requestId: string): Promise<TaskRow | undefined> {
    const rows = await this.sql<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND request_id = $2`, [this.userId, requestId]);
    return rows[0];
  }

  async insert(id: string, f: TaskFields, extra: { requestId: string | null; seriesId: string | null; now: Date }): Promise<TaskRow> {
    const [row] = await this.sql<TaskRow>(
      `INSERT INTO tasks.tasks (id, user_id, title, notes, priority, tags, due_time, due_date, due_at, time_zone,
         recurrence, reminders, series_id, request_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8::date, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15, $15)
       RETURNING ${TASK_COLUMNS}`,
      [
        id, this.userId, f.title, f.notes, f.priority, f.tags, f.dueTime, f.dueDate, f.dueAt, f.timeZone,
        json(f.recurrence), json(f.reminders), extra.seriesId, extra.requestId, extra.now,
      ],
    );
    await this.recordChange(row!);
    return row!;
  }

  async updateFields(id: string, f: TaskFields, fieldVersions: Record<string, number>, now: Date): Promise<TaskRow> {
    const [row] = await this.sql<TaskRow>(
      `UPDATE tasks.tasks SET title = $3, notes = $4, priority = $5, tags = $6::text[], due_time = $7, due_date = $8::date,
         due_at = $9, time_zone = $10, recurrence = $11::jsonb, reminders = $12::jsonb, field_versions = $13::jsonb,
         version = version + 1, updated_at = $14
       WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`,
      [
        this.userId, id, f.title, f.notes, f.priority, f.tags, f.dueTime, f.dueDate, f.dueAt, f.timeZone,
        json(f.recurrence), json(f.reminders), json(fieldVersions), now,
      ],
    );
    await this.recordChange(row!);
    return row!;
  }

  async setStatus(id: string, status: number, completedAt: Date | null, fieldVersions: Record<string, number>, now: Date): Promise<TaskRow> {
    const [row] = await this.sql<TaskRow>(
      `UPDATE tasks.tasks SET status = $3, completed_at = $4, field_versions = $5::jsonb, version = version + 1, updated_at = $6
       WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`,
      [this.userId, id, status, completedAt, json(fieldVersions), now],
    );
    await this.recordChange(row!);
    return row!;
  }

  async delete(id: string, now: Date): Promise<void> {
    await this.sql(`DELETE FROM tasks.tasks WHERE user_id = $1 AND id = $2`, [this.userId, id]);
    const [change] = await this.sql<{ seq: string }>(
      `INSERT INTO tasks.task_changes (user_id, task_id, deleted) VALUES ($1, $2, true) RETURNING seq::text AS seq`,
      [this.userId, id],
    );
    await this.emit(taskUpdateRecord(this.userId, change!.seq, { deletedId: id }, now));
    await this.sql(`SELECT pg_notify($1, $2)`, [CHANGES_CHANNEL, this.userId]);
  }

  /** Queues an event for the relay, in this transaction: it is published iff the change commits. */
  async emit(record: OutboxRecord): Promise<void> {
    await this.sql(`INSERT INTO tasks.outbox (topic, key, payload, headers) VALUES ($1, $2, $3, $4::jsonb)`, [
      record.topic,
      record.key,
      record.payload,
      json(record.headers),
    ]);
    await this.sql(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
  }

  private async recordChange(row: TaskRow): Promise<void> {
    const task = taskFromRow(row);
    const [change] = await this.sql<{ seq: string }>(
      `INSERT INTO tasks.task_changes (user_id, task_id, deleted, snapshot) VALUES ($1, $2, false, $3::jsonb) RETURNING seq::text AS seq`,
      [this.userId, row.id, json(toJson(TaskSchema, task))],
    );
    await this.emit(taskUpdateRecord(this.userId, change!.seq, { task }, new Date(row.updatedAt)));
    // Delivered on commit only, to every replica listening.
    await this.sql(`SELECT pg_notify($1, $2)`, [CHANGES_CHANNEL, this.userId]);
  }
}

// jsonb parameters go as text: drivers would otherwise turn JS arrays into Postgres arrays.
function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}
