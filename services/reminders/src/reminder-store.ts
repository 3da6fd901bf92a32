import type { Database, EntityManager } from "@taskmesh/db";
import { writeOutbox, type EventRecord } from "@taskmesh/events";
import type { ReminderState } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { CANCEL_REASONS, type ReminderRow } from "./arming.js";
import { Fire, PushSubscription } from "./entities.js";
import { SCHEMA } from "./migrations/index.js";
import { OUTBOX } from "./outbox.js";
import { loadPreferences, savePreferences, type Preferences } from "./preferences.js";

/** owner_id: the task's owner, whose history its reminder events go to. */
export type ReminderStatusRow = ReminderRow & { title: string; owner_id: string };

/** A fire just marked read: its notification, reminder, and the task's owner. */
export interface ReadFire {
  id: string;
  task_id: string;
  reminder_id: string;
  owner_id: string;
}

/** A fire in a user's inbox, with its reminder's state now (null when the reminder was removed since). */
export interface FireRow {
  id: string;
  task_id: string;
  reminder_id: string;
  task_title: string;
  scheduled_for: Date;
  fired_at: Date;
  read_at: Date | null;
  state: number | null;
}

/** Where a page of ListReminders starts: after this fire time, task and reminder. */
export type PageStart = [fireAt: string, taskId: string, reminderId: string];

const SELECT_ROWS = `SELECT r.*, t.title, t.user_id AS owner_id FROM ${SCHEMA}.reminders r JOIN ${SCHEMA}.tasks t USING (task_id)`;

/** The SQL of the reminder service's RPCs (firing and arming keep theirs). */
export class ReminderStore {
  constructor(private readonly db: Database) {}

  /** The user's reminders of one task, in the task's order. */
  taskReminders(userId: string, taskId: string): Promise<ReminderStatusRow[]> {
    return this.db.query<ReminderStatusRow>(this.db.em(), `${SELECT_ROWS} WHERE r.task_id = $1 AND r.user_id = $2 AND r.cancel_reason <> $3 AND NOT t.deleted ORDER BY r.position`, [
      taskId,
      userId,
      CANCEL_REASONS.removed,
    ]);
  }

  /** Up to `limit` of the user's armed reminders after `start`, by fire time. */
  armedPage(userId: string, start: PageStart, limit: number): Promise<ReminderStatusRow[]> {
    return this.db.query<ReminderStatusRow>(
      this.db.em(),
      `${SELECT_ROWS} WHERE r.user_id = $1 AND r.fire_at IS NOT NULL AND (r.fire_at, r.task_id, r.reminder_id) > ($2::timestamptz, $3::uuid, $4)
         ORDER BY r.fire_at, r.task_id, r.reminder_id LIMIT ${limit}`,
      [userId, ...start],
    );
  }

  /**
   * Runs `change` on the user's reminder, locked, in one transaction, and reads it again after;
   * undefined (and `change` not run) when it is not theirs, removed, or its task deleted.
   */
  changeReminder(userId: string, taskId: string, reminderId: string, change: (row: ReminderStatusRow, tx: ReminderTx) => Promise<void>): Promise<ReminderStatusRow | undefined> {
    return this.db.em().transactional(async (em) => {
      const query = `${SELECT_ROWS} WHERE r.task_id = $1 AND r.reminder_id = $2 AND r.user_id = $3 AND r.cancel_reason <> $4 AND NOT t.deleted FOR UPDATE OF r`;
      const params = [taskId, reminderId, userId, CANCEL_REASONS.removed];
      const [found] = await this.db.query<ReminderStatusRow>(em, query, params);
      if (!found) return undefined;
      await change(found, new ReminderTx(this.db, em, found));
      return (await this.db.query<ReminderStatusRow>(em, query, params))[0]!;
    });
  }

  /** The user's newest fires first. */
  latestFires(userId: string, limit: number): Promise<FireRow[]> {
    return this.db.query<FireRow>(
      this.db.em(),
      `SELECT f.id::text AS id, f.task_id::text AS task_id, f.reminder_id, f.task_title, f.scheduled_for, f.fired_at, f.read_at, r.state
         FROM ${SCHEMA}.fires f LEFT JOIN ${SCHEMA}.reminders r ON r.task_id = f.task_id AND r.reminder_id = f.reminder_id
         WHERE f.user_id = $1 ORDER BY f.fired_at DESC, f.id DESC LIMIT ${limit}`,
      [userId],
    );
  }

  unreadCount(userId: string): Promise<number> {
    return this.db.em().count(Fire, { userId, readAt: null });
  }

  /**
   * Marks the user's unread fires read (all of them, or those of `ids`) and writes the events
   * `events` makes of the fires it marked, in the same transaction.
   */
  async markRead(userId: string, all: boolean, ids: string[], events: (fires: ReadFire[]) => EventRecord[]): Promise<void> {
    await this.db.em().transactional(async (em) => {
      const fires = await this.db.query<ReadFire>(
        em,
        `UPDATE ${SCHEMA}.fires f SET read_at = now() WHERE f.user_id = $1 AND f.read_at IS NULL AND ($2 OR f.id = ANY($3::bigint[]))
         RETURNING f.id::text AS id, f.task_id, f.reminder_id, coalesce((SELECT t.user_id FROM ${SCHEMA}.tasks t WHERE t.task_id = f.task_id), f.user_id) AS owner_id`,
        [userId, all, ids],
      );
      if (fires.length > 0) await writeOutbox(this.db, em, OUTBOX, events(fires));
    });
  }

  /** One browser, one subscription: signing in as someone else there moves it to them. */
  async savePushSubscription(subscription: { userId: string; endpoint: string; p256dh: string; auth: string }): Promise<void> {
    await this.db.em().upsert(PushSubscription, subscription, { onConflictFields: ["endpoint"], onConflictMergeFields: ["userId", "p256dh", "auth"] });
  }

  async removePushSubscription(userId: string, endpoint: string): Promise<void> {
    await this.db.em().nativeDelete(PushSubscription, { endpoint, userId });
  }

  preferences(userId: string): Promise<Preferences> {
    return loadPreferences(this.db.em(), userId);
  }

  /** Saves `update` of the user's preferences, one update of a user at a time. */
  updatePreferences(userId: string, update: (current: Preferences) => Preferences): Promise<Preferences> {
    return this.db.em().transactional(async (em) => {
      await this.db.query(em, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`reminders.preferences:${userId}`]);
      const next = update(await loadPreferences(em, userId));
      await savePreferences(em, userId, next);
      return next;
    });
  }
}

/** The writes of one change of a reminder, inside its transaction. */
export class ReminderTx {
  constructor(
    private readonly db: Database,
    private readonly em: EntityManager,
    private readonly row: ReminderStatusRow,
  ) {}

  async setState(state: ReminderState, fireAt: Date | null, reason: string): Promise<void> {
    await this.db.query(this.em, `UPDATE ${SCHEMA}.reminders SET state = $3, fire_at = $4::timestamptz, cancel_reason = $5 WHERE task_id = $1 AND reminder_id = $2`, [
      this.row.task_id,
      this.row.reminder_id,
      state,
      fireAt?.toISOString() ?? null,
      reason,
    ]);
  }

  /** Snoozing or dismissing a reminder answers its notifications: they are read. */
  async markFiresRead(): Promise<void> {
    await this.db.query(this.em, `UPDATE ${SCHEMA}.fires SET read_at = now() WHERE task_id = $1 AND reminder_id = $2 AND read_at IS NULL`, [this.row.task_id, this.row.reminder_id]);
  }

  async publish(event: EventRecord): Promise<void> {
    await writeOutbox(this.db, this.em, OUTBOX, [event]);
  }
}
