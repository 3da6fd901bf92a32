// Property-based fuzzing of every RPC the gateway serves, through the real gateway of the embedded
// app (every service in process, on PostgreSQL), in Connect JSON and binary. Requests are built
// from the descriptors: strings with NUL, lone surrogates and huge lengths, numbers at their limits,
// enum values out of range, timestamps at and past 0001/9999, random field masks. The properties:
// no INTERNAL or UNKNOWN answer, the app keeps serving, its live heap stays bounded after garbage collection.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create, toBinary, toJson, type DescField, type DescMessage, type DescService, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createLogger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { tmpdir } from "node:os";
import path from "node:path";
import { embeddedConfig, startEmbeddedApp } from "@taskmesh/embedded";

const SERVICES: DescService[] = [AuthService, TaskService, RecurrenceService, AuditService, ReminderService];
const TIME_LIMIT_MS = Number(process.env.TASKMESH_FUZZ_MS ?? 40_000);
// What the fuzzing may leave behind on the heap once garbage is collected: a leak per call shows.
const HEAP_GROWTH_LIMIT_MB = 100;
// RSS alone says little (V8 keeps a grown heap around), but a runaway allocation shows here.
const RSS_LIMIT_MB = 1_200;

const INT32 = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 100, 101, 3650, 3651];
const TS_SECONDS = [0n, -62135596800n, -62135596801n, 253402300799n, 253402300800n, 10n ** 15n, -(10n ** 15n), 1_800_000_000n];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) }, // lone surrogates included
  fc.constantFrom(
    "",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff",
    "tag:home due:today",
    "0001-01-01",
    "9999-12-31",
    "FREQ=DAILY",
    "UTC",
    "Europe/Berlin",
    "00000000-0000-0000-0000-000000000000",
    "x@example.com",
  ),
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 30_000 }).map((n) => "x".repeat(n)) },
);

function fieldNames(desc: DescMessage): string[] {
  return desc.fields.map((f) => f.name);
}

function scalar(field: DescField): fc.Arbitrary<unknown> {
  const type = (field as { scalar?: number }).scalar;
  switch (type) {
    case 9: // string
      return text;
    case 8: // bool
      return fc.boolean();
    case 12: // bytes
      return fc.uint8Array({ maxLength: 64 });
    case 1:
    case 2: // double, float
      return fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.MAX_VALUE, Number.MIN_VALUE));
    case 3:
    case 16:
    case 18: // int64, sfixed64, sint64
      return fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)));
    case 4:
    case 6: // uint64, fixed64
      return fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 64n - 1n));
    case 13:
    case 7: // uint32, fixed32
      return fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 2 ** 32 - 1));
    default: // int32, sint32, sfixed32
      return fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(...INT32));
  }
}

function messageArb(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return fc.record({
        seconds: fc.oneof(fc.constantFrom(...TS_SECONDS), fc.bigInt({ min: -62135596800n, max: 253402300799n })),
        nanos: fc.oneof(fc.constant(0), fc.integer({ min: -1, max: 1_000_000_000 })),
      });
    case "google.protobuf.Duration":
      return fc.record({ seconds: fc.bigInt({ min: -400_000_000_000n, max: 400_000_000_000n }), nanos: fc.integer({ min: -999_999_999, max: 999_999_999 }) });
    case "google.protobuf.FieldMask":
      return fc.record({
        paths: fc.array(fc.oneof(text, fc.constantFrom("title", "notes", "priority", "tags", "due_time", "due_date", "time_zone", "recurrence", "reminders", "id", "status")), { maxLength: 4 }),
      });
  }
  if (depth > 3) return fc.constant({});
  const entries: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofs = new Map<string, DescField[]>();
  for (const field of desc.fields) {
    if (field.oneof) {
      oneofs.set(field.oneof.localName, [...(oneofs.get(field.oneof.localName) ?? []), field]);
      continue;
    }
    entries[field.localName] = fieldArb(field, depth);
  }
  for (const [name, fields] of oneofs) {
    entries[name] = fc.oneof(fc.constant({ case: undefined }), ...fields.map((f) => single(f, depth).map((value) => ({ case: f.localName, value }))));
  }
  return fc.record(entries, { requiredKeys: [] });
}

function single(field: DescField, depth: number): fc.Arbitrary<unknown> {
  if (field.fieldKind === "enum") return enumArb(field.enum.values.map((v) => v.number));
  if (field.fieldKind === "message") return messageArb(field.message, depth + 1).map((init) => create(field.message, init as never));
  return scalar(field);
}

function enumArb(numbers: number[]): fc.Arbitrary<number> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...numbers) }, fc.integer({ min: -3, max: 40 }), fc.constant(2 ** 31 - 1));
}

function fieldArb(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "list":
      if (field.listKind === "enum") return fc.array(enumArb(field.enum.values.map((v) => v.number)), { maxLength: 5 });
      if (field.listKind === "message")
        return fc.array(
          messageArb(field.message, depth + 1).map((init) => create(field.message, init as never)),
          { maxLength: 4 },
        );
      return fc.array(scalar(field as DescField), { maxLength: 6 });
    case "map":
      return fc.constant({});
    default:
      return single(field, depth);
  }
}

/** Heap in use after a full collection (gc exposed for this measurement only). */
function liveHeapMb(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function rssMb(): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024;
}

test("fuzzing every RPC through the gateway: no INTERNAL/UNKNOWN, no crash, bounded memory", { timeout: TIME_LIMIT_MS + 120_000 }, async () => {
  const db = await freshDatabase();
  const logger = createLogger("fuzz");
  logger.level = "fatal";
  const app = await startEmbeddedApp(
    embeddedConfig({ ...process.env, DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", TASKMESH_DATA_DIR: path.join(tmpdir(), `fuzz-${process.pid}`), TASKMESH_WEB_DIR: "/nonexistent-web-dist" }),
    logger,
  );
  try {
    const json = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" });
    const binary = createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1", useBinaryFormat: true });
    const auth = createClient(AuthService, json);
    const signedUp = await auth.signUp({ email: "fuzz@example.com", password: "long enough secret", timeZone: "Europe/Berlin" });
    const headers = { authorization: `Bearer ${signedUp.accessToken}` };
    const tasks = createClient(TaskService, json);
    for (const due of ["2027-01-15", "0001-01-01", "9999-12-31"]) {
      await tasks.createTask({ title: `Seed ${due}`, due: { case: "dueDate", value: due }, recurrence: { rrule: "FREQ=DAILY" }, timeZone: "UTC" }, { headers });
    }

    const rssBefore = rssMb();
    const heapBefore = liveHeapMb();
    const methods = SERVICES.flatMap((s) => s.methods);
    const calls = methods.map((method) => messageArb(method.input, 0).map((init) => ({ method, message: create(method.input, init as never) as Message })));
    const seen = new Map<string, number>();
    const failures: string[] = [];
    const call = async (transport: Transport, format: string, method: (typeof methods)[number], message: Message) => {
      // Skip what the client itself cannot encode (JSON refuses out-of-range timestamps).
      try {
        if (format === "json") toJson(method.input, message);
        else toBinary(method.input, message);
      } catch {
        return;
      }
      const call: (req: unknown, opts: object) => unknown = Reflect.get(createClient(method.parent, transport), method.localName);
      const abort = new AbortController();
      try {
        const result = call(message, { headers, timeoutMs: 15_000, signal: abort.signal });
        if (method.methodKind === "server_streaming") {
          for await (const _ of result as AsyncIterable<unknown>) break;
          abort.abort();
        } else {
          await result;
        }
        seen.set("ok", (seen.get("ok") ?? 0) + 1);
      } catch (e) {
        const err = ConnectError.from(e);
        if (abort.signal.aborted && err.code === Code.Canceled) return;
        seen.set(Code[err.code]!, (seen.get(Code[err.code]!) ?? 0) + 1);
        if (err.code === Code.Internal || err.code === Code.Unknown) {
          failures.push(`${method.parent.name}/${method.name} (${format}): ${err.message} ← ${JSON.stringify(toJsonSafe(method.input, message)).slice(0, 400)}`);
        }
      }
    };

    await fc.assert(
      fc.asyncProperty(fc.oneof(...calls), async ({ method, message }) => {
        await call(json, "json", method, message);
        await call(binary, "binary", method, message);
        assert.deepEqual(failures, [], failures.join("\n"));
      }),
      { numRuns: 1_000_000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
    );

    const ready = await fetch(`${app.server.url}/readyz`);
    assert.equal(ready.status, 200, "the app still serves");
    const rss = rssMb();
    const heap = liveHeapMb();
    console.log(`fuzz: ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}; live heap ${heapBefore.toFixed(0)} → ${heap.toFixed(0)} MB, RSS ${rssBefore.toFixed(0)} → ${rss.toFixed(0)} MB`);
    assert.ok(heap - heapBefore < HEAP_GROWTH_LIMIT_MB, `live heap grew by ${(heap - heapBefore).toFixed(0)} MB (limit ${HEAP_GROWTH_LIMIT_MB})`);
    assert.ok(rss < RSS_LIMIT_MB, `RSS ${rss.toFixed(0)} MB < ${RSS_LIMIT_MB} MB`);
    assert.ok((seen.get("ok") ?? 0) > 0, "some calls succeeded: the fuzzer reaches the handlers");
  } finally {
    await app.stop();
    await db.drop();
  }
});

function toJsonSafe(desc: DescMessage, message: Message): unknown {
  try {
    return toJson(desc, message);
  } catch {
    return fieldNames(desc);
  }
}
