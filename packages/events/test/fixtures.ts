// Shared by the bus tests: sample records, the effects database a consumer applies events to,
// waiting helpers, and the environment the test command provides.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { create, isMessage, toBinary, type Message } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Migration } from "@mikro-orm/migrations";
import { openDatabase, type Database } from "@taskmesh/db";
import { ReminderEventSchema, TaskEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { claimEventIdsStatement, processedEventsMigration, type ConsumedEvent, type EventRecord, type TopicContract } from "../src/index.js";

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (scripts/test.ts), which starts the infrastructure and sets it`);
  return value;
}

/** Topic names of their own per test (the shared Kafka and registry outlive a test), same contracts. */
export function freshTopics(): { taskEvents: string; reminders: string; taskUpdates: string; table: TopicContract[] } {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const taskEvents = `${prefix}-task-events`;
  const reminders = `${prefix}-reminders`;
  const taskUpdates = `${prefix}-task-updates`;
  return {
    taskEvents,
    reminders,
    taskUpdates,
    table: [
      { topic: taskEvents, message: TaskEventSchema },
      { topic: reminders, message: ReminderEventSchema },
      { topic: taskUpdates, message: TaskUpdateSchema },
    ],
  };
}

/** A TaskEvent as the task service's outbox writes it: key = task id, version increasing per task. */
export function taskEventRecord(topic: string, taskId: string, version: number, headers: Record<string, string> = {}): EventRecord & { eventId: string } {
  const eventId = randomUUID();
  const message = create(TaskEventSchema, {
    eventId,
    occurredAt: timestampNow(),
    userId: "alice",
    taskId,
    version: BigInt(version),
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    device: "test",
    event: {
      case: "updated",
      value: { before: create(TaskSchema, { id: taskId, title: `v${version - 1}` }), after: create(TaskSchema, { id: taskId, title: `v${version}` }), changedFields: ["title"] },
    },
  });
  return { topic, key: taskId, payload: toBinary(TaskEventSchema, message), headers: { "event-type": "updated", ...headers }, eventId };
}

/** The version of a delivered TaskEvent (what taskEventRecord counts up per task). */
export function versionOf(value: Message): number {
  assert.ok(isMessage(value, TaskEventSchema), `a TaskEvent, not ${value.$typeName}`);
  return Number(value.version);
}

export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const EFFECTS_SCHEMA = "contract_consumer";

class AppliedTable extends Migration {
  override name = "Migration20261126000000_applied";
  override up(): void {
    // No unique key on purpose: an event applied twice must show up as two rows.
    this.addSql(`CREATE TABLE ${EFFECTS_SCHEMA}.applied (event_id text NOT NULL, key text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  }
}

/** A consuming service's database: its processed_events table and the effects of its handler. */
export interface Effects {
  db: Database;
  /** Handler body: applies the event once (its id claimed in the statement that inserts into `applied`). */
  applyOnce(event: ConsumedEvent): Promise<boolean>;
  counts(): Promise<{ rows: number; distinct: number }>;
  close(): Promise<void>;
}

export async function openEffects(url: string): Promise<Effects> {
  const db = await openDatabase({
    url,
    schema: EFFECTS_SCHEMA,
    entities: [],
    migrations: [{ name: "Migration20261126000000_applied", class: AppliedTable }, processedEventsMigration(EFFECTS_SCHEMA)],
  });
  return {
    db,
    applyOnce: async (event) => {
      const applied = await db.query(
        db.em(),
        `WITH claimed AS (${claimEventIdsStatement(EFFECTS_SCHEMA, "'contract'", "ARRAY[$1::text]")})
         INSERT INTO ${EFFECTS_SCHEMA}.applied (event_id, key) SELECT event_id, $2 FROM claimed RETURNING event_id`,
        [event.eventId, event.key],
      );
      return applied.length > 0;
    },
    async counts() {
      const [row] = await db.query<{ rows: number; distinct: number }>(db.em(), `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM ${EFFECTS_SCHEMA}.applied`);
      return row!;
    },
    close: () => db.close(),
  };
}

const MESSAGES = [TaskEventSchema, ReminderEventSchema, TaskUpdateSchema];

/** A topic table through an environment variable (to a child process). */
export function topicTableToEnv(table: readonly TopicContract[]): string {
  return JSON.stringify(table.map((t) => ({ topic: t.topic, message: t.message.typeName })));
}

export function topicTableFromEnv(json: string): TopicContract[] {
  return (JSON.parse(json) as { topic: string; message: string }[]).map((t) => ({ topic: t.topic, message: MESSAGES.find((m) => m.typeName === t.message)! }));
}
