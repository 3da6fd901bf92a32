import { randomBytes } from "node:crypto";
import { PLANNED_EACH_CALL, type Database, type EntityManager } from "@taskmesh/db";
import { writeOutbox, type Outbox } from "@taskmesh/events";
import { lockAudience, writeFeed, type FeedChange } from "./feed-writer.js";
import { listStatement, ownPageStatement, plannedEachCall, type ListQuery } from "./list-query.js";
import { keyIsFree, keysAtEnd, sameSiblings, type Siblings } from "./order-keys.js";
import { lockTrees, treeOf } from "./subtasks.js";
import type { OutboxRecord } from "./task-events.js";
import { TASK_COLUMNS, taskFromRow, type TaskRow } from "./task-row.js";
import type { TaskFields } from "./task-fields.js";
import { toJsonString, type JsonValue } from "@bufbuild/protobuf";
import { TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

export { CHANGES_CHANNEL } from "./feed-writer.js";

/** Parameterised SQL on some connection (a request's, or a write's transaction). */
export type Sql = <Row>(text: string, params?: unknown[]) => Promise<Row[]>;
export const OUTBOX_CHANNEL = "tasks_outbox";
/** The lock key relays of tasks.outbox have always used (running old and new relays side by side keeps one at a time). */
export const TASKS_OUTBOX: Outbox = { schema: "tasks", channel: OUTBOX_CHANNEL, lockKey: 7_140_501 };

/**
 * Who assigned a task, as an UPDATE sets it with the new assignee (parameter `assignee`) by `actor`:
 * the actor when the assignee changes to someone, nobody without one, else as it was.
 */
const ASSIGNED_BY = (assignee: string, actor: string) => `CASE WHEN ${assignee}::text IS NULL THEN NULL WHEN assignee_id IS DISTINCT FROM ${assignee}::text THEN ${actor}::text ELSE assigned_by END`;

/** Where a task sits: its project (whose owner is the task's user_id), section, assignee and parent task. */
export interface Placement {
  projectId: string;
  sectionId: string | null;
  assigneeId: string | null;
  parentId: string | null;
}

/** A task to create, for createMany. */
export interface NewTask {
  id: string;
  /** The owner of the task's project. */
  userId: string;
  fields: TaskFields;
  placement: Placement;
  requestId: string | null;
  seriesId: string | null;
  /** Who gives it to its assignee, if it has one. */
  assigner: string;
  now: Date;
  /** A deleted task brought back (RestoreTask) keeps these; a new one starts open, at version 1. */
  restored?: {
    status: number;
    completedAt: Date | null;
    createdAt: Date;
    version: number;
    commentCount: number;
    /** Its key among the same siblings as before: taken back while no sibling has it, which puts it back in its place. */
    orderKey?: string;
  };
  /** The events its creation publishes, from the row as stored. */
  events(row: TaskRow): OutboxRecord[];
}

/** One write of a batch (TaskStore.writeMany). */
export interface Write {
  run(tx: Tx): Promise<unknown>;
  /** A task whose tree the write locks (Tx.lockTree): the batch locks those of all its writes in one statement. */
  locksTree?: string;
}

export interface NewComment {
  id: string;
  authorId: string;
  body: string;
  at: Date;
}

/** A tasks.comments row as the store reads it. */
export interface CommentRow {
  seq: string;
  id: string;
  taskId: string;
  authorId: string;
  body: string;
  createdAt: Date;
  updatedAt: Date | null;
}

const COMMENT_COLUMNS = `seq::text AS seq, id, task_id AS "taskId", author_id AS "authorId", body, created_at AS "createdAt", updated_at AS "updatedAt"`;

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

  /** Runs `work` in one transaction holding the owner's write lock (see task_changes) and those of its projects' members. */
  async write<T>(userId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    const [result] = await this.writeMany(userId, [{ run: work }]);
    if (result instanceof WriteFailed) throw result.cause;
    return result as T;
  }

  /**
   * Runs several writes of one user in one transaction, one after the other in the order given,
   * holding the user's write lock once: one commit for all of them. Each gets its own result, or
   * its error wrapped in WriteFailed: a write that fails before it changed anything fails alone and
   * the others commit; one that fails after (or with the transaction broken) sends every write
   * back to run in a transaction of its own, so that each commits or rolls back as if alone.
   */
  async writeMany(userId: string, works: readonly Write[]): Promise<unknown[]> {
    try {
      return await this.db.em().transactional(async (em) => {
        const pending = new PendingWrites(this.db, em, userId, await lockAudience(this.db, em, [userId]));
        const trees = works.flatMap((w) => (w.locksTree ? [w.locksTree] : []));
        if (trees.length > 1) await pending.lockTrees(trees).catch(broken);
        const results: unknown[] = [];
        for (const work of works) {
          const tx = new Tx(this.db, em, userId, pending);
          try {
            // A write that may use the transaction directly (Tx.em) finds the status changes before it written.
            if (!work.locksTree) await pending.writeStatuses();
            results.push(await work.run(tx));
          } catch (err) {
            // Nothing of this write reached the transaction: it fails alone, unless the error came
            // from the database (the transaction is then aborted, and this statement fails too).
            if (works.length === 1 || tx.wrote || !(await this.#healthy(em))) throw new BatchBroken(err);
            results.push(new WriteFailed(err));
          }
        }
        await pending.writeStatuses().catch(broken);
        await pending.flush(this.db, em);
        return results;
      });
    } catch (err) {
      if (!(err instanceof BatchBroken)) throw err;
      if (works.length === 1) return [new WriteFailed(err.cause)];
      const results: unknown[] = [];
      for (const work of works) results.push((await this.writeMany(userId, [work]))[0]);
      return results;
    }
  }

  async #healthy(em: EntityManager): Promise<boolean> {
    return this.db.query(em, `SELECT 1`).then(
      () => true,
      () => false,
    );
  }

  /**
   * Creates tasks of any users in one transaction, a handful of statements whatever their number:
   * the rows, their change-feed entries and their events. Returns one row per item: the new task,
   * or the one that already carries the item's request id (a retry creates nothing).
   */
  async createMany(items: readonly NewTask[]): Promise<TaskRow[]> {
    return this.db.em().transactional(async (em) => {
      const sql = <Row>(text: string, params: unknown[] = []) => this.db.query<Row>(em, text, params);
      // Ids derive from (user, request id), so one id stands for all retries of a request: a task
      // already there is a conflict, skipped here and read below.
      const unique = [...new Map(items.map((i) => [i.id, i])).values()];
      // The owners' write locks, and their projects' members' (see task_changes), before anything
      // is written, in one order for every transaction, so that two batches never deadlock.
      const locked = await lockAudience(this.db, em, [...new Set(unique.map((i) => i.userId))]);
      // Each new task goes after its siblings, those of one batch in call order; a restored one
      // back to its key when that is free.
      const orderKeys = new Map<string, string>();
      const bySiblings = new Map<string, NewTask[]>();
      for (const item of unique) {
        const siblings = JSON.stringify([item.userId, item.placement.projectId, item.placement.sectionId, item.placement.parentId]);
        bySiblings.set(siblings, [...(bySiblings.get(siblings) ?? []), item]);
      }
      for (const group of bySiblings.values()) {
        const atEnd: NewTask[] = [];
        const taken = new Set<string>();
        for (const item of group) {
          const key = item.restored?.orderKey;
          if (key && !taken.has(key) && (await keyIsFree(sql, item.userId, item.placement, key))) {
            orderKeys.set(item.id, key);
            taken.add(key);
          } else {
            atEnd.push(item);
          }
        }
        if (atEnd.length === 0) continue;
        const keys = await keysAtEnd(sql, group[0]!.userId, group[0]!.placement, atEnd.length);
        for (const [n, item] of atEnd.entries()) orderKeys.set(item.id, keys[n]!);
      }
      const inserted = await sql<TaskRow>(
        `INSERT INTO tasks.tasks (id, user_id, title, notes, priority, tags, due_time, due_date, due_at, time_zone,
           recurrence, reminders, series_id, request_id, created_at, updated_at, project_id, section_id, assignee_id, assigned_by, parent_id,
           order_key, status, completed_at, version, comment_count)
         SELECT r.id, r.user_id, r.title, r.notes, r.priority, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.due_time,
                r.due_date, r.due_at, r.time_zone, r.recurrence, r.reminders, r.series_id, r.request_id, r.created_at, r.at,
                r.project_id, r.section_id, r.assignee_id, r.assigned_by, r.parent_id, r.order_key, r.status, r.completed_at, r.version, r.comment_count
           FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id text, title text, notes text, priority smallint, tags jsonb,
                due_time timestamptz, due_date date, due_at timestamptz, time_zone text, recurrence jsonb, reminders jsonb,
                series_id uuid, request_id text, at timestamptz, project_id uuid, section_id uuid, assignee_id text, assigned_by text, parent_id uuid,
                order_key text, status smallint, completed_at timestamptz, version integer, comment_count integer, created_at timestamptz)
         ON CONFLICT DO NOTHING
         RETURNING ${TASK_COLUMNS}`,
        [
          json(
            unique.map(({ id, userId, fields: f, placement: pl, seriesId, requestId, assigner, now, restored }) => ({
              id,
              user_id: userId,
              title: f.title,
              notes: f.notes,
              priority: f.priority,
              tags: f.tags,
              due_time: f.dueTime,
              due_date: f.dueDate,
              due_at: f.dueAt,
              time_zone: f.timeZone,
              recurrence: f.recurrence,
              reminders: f.reminders,
              series_id: seriesId,
              request_id: requestId,
              at: now,
              project_id: pl.projectId,
              section_id: pl.sectionId,
              assignee_id: pl.assigneeId,
              assigned_by: pl.assigneeId ? assigner : null,
              parent_id: pl.parentId,
              order_key: orderKeys.get(id),
              status: restored?.status ?? 1,
              completed_at: restored?.completedAt ?? null,
              version: restored?.version ?? 1,
              comment_count: restored?.commentCount ?? 0,
              created_at: restored?.createdAt ?? now,
            })),
          ),
        ],
      );
      const insertedIds = new Set(inserted.map((row) => row.id));
      const rowOf = new Map(inserted.map((row) => [row.id, row]));
      const retried = unique.filter((i) => !insertedIds.has(i.id));
      if (retried.length > 0) {
        // By request id too: tasks stored before ids were derived from it have ids of their own.
        const existing = await sql<TaskRow>(
          `SELECT ${TASK_COLUMNS} FROM tasks.tasks
            WHERE (user_id, id) IN (SELECT * FROM unnest($1::text[], $2::uuid[]))
               OR (user_id, request_id) IN (SELECT * FROM unnest($1::text[], $3::text[]))`,
          [retried.map((i) => i.userId), retried.map((i) => i.id), retried.map((i) => i.requestId)],
        );
        for (const item of retried) {
          const row = existing.find((r) => r.userId === item.userId && (r.id === item.id || (item.requestId !== null && r.requestId === item.requestId)));
          if (row) rowOf.set(item.id, row);
        }
      }
      if (inserted.length === 0) return items.map((i) => rowOf.get(i.id)!);

      const created = unique.filter((i) => insertedIds.has(i.id)).map((i) => ({ item: i, row: rowOf.get(i.id)!, task: taskFromRow(rowOf.get(i.id)!) }));
      // Each owner's feed and those of its project's members follow call order (see writeFeed).
      const updates = await writeFeed(
        this.db,
        em,
        created.map((c) => ({ owner: c.item.userId, taskId: c.row.id, task: c.task, at: c.item.now, to: { project: c.row.projectId } })),
        locked,
      );
      await writeOutbox(
        this.db,
        em,
        TASKS_OUTBOX,
        created.flatMap((c, i) => [...updates[i]!, ...c.item.events(c.row)]),
      );
      return items.map((i) => rowOf.get(i.id)!);
    });
  }

  /** The shared key called `name`, generated by whichever replica asks first. */
  async serverKey(name: string): Promise<Buffer> {
    const em = this.db.em();
    await this.db.query(em, `INSERT INTO tasks.server_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, randomBytes(32)]);
    const [row] = await this.db.query<{ key: Buffer }>(em, `SELECT key FROM tasks.server_keys WHERE name = $1`, [name]);
    return row!.key;
  }

  /** A read outside any write. */
  readonly read = <Row>(sql: string, params: unknown[] = []): Promise<Row[]> => this.db.query<Row>(this.db.em(), sql, params);

  /** The task, whoever owns it: the caller checks access (see project-access.ts). */
  async get(id: string): Promise<TaskRow | undefined> {
    const rows = await this.db.query<TaskRow>(this.db.em(), `SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Who gave the series' latest occurrence in that project to that assignee, if anyone did. */
  async seriesAssigner(seriesId: string, projectId: string, assigneeId: string): Promise<string | undefined> {
    const rows = await this.read<{ assignedBy: string | null }>(
      `SELECT assigned_by AS "assignedBy" FROM tasks.tasks WHERE assignee_id = $1 AND series_id = $2 AND project_id = $3 ORDER BY created_at DESC LIMIT 1`,
      [assigneeId, seriesId, projectId],
    );
    return rows[0]?.assignedBy ?? undefined;
  }

  /** A deleted task kept for RestoreTask (its last state, proto3 JSON), whoever owned it: the caller checks access. */
  async deleted(id: string): Promise<{ userId: string; task: JsonValue } | undefined> {
    const rows = await this.read<{ userId: string; task: JsonValue }>(`SELECT user_id AS "userId", task FROM tasks.deleted_tasks WHERE id = $1`, [id]);
    return rows[0];
  }

  /**
   * Puts a restored task's comments back and forgets it as deleted, in one statement: a retry of a
   * restore that stopped before this finds the task there and does only this.
   */
  async restoreComments(id: string): Promise<void> {
    await this.db.query(
      this.db.em(),
      `WITH gone AS (DELETE FROM tasks.deleted_tasks WHERE id = $1 RETURNING comments)
       INSERT INTO tasks.comments (id, task_id, author_id, body, created_at, updated_at)
       SELECT c.id, c.task_id, c.author_id, c.body, c.created_at, c.updated_at
         FROM gone, jsonb_populate_recordset(NULL::tasks.comments, gone.comments) AS c ORDER BY c.seq
       ON CONFLICT (id) DO NOTHING`,
      [id],
    );
  }

  /** A page of ListTasks: rows with the order's keys as "k0", "k1", … (see list-query.ts). */
  async list(userId: string, query: ListQuery): Promise<(TaskRow & Record<string, unknown>)[]> {
    return this.db.query(this.db.em(), planning(query) + listStatement(query, TASK_COLUMNS), [userId, ...query.params]);
  }

  /**
   * A page of the user's own tasks in one statement with their projects' check (ownPageStatement);
   * undefined when a project of someone else is shared with them, whose tasks the page would miss.
   */
  async ownList(userId: string, query: ListQuery): Promise<(TaskRow & Record<string, unknown>)[] | undefined> {
    const rows = await this.db.query<TaskRow & { sharedWithCaller: boolean } & Record<string, unknown>>(this.db.em(), planning(query) + ownPageStatement(query, TASK_COLUMNS), [
      userId,
      ...query.params,
    ]);
    if (rows[0]!.sharedWithCaller) return undefined;
    return rows[0]!.id === null ? [] : rows;
  }

  /** A page of a task's comments, oldest first, after the comment numbered `afterSeq`. */
  async comments(taskId: string, afterSeq: bigint, limit: number): Promise<CommentRow[]> {
    return this.read<CommentRow>(`SELECT ${COMMENT_COLUMNS} FROM tasks.comments WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT ${Number(limit)}`, [taskId, afterSeq.toString()]);
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
      // Qualified: a bare "seq" in ORDER BY names the text output column (and sorts "10" before "9").
      `SELECT c.seq::text AS seq, c.task_id AS "taskId", c.deleted, c.snapshot FROM tasks.task_changes c
        WHERE c.user_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT ${Number(limit)}`,
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
}

/** The error of one write of a batch (TaskStore.writeMany), as its result. */
export class WriteFailed {
  constructor(readonly cause: unknown) {}
}

/** A write of a batch failed in a way that the batch's transaction cannot keep. */
class BatchBroken extends Error {
  constructor(override readonly cause: unknown) {
    super("a write of the batch failed");
  }
}

const broken = (err: unknown): never => {
  throw new BatchBroken(err);
};

/** A status change not yet written (see PendingWrites.status). */
interface StatusChange {
  id: string;
  status: number;
  completed_at: Date | null;
  field_versions: Record<string, number>;
  version: number;
  at: Date;
}

/**
 * What the writes of a batch share: the change-feed rows and events of its writes, in the order
 * they were made, written at the end of the batch in two statements instead of a few per write;
 * the trees its completes lock, locked together before the first write; their status changes,
 * written together before any other statement.
 */
class PendingWrites {
  readonly #changes: FeedChange[] = [];
  /** Events, and the feed change (by index) whose TaskUpdates go at that place. */
  readonly #outbox: (OutboxRecord | number)[] = [];
  /** The rows locked by lockTrees as this batch left them, while only status changes wrote to them. */
  #trees: { roots: Set<string>; rows: Map<string, TaskRow> } | undefined;
  /** By task: the last status change of each, written by writeStatuses. */
  readonly #statuses = new Map<string, StatusChange>();

  /** `locked`: whose feed locks the batch holds. */
  constructor(
    private readonly db: Database,
    private readonly em: EntityManager,
    private readonly userId: string,
    readonly locked: Set<string>,
  ) {}

  /** Locks the trees of the tasks `ids` (see Tx.lockTree) in one statement. */
  async lockTrees(ids: string[]): Promise<void> {
    const rows = await lockTrees(this.sql, this.userId, ids);
    this.#trees = { roots: new Set(ids), rows: new Map(rows.map((row) => [row.id, row])) };
  }

  /** The tree of `id` as locked by lockTrees: undefined if it did not lock it or a write other than a status change came since; null if the user has no such task. */
  tree(id: string): { task: TaskRow; subtree: TaskRow[] } | null | undefined {
    if (!this.#trees?.roots.has(id)) return undefined;
    return treeOf(this.#trees.rows.values(), id) ?? null;
  }

  /** A write other than a status change: the trees locked may have changed. */
  wrote(): void {
    this.#trees = undefined;
  }

  /** A status change of a locked task, written before the next statement (writeStatuses); returns the row as changed. */
  status(row: TaskRow, status: number, completedAt: Date | null, fieldVersions: Record<string, number>, at: Date): TaskRow {
    const changed: TaskRow = { ...row, status, completedAt, fieldVersions, version: row.version + 1, updatedAt: at };
    this.#statuses.set(row.id, { id: row.id, status, completed_at: completedAt, field_versions: fieldVersions, version: changed.version, at });
    if (this.#trees?.rows.has(row.id)) this.#trees.rows.set(row.id, changed);
    return changed;
  }

  /** Writes the status changes made since the last call, in one statement. */
  async writeStatuses(): Promise<void> {
    if (this.#statuses.size === 0) return;
    const changes = JSON.stringify([...this.#statuses.values()]);
    this.#statuses.clear();
    await this.db.query(
      this.em,
      `UPDATE tasks.tasks t SET status = s.status, completed_at = s.completed_at, field_versions = s.field_versions, version = s.version, updated_at = s.at
         FROM jsonb_to_recordset($2::jsonb) AS s(id uuid, status smallint, completed_at timestamptz, field_versions jsonb, version integer, at timestamptz)
        WHERE t.user_id = $1 AND t.id = s.id`,
      [this.userId, changes],
    );
  }

  /** A statement in the batch's transaction, after the status changes before it. */
  readonly sql = async <Row>(text: string, params: unknown[] = []): Promise<Row[]> => {
    await this.writeStatuses();
    return this.db.query<Row>(this.em, text, params);
  };

  change(change: FeedChange): void {
    this.#outbox.push(this.#changes.push(change) - 1);
  }

  emit(record: OutboxRecord): void {
    this.#outbox.push(record);
  }

  /** Writes the feed rows and events. */
  async flush(db: Database, em: EntityManager): Promise<void> {
    if (this.#outbox.length === 0) return;
    const updates = await writeFeed(db, em, this.#changes, this.locked);
    await writeOutbox(
      db,
      em,
      TASKS_OUTBOX,
      this.#outbox.flatMap((entry) => (typeof entry === "number" ? updates[entry]! : [entry])),
    );
  }
}

/** One write of one user, in a transaction holding the user's write lock (maybe shared with other writes of the user). */
export class Tx {
  #wrote = false;

  constructor(
    private readonly db: Database,
    /** The transaction, for another store's reads in it (they change nothing, so the write may still fail alone). */
    readonly em: EntityManager,
    readonly userId: string,
    private readonly pending: PendingWrites,
  ) {}

  /** Whether this write changed anything yet (statements, events). */
  get wrote(): boolean {
    return this.#wrote;
  }

  /** The transaction, for another store's writes in it: this write has then changed something. */
  writes(): EntityManager {
    this.#wrote = true;
    this.pending.wrote();
    return this.em;
  }

  sql<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    this.#wrote = true;
    this.pending.wrote();
    return this.pending.sql<Row>(sql, params);
  }

  /** A read in this write's transaction (changes nothing, so the write may still fail alone). */
  readonly read = <Row>(sql: string, params: unknown[] = []): Promise<Row[]> => this.pending.sql<Row>(sql, params);

  async lock(id: string): Promise<TaskRow | undefined> {
    const rows = await this.read<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND id = $2 FOR UPDATE`, [this.userId, id]);
    return rows[0];
  }

  /**
   * The task and every subtask of it at any depth, locked (a CompleteTask needs both); undefined
   * when the user has no such task. A batch whose writes name their trees (Write.locksTree) has
   * locked them all together already.
   */
  async lockTree(id: string): Promise<{ task: TaskRow; subtree: TaskRow[] } | undefined> {
    const locked = this.pending.tree(id);
    if (locked !== undefined) return locked ?? undefined;
    return treeOf(await lockTrees(this.read, this.userId, [id]), id);
  }

  /**
   * Writes the fields and the placement (`actor` becomes who assigned it when the assignee changes).
   * A task moved to a project of another owner changes partition (user_id): that owner's feed locks
   * and its members' are taken too, after this batch's own (PostgreSQL reports a deadlock with a
   * concurrent opposite move; one of them fails).
   */
  async updateFields(current: TaskRow, owner: string, f: TaskFields, pl: Placement, fieldVersions: Record<string, number>, now: Date, actor: string): Promise<TaskRow> {
    await this.#lockOwner(owner);
    const [row] = await this.sql<TaskRow>(
      `UPDATE tasks.tasks SET title = $3, notes = $4, priority = $5, tags = $6::text[], due_time = $7, due_date = $8::date,
         due_at = $9, time_zone = $10, recurrence = $11::jsonb, reminders = $12::jsonb, field_versions = $13::jsonb,
         version = version + 1, updated_at = $14, user_id = $15, project_id = $16, section_id = $17, assignee_id = $18,
         assigned_by = ${ASSIGNED_BY("$18", "$21")}, parent_id = $19, order_key = $20
       WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`,
      [
        this.userId,
        current.id,
        f.title,
        f.notes,
        f.priority,
        f.tags,
        f.dueTime,
        f.dueDate,
        f.dueAt,
        f.timeZone,
        json(f.recurrence),
        json(f.reminders),
        json(fieldVersions),
        now,
        owner,
        pl.projectId,
        pl.sectionId,
        pl.assigneeId,
        pl.parentId,
        await this.#orderKeyAt(current, owner, pl),
        actor,
      ],
    );
    this.#placed(current, row!);
    return row!;
  }

  /** Writes the placement alone (a subtask following its parent, a child of a deleted task moving up, a removed member's tasks unassigned). */
  async place(current: TaskRow, owner: string, pl: Placement, fieldVersions: Record<string, number>, now: Date, actor: string): Promise<TaskRow> {
    await this.#lockOwner(owner);
    const [row] = await this.sql<TaskRow>(
      `UPDATE tasks.tasks SET user_id = $3, project_id = $4, section_id = $5, assignee_id = $6, assigned_by = ${ASSIGNED_BY("$6", "$11")},
         parent_id = $7, field_versions = $8::jsonb, version = version + 1, updated_at = $9, order_key = $10
       WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`,
      [this.userId, current.id, owner, pl.projectId, pl.sectionId, pl.assigneeId, pl.parentId, json(fieldVersions), now, await this.#orderKeyAt(current, owner, pl), actor],
    );
    this.#placed(current, row!);
    return row!;
  }

  /** Gives the task a new place in the order: `key` (MoveTask). */
  async setOrderKey(current: TaskRow, key: string, fieldVersions: Record<string, number>, now: Date): Promise<TaskRow> {
    const [row] = await this.sql<TaskRow>(
      `UPDATE tasks.tasks SET order_key = $3, field_versions = $4::jsonb, version = version + 1, updated_at = $5
       WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`,
      [this.userId, current.id, key, json(fieldVersions), now],
    );
    this.#placed(current, row!);
    return row!;
  }

  /**
   * The task's order key at `pl`: its own among the same siblings (subtasks following their parent
   * to another owner keep theirs: their siblings come along), else one after its new siblings'.
   */
  async #orderKeyAt(current: TaskRow, owner: string, pl: Siblings): Promise<string> {
    if (sameSiblings(current, pl)) return current.orderKey;
    return (await keysAtEnd(this.read, owner, pl, 1))[0]!;
  }

  async #lockOwner(owner: string): Promise<void> {
    if (owner !== this.userId) for (const u of await lockAudience(this.db, this.em, [owner])) this.pending.locked.add(u);
  }

  /** The feed changes of a task written in place: those who lose it with a move, then its new state. */
  #placed(current: TaskRow, row: TaskRow): void {
    const at = new Date(row.updatedAt);
    if (current.projectId !== row.projectId) {
      this.pending.change({ owner: this.userId, taskId: row.id, task: undefined, at, to: { project: current.projectId, except: row.projectId } });
    }
    this.pending.change({ owner: this.userId, taskId: row.id, task: taskFromRow(row), at, to: { project: row.projectId } });
  }

  /**
   * Changes the status of the locked task `current`; returns the task as changed (the message its
   * feed entry carries too). The batch writes its status changes together, before its next statement.
   */
  setStatus(current: TaskRow, status: number, completedAt: Date | null, fieldVersions: Record<string, number>, now: Date): Task {
    this.#wrote = true;
    const row = this.pending.status(current, status, completedAt, fieldVersions, now);
    const task = taskFromRow(row);
    this.pending.change({ owner: this.userId, taskId: row.id, task, at: now, to: { project: row.projectId } });
    return task;
  }

  /**
   * Deletes the task, kept with its comments in tasks.deleted_tasks for RestoreTask; returns it as
   * deleted: one more version of it, so per-task versions keep increasing.
   */
  async delete(row: TaskRow, now: Date): Promise<Task> {
    const last = taskFromRow(row);
    last.version += 1n;
    // One statement: the kept comments are read from its snapshot, before the delete cascades to them.
    await this.sql(
      `WITH kept AS (
         INSERT INTO tasks.deleted_tasks (id, user_id, task, comments, deleted_at)
         SELECT $2, $1, $3::jsonb, coalesce((SELECT jsonb_agg(to_jsonb(c) ORDER BY c.seq) FROM tasks.comments c WHERE c.task_id = $2), '[]'::jsonb), $4
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, task = excluded.task, comments = excluded.comments, deleted_at = excluded.deleted_at
       )
       DELETE FROM tasks.tasks WHERE user_id = $1 AND id = $2`,
      [this.userId, row.id, toJsonString(TaskSchema, last), now],
    );
    this.pending.change({ owner: this.userId, taskId: row.id, task: undefined, at: now, to: { project: row.projectId } });
    return last;
  }

  /** Locks every task of one of this owner's projects (deleting the project). */
  async lockProject(projectId: string): Promise<TaskRow[]> {
    return this.read<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks.tasks WHERE user_id = $1 AND project_id = $2 ORDER BY id FOR UPDATE`, [this.userId, projectId]);
  }

  /**
   * Takes the tasks of a section out of it (the section is being deleted). Its top-level tasks join
   * those of no section, after them, in their order; subtasks stay with their parents.
   */
  async clearSection(sectionId: string, now: Date): Promise<void> {
    const top = await this.read<{ id: string; projectId: string }>(
      `SELECT id, project_id AS "projectId" FROM tasks.tasks WHERE user_id = $1 AND section_id = $2 AND parent_id IS NULL ORDER BY order_key FOR UPDATE`,
      [this.userId, sectionId],
    );
    const keys = top.length > 0 ? await keysAtEnd(this.read, this.userId, { projectId: top[0]!.projectId, sectionId: null, parentId: null }, top.length) : [];
    const rows = await this.sql<TaskRow>(
      `UPDATE tasks.tasks t SET section_id = NULL, version = version + 1, updated_at = $3,
              order_key = coalesce((SELECT k.key FROM unnest($4::uuid[], $5::text[]) AS k(id, key) WHERE k.id = t.id), order_key),
              field_versions = field_versions || jsonb_build_object('section', version + 1)
        WHERE user_id = $1 AND section_id = $2 RETURNING ${TASK_COLUMNS}`,
      [this.userId, sectionId, now, top.map((r) => r.id), keys],
    );
    for (const row of rows) this.pending.change({ owner: this.userId, taskId: row.id, task: taskFromRow(row), at: now, to: { project: row.projectId } });
  }

  /**
   * Stores a comment on the locked task `current` and counts it on the task (no new version: a
   * comment edits nothing), whose new state goes to every member's feed. A comment already stored
   * under `comment.id` (a retried request) is returned as it is, and nothing changes.
   */
  async addComment(current: TaskRow, comment: NewComment): Promise<{ comment: CommentRow; task: TaskRow } | { existing: CommentRow }> {
    const [stored] = await this.sql<CommentRow>(
      `INSERT INTO tasks.comments (id, task_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING ${COMMENT_COLUMNS}`,
      [comment.id, current.id, comment.authorId, comment.body, comment.at],
    );
    if (!stored) {
      const [existing] = await this.read<CommentRow>(`SELECT ${COMMENT_COLUMNS} FROM tasks.comments WHERE id = $1`, [comment.id]);
      return { existing: existing! };
    }
    const [row] = await this.sql<TaskRow>(`UPDATE tasks.tasks SET comment_count = comment_count + 1 WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`, [this.userId, current.id]);
    this.pending.change({ owner: this.userId, taskId: row!.id, task: taskFromRow(row!), at: comment.at, to: { project: row!.projectId } });
    return { comment: stored, task: row! };
  }

  /** A comment on the locked task `current`, locked; undefined when the task has none with that id. */
  async lockComment(current: TaskRow, id: string): Promise<CommentRow | undefined> {
    const [row] = await this.read<CommentRow>(`SELECT ${COMMENT_COLUMNS} FROM tasks.comments WHERE id = $1 AND task_id = $2 FOR UPDATE`, [id, current.id]);
    return row;
  }

  /** A new body for a comment of the locked task `current`; every member's feed gets the task again, so open lists reload. */
  async editComment(current: TaskRow, id: string, body: string, at: Date): Promise<CommentRow> {
    const [row] = await this.sql<CommentRow>(`UPDATE tasks.comments SET body = $2, updated_at = $3 WHERE id = $1 RETURNING ${COMMENT_COLUMNS}`, [id, body, at]);
    this.pending.change({ owner: this.userId, taskId: current.id, task: taskFromRow(current), at, to: { project: current.projectId } });
    return row!;
  }

  /** Deletes a comment of the locked task `current`, which counts one fewer; returns the task. */
  async deleteComment(current: TaskRow, id: string, at: Date): Promise<TaskRow> {
    await this.sql(`DELETE FROM tasks.comments WHERE id = $1`, [id]);
    const [row] = await this.sql<TaskRow>(`UPDATE tasks.tasks SET comment_count = comment_count - 1 WHERE user_id = $1 AND id = $2 RETURNING ${TASK_COLUMNS}`, [this.userId, current.id]);
    this.pending.change({ owner: this.userId, taskId: row!.id, task: taskFromRow(row!), at, to: { project: row!.projectId } });
    return row!;
  }

  /** A feed change of this batch, e.g. a project's tasks leaving the feed of a member who lost it. */
  feed(change: FeedChange): void {
    this.#wrote = true;
    this.pending.change(change);
  }

  /** Queues an event for the relay, in this transaction: it is published iff the change commits. */
  async emit(record: OutboxRecord): Promise<void> {
    this.#wrote = true;
    this.pending.emit(record);
  }
}

// jsonb parameters go as text: drivers would otherwise turn JS arrays into Postgres arrays.
function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** The start of a page's statement: PLANNED_EACH_CALL where its best plan follows its values. */
function planning(query: ListQuery): string {
  return plannedEachCall(query) ? PLANNED_EACH_CALL : "";
}
