import type { JsonObject } from "@bufbuild/protobuf";
import type { Database, EntityManager } from "@taskmesh/db";
import type { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { ActivityRecord, StoredReminder } from "./activity-record.js";
import type { StoredChange } from "./field-changes.js";

/** An audit.activity row as read back. */
export interface ActivityRow {
  seq: string;
  eventId: string;
  taskId: string;
  kind: ActivityKind;
  occurredAt: Date;
  /** occurred_at as PostgreSQL text: exact to the microsecond, for page tokens. */
  occurredKey: string;
  actor: string;
  device: string;
  taskVersion: string;
  taskTitle: string;
  timeZone: string;
  changes: StoredChange[];
  reminder: StoredReminder | null;
  snapshot: JsonObject | null;
  comment: JsonObject | null;
}

const COLUMNS = `seq::text AS seq, event_id AS "eventId", task_id AS "taskId", kind, occurred_at AS "occurredAt",
  occurred_at::text AS "occurredKey", actor, device, task_version::text AS "taskVersion", task_title AS "taskTitle",
  time_zone AS "timeZone", changes, reminder, snapshot, comment`;

// Task kinds are 1..5 (ActivityKind): only they carry a title and time zone.
const LAST_TASK_STATE = `SELECT task_title, time_zone FROM audit.activity
  WHERE user_id = $2 AND task_id = $3 AND kind <= 5 ORDER BY occurred_at DESC, seq DESC LIMIT 1`;

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

  /** Appends an entry in the caller's transaction. Reminder events inherit the task's last known title and zone. */
  async insert(em: EntityManager, r: ActivityRecord): Promise<void> {
    await this.db.query(
      em,
      `INSERT INTO audit.activity (event_id, user_id, task_id, kind, occurred_at, actor, device, task_version,
         task_title, time_zone, changes, reminder, snapshot, comment)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, coalesce(nullif($9, ''), last.task_title, ''),
         coalesce(nullif($10, ''), last.time_zone, 'UTC'), $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (${LAST_TASK_STATE}) AS last ON true`,
      [
        r.eventId,
        r.userId,
        r.taskId,
        r.kind,
        r.occurredAt,
        r.actor,
        r.device,
        r.taskVersion.toString(),
        r.taskTitle,
        r.timeZone,
        JSON.stringify(r.changes),
        json(r.reminder),
        json(r.snapshot),
        json(r.comment),
      ],
    );
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

// jsonb parameters go as text: drivers would otherwise turn JS arrays into Postgres arrays.
function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}
