import type { Database, EntityManager } from "@taskmesh/db";
import { claimEventIds, claimEventIdsStatement } from "@taskmesh/events";
import type { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { ActivityRecord } from "./activity-record.js";
import { AUDIT_SCHEMA } from "./migrations/index.js";

/** An audit.activity row as read back: the entry as stored, without the owner every read filters by. */
export interface ActivityRow extends Omit<ActivityRecord, "userId" | "taskVersion"> {
  seq: string;
  /** occurred_at as PostgreSQL text: exact to the microsecond, for page tokens. */
  occurredKey: string;
  /** A bigint column, as text. */
  taskVersion: string;
}

const COLUMNS = `seq::text AS seq, event_id AS "eventId", task_id AS "taskId", kind, occurred_at AS "occurredAt",
  occurred_at::text AS "occurredKey", actor, device, task_version::text AS "taskVersion", task_title AS "taskTitle",
  time_zone AS "timeZone", changes, reminder, snapshot, comment`;

// Task kinds are 1..5 (ActivityKind): only they carry a title and time zone. Looked up only for an
// entry without them (the one-time filter spares the others the index scan).
const LAST_TASK_KIND = 5;
const LAST_TASK_STATE = `SELECT task_title, time_zone FROM audit.activity
  WHERE (r.task_title = '' OR r.time_zone = '') AND user_id = r.user_id AND task_id = r.task_id AND kind <= ${LAST_TASK_KIND}
  ORDER BY occurred_at DESC, seq DESC LIMIT 1`;

/**
 * `records` cut where an entry without a title or zone follows a task entry of the same task: it
 * must read that entry's row, which its own statement does not see.
 */
function statementChunks(records: readonly ActivityRecord[]): ActivityRecord[][] {
  const chunks: ActivityRecord[][] = [];
  let chunk: ActivityRecord[] = [];
  const tasksInChunk = new Set<string>();
  for (const r of records) {
    const task = `${r.userId}/${r.taskId}`;
    if ((r.taskTitle === "" || r.timeZone === "") && tasksInChunk.has(task)) {
      chunks.push(chunk);
      chunk = [];
      tasksInChunk.clear();
    }
    chunk.push(r);
    if (r.kind <= LAST_TASK_KIND) tasksInChunk.add(task);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export interface ListFilter {
  /** Undefined: every user's entries of `taskId` (for a caller the task service let see the task). */
  userId: string | undefined;
  taskId?: string;
  kinds: ActivityKind[];
  /** Keyset position: entries strictly older than this one. */
  after?: { occurredKey: string; seq: string };
  limit: number;
}

/** All SQL of the audit service; every read is filtered by user_id. */
export class ActivityStore {
  constructor(private readonly db: Database) {}

  /**
   * Records, in order, the entries of the events `consumer` has not recorded before (by event id,
   * claimed in audit.processed_events with them) and returns those it recorded. An entry without a
   * title or zone (a reminder's, a comment's) inherits the task's last known ones, so the entries of
   * one statement must not need another of its rows: a new statement starts where one would. Those
   * that fit one statement are claimed and written in that statement; more go in one transaction.
   */
  async recordOnce(consumer: string, records: readonly ActivityRecord[]): Promise<ActivityRecord[]> {
    const chunks = statementChunks(records);
    if (chunks.length <= 1) return this.#insert(this.db.em(), chunks[0] ?? [], consumer);
    return this.db.em().transactional(async (em) => {
      const fresh = await claimEventIds(
        this.db,
        em,
        { schema: AUDIT_SCHEMA, consumer },
        records.map((r) => r.eventId),
      );
      const recorded: ActivityRecord[] = [];
      for (const chunk of chunks)
        recorded.push(
          ...(await this.#insert(
            em,
            chunk.filter((r) => fresh.has(r.eventId)),
          )),
        );
      return recorded;
    });
  }

  /** Inserts `records` in one statement, those whose event ids it claims for `consumer` when one is given. */
  async #insert(em: EntityManager, records: readonly ActivityRecord[], consumer?: string): Promise<ActivityRecord[]> {
    if (records.length === 0) return [];
    const rows = records.map((r, ord) => ({
      ord,
      event_id: r.eventId,
      user_id: r.userId,
      task_id: r.taskId,
      kind: r.kind,
      occurred_at: r.occurredAt.toISOString(),
      actor: r.actor,
      device: r.device,
      task_version: r.taskVersion.toString(),
      task_title: r.taskTitle,
      time_zone: r.timeZone,
      changes: r.changes,
      reminder: r.reminder,
      snapshot: r.snapshot,
      comment: r.comment,
    }));
    const inserted = await this.db.query<{ event_id: string }>(
      em,
      // The ids claimed are read from the rows, not passed as an array of their own: a constant array
      // tells the planner its length, so it would plan every call anew instead of keeping one plan.
      `${consumer ? `WITH claimed AS (${claimEventIdsStatement(AUDIT_SCHEMA, "$2", "ARRAY(SELECT e.event_id FROM jsonb_to_recordset($1::jsonb) AS e(event_id text))")}) ` : ""}INSERT INTO audit.activity (event_id, user_id, task_id, kind, occurred_at, actor, device, task_version,
         task_title, time_zone, changes, reminder, snapshot, comment)
       SELECT r.event_id, r.user_id, r.task_id, r.kind, r.occurred_at, r.actor, r.device, r.task_version,
         coalesce(nullif(r.task_title, ''), last.task_title, ''), coalesce(nullif(r.time_zone, ''), last.time_zone, 'UTC'),
         r.changes, r.reminder, r.snapshot, r.comment
       FROM jsonb_to_recordset($1::jsonb) AS r(ord int, event_id text, user_id text, task_id text, kind smallint,
         occurred_at timestamptz, actor text, device text, task_version bigint, task_title text, time_zone text,
         changes jsonb, reminder jsonb, snapshot jsonb, comment jsonb)
       LEFT JOIN LATERAL (${LAST_TASK_STATE}) AS last ON true
       ${consumer ? "WHERE r.event_id IN (SELECT event_id FROM claimed)" : ""}
       ORDER BY r.ord
       RETURNING event_id`,
      // jsonb goes as text: drivers would otherwise turn JS arrays into Postgres arrays.
      consumer ? [JSON.stringify(rows), consumer] : [JSON.stringify(rows)],
    );
    const recorded = new Set(inserted.map((r) => r.event_id));
    return records.filter((r) => recorded.has(r.eventId));
  }

  async list(filter: ListFilter): Promise<ActivityRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (value: unknown, cast = "") => `$${params.push(value)}${cast}`;
    if (filter.userId !== undefined) where.push(`user_id = ${param(filter.userId)}`);
    else if (!filter.taskId) throw new Error("list every user's entries only of one task");
    if (filter.taskId) where.push(`task_id = ${param(filter.taskId)}`);
    if (filter.kinds.length > 0) where.push(`kind = ANY(${param(filter.kinds, "::smallint[]")})`);
    if (filter.after) {
      where.push(`(occurred_at, seq) < (${param(filter.after.occurredKey, "::timestamptz")}, ${param(filter.after.seq, "::bigint")})`);
    }
    return this.db.query<ActivityRow>(
      this.db.em(),
      // Qualified: a bare "seq" in ORDER BY would name the text output column and sort 100 before 97.
      `SELECT ${COLUMNS} FROM audit.activity a WHERE ${where.join(" AND ")}
       ORDER BY a.occurred_at DESC, a.seq DESC LIMIT ${Number(filter.limit)}`,
      params,
    );
  }

  /** Deletes up to `limit` entries that happened before `cutoff`, oldest first. */
  purgeEntries(cutoff: Date, limit: number): Promise<number> {
    return this.#deleteOldest("audit.activity", "occurred_at", ["seq"], cutoff, limit);
  }

  /** Forgets event ids processed before `cutoff`: their entries are past retention too. */
  purgeProcessedIds(cutoff: Date, limit: number): Promise<number> {
    return this.#deleteOldest("audit.processed_events", "processed_at", ["consumer", "event_id"], cutoff, limit);
  }

  /**
   * One short transaction per batch, never one huge DELETE. SKIP LOCKED: replicas purging at the
   * same time take different rows instead of waiting for each other.
   */
  async #deleteOldest(table: string, ageColumn: string, keys: string[], cutoff: Date, limit: number): Promise<number> {
    const match = keys.map((k) => `t.${k} = d.${k}`).join(" AND ");
    const [gone] = await this.db.query<{ n: number }>(
      this.db.em(),
      `WITH doomed AS (SELECT ${keys.join(", ")} FROM ${table} WHERE ${ageColumn} < $1 ORDER BY ${ageColumn} LIMIT $2 FOR UPDATE SKIP LOCKED),
            gone AS (DELETE FROM ${table} t USING doomed d WHERE ${match} RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [cutoff, limit],
    );
    return gone?.n ?? 0;
  }
}
