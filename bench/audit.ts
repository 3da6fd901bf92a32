// Audit benchmark: how fast the activity log takes events in, and how fast ListActivity reads it.
//   npm run bench -- audit [postgres|kafka]
// Ingest: a backlog of TaskEvents (updates with before/after snapshots, completions) is published,
// then the audit module starts and its consumer (group "audit", each batch's ids claimed in the
// statement that records them) records them; events/s until the last one is in the log. postgres uses the embedded
// bus on the same database, as the embedded app does; kafka: Kafka + Apicurio, log on PostgreSQL.
// ListActivity: 100,000 entries for one user (1,000 tasks × 100) plus 1,000 users × 100, read over
// gRPC (h2c) from the audit service running as its own process (services/audit/src/main.ts).
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { openDatabase } from "@taskmesh/db";
import { confluentSchemaRegistry, connectKafkaBus, ensureKafkaTopics, openEmbeddedBus, registerSchemas, type EventBus, type EventRecord } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { Priority, TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { startAuditModule } from "../services/audit/src/index.js";
import { migrations } from "../services/audit/src/migrations/index.js";
import { startApicurio } from "@taskmesh/infra/apicurio";
import { startKafka } from "@taskmesh/infra/kafka";
import { startPostgres } from "@taskmesh/infra/postgres";
import { load, mb, row, rssOf, startServiceProcess, type ServiceProcess } from "./lib.js";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const LATENCY_CONCURRENCY = Number(process.env.BENCH_LATENCY_CONCURRENCY ?? 2);
const BIG_USER = "bench-big";
process.env.LOG_LEVEL ??= "error";
const quiet = createLogger("bench-audit");

/** TaskEvents as the task service writes them: 4 in 5 updates (priority and due), 1 in 5 completions. */
function taskEvents(total: number): EventRecord[] {
  const tasks = Array.from({ length: 1_000 }, () => randomUUID());
  const base = Date.parse("2026-11-01T09:00:00Z");
  return Array.from({ length: total }, (_, i) => {
    const taskId = tasks[i % tasks.length]!;
    const version = BigInt(Math.floor(i / tasks.length) + 2);
    const snapshot = (priority: Priority, dueDay: number) =>
      create(TaskSchema, {
        id: taskId,
        title: "Renew passport",
        notes: "photos, old passport, form",
        priority,
        tags: ["admin", "travel"],
        timeZone: "Europe/Berlin",
        version,
        due: { case: "dueTime", value: timestampFromDate(new Date(base + dueDay * 86_400_000)) },
      });
    const event = create(TaskEventSchema, {
      eventId: randomUUID(),
      occurredAt: timestampFromDate(new Date()),
      userId: `bench-user-${i % 100}`,
      taskId,
      version,
      device: "phone",
      event:
        i % 5 === 4
          ? { case: "completed", value: { task: snapshot(Priority.HIGH, 3) } }
          : { case: "updated", value: { before: snapshot(Priority.HIGH, 3), after: snapshot(Priority.LOW, 4), changedFields: ["priority", "due_time"] } },
    });
    return { topic: "task-events", key: taskId, payload: toBinary(TaskEventSchema, event), headers: { "event-type": event.event.case ?? "" } };
  });
}

async function ingest(label: string, url: string, bus: EventBus, total: number): Promise<void> {
  const records = taskEvents(total);
  for (let i = 0; i < records.length; i += 500) await bus.publish(records.slice(i, i + 500));
  const t0 = performance.now();
  const audit = await startAuditModule({ databaseUrl: url, events: bus, logger: quiet });
  try {
    for (;;) {
      const [{ n }] = (await audit.db.query<{ n: number }>(audit.db.em(), "SELECT count(*)::int AS n FROM audit.activity")) as [{ n: number }];
      if (n >= total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`${`ingest ${label}: backlog → log`.padEnd(48)} ${(total / seconds).toFixed(0).padStart(7)}/s  n=${total}  ${seconds.toFixed(1)} s  RSS ${mb(process.memoryUsage().rss)}`);
  } finally {
    await audit.stop();
  }
}

async function seed(url: string): Promise<void> {
  const t0 = Date.now();
  const db = await openDatabase({ url, schema: "audit", entities: [], migrations });
  // Updates with two changed fields, completions and reminders, spread over the last 80 days.
  const insert = (userExpr: string, taskExpr: string) => `
    INSERT INTO audit.activity (event_id, user_id, task_id, kind, occurred_at, actor, device, task_version, task_title, time_zone, changes)
    SELECT gen_random_uuid()::text, ${userExpr}, ${taskExpr}, k, now() - (g * 69 || ' seconds')::interval, ${userExpr}, 'phone', g, 'Renew passport', 'Europe/Berlin',
           CASE WHEN k = 2 THEN '[{"field":"priority","before":"PRIORITY_HIGH","after":"PRIORITY_LOW"},{"field":"due","before":"2026-12-03T08:00:00Z","after":"2026-12-04T08:00:00Z"}]'::jsonb ELSE '[]'::jsonb END
    FROM generate_series(1, 100000) AS g, LATERAL (SELECT (ARRAY[2, 2, 2, 3, 4, 6, 7])[1 + g % 7] AS k WHERE g > 0) AS kinds`;
  await db.query(db.em(), insert(`'${BIG_USER}'`, `'00000000-0000-4000-8000-' || lpad((g % 1000)::text, 12, '0')`));
  await db.query(db.em(), insert(`'bench-user-' || (g % 1000)`, `'00000000-0000-4000-9000-' || lpad((g % 100)::text, 12, '0')`));
  await db.query(db.em(), "ANALYZE audit.activity");
  await db.close();
  console.log(`seeded 200,000 entries in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** The audit service on `url`'s database, as its own process, without Kafka. */
function startService(url: string): Promise<ServiceProcess> {
  return startServiceProcess("audit", "services/audit/src/main.ts", { DATABASE_URL: url, LOG_LEVEL: "error", KAFKA_BROKERS: "", SCHEMA_REGISTRY_URL: "" });
}

async function listActivity(url: string): Promise<void> {
  await seed(url);
  const { proc, url: baseUrl } = await startService(url);
  try {
    const client = createClient(AuditService, createGrpcTransport({ baseUrl }));
    const big = { headers: { "x-user-id": BIG_USER } };
    await load(200, CONCURRENCY, () => client.listActivity({}, big));
    let token = "";
    for (let p = 0; p < 200; p++) token = (await client.listActivity({ pageSize: 50, pageToken: token }, big)).nextPageToken;
    const scenarios: [string, () => Promise<unknown>][] = [
      ["whole history, first page (50)", () => client.listActivity({ pageSize: 50 }, big)],
      ["one task (100 entries), first page", () => client.listActivity({ taskId: "00000000-0000-4000-8000-000000000042", pageSize: 50 }, big)],
      ["kinds: completed only", () => client.listActivity({ kinds: [ActivityKind.TASK_COMPLETED], pageSize: 50 }, big)],
      ["page 201 via keyset token", () => client.listActivity({ pageSize: 50, pageToken: token }, big)],
    ];
    for (const [label, call] of scenarios) {
      console.log(row(`ListActivity 100k: ${label}, load`, await load(2_000, CONCURRENCY, call)));
      console.log(row(`ListActivity 100k: ${label}, light`, await load(500, LATENCY_CONCURRENCY, call)));
    }
    const small = await load(2_000, CONCURRENCY, (i) => client.listActivity({}, { headers: { "x-user-id": `bench-user-${i % 1000}` } }));
    console.log(row("ListActivity 1,000 users × 100, load", small));
    console.log(`server RSS after run: ${mb(rssOf(proc.pid))}`);
  } finally {
    await proc.stop();
  }
}

async function benchPostgres(): Promise<void> {
  console.log(`\n## PostgreSQL, embedded bus on the same database ("load": ${CONCURRENCY} callers, "light": ${LATENCY_CONCURRENCY})`);
  const pg = await startPostgres();
  try {
    const bus = await openEmbeddedBus({ url: pg.url, logger: quiet });
    try {
      await ingest("PostgreSQL, embedded bus", pg.url, bus, 20_000);
    } finally {
      await bus.close();
    }
    await listActivity(pg.url);
  } finally {
    await pg.stop();
  }
}

async function benchKafka(): Promise<void> {
  console.log("\n## Kafka (KRaft) + Apicurio, log on PostgreSQL");
  const [kafka, registry, pg] = await Promise.all([startKafka(), startApicurio(), startPostgres()]);
  try {
    await ensureKafkaTopics({ brokers: [kafka.bootstrap] });
    const schemaIds = await registerSchemas({ registry: confluentSchemaRegistry(registry.ccompatUrl) });
    const bus = await connectKafkaBus({ brokers: [kafka.bootstrap], schemaIds, logger: quiet });
    try {
      await ingest("PostgreSQL, Kafka bus", pg.url, bus, 20_000);
    } finally {
      await bus.close();
    }
  } finally {
    await Promise.all([kafka.stop(), registry.stop(), pg.stop()]);
  }
}

const which = process.argv[2];
if (!which || which === "postgres") await benchPostgres();
if (!which || which === "kafka") await benchKafka();
