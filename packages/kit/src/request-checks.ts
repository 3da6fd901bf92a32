import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { isMessage, ScalarType } from "@bufbuild/protobuf";
import { timestampDate, TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { invalidArgument, type FieldViolation } from "./errors.js";

// google.protobuf.Timestamp's range (0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z): beyond it a
// value cannot be encoded as JSON, stored as timestamptz or turned into a Date.
const MIN_SECONDS = -62135596800n;
const MAX_SECONDS = 253402300799n;
const MAX_VIOLATIONS = 20;

/**
 * What no service can take and protovalidate does not check on every field: U+0000 in a string
 * (PostgreSQL text and jsonb cannot hold it) and Timestamps outside 0001–9999. Walks the request
 * message; INVALID_ARGUMENT naming each offending field.
 */
export function requestViolations(schema: DescMessage, message: Message, strings = true): FieldViolation[] {
  // Almost every message has none: a first walk builds no field names (a string per field walked,
  // on every call) and stops at the first violation; only then a second one names them all.
  const found: FieldViolation[] = [];
  walk(schema, message, "", { out: found, max: 1, named: false }, 0, strings);
  if (found.length === 0) return found;
  const out: FieldViolation[] = [];
  walk(schema, message, "", { out, max: MAX_VIOLATIONS, named: true }, 0, strings);
  return out;
}

/** Where a walk puts what it finds: up to `max`, with the fields' names when `named`. */
interface Findings {
  out: FieldViolation[];
  max: number;
  named: boolean;
}

function walk(schema: DescMessage, message: Message, prefix: string, found: Findings, depth: number, strings: boolean): void {
  const { out } = found;
  if (depth > 32 || out.length >= found.max) return;
  if (isMessage(message, TimestampSchema)) {
    const ts = message;
    if (ts.seconds < MIN_SECONDS || ts.seconds > MAX_SECONDS || ts.nanos < 0 || ts.nanos > 999_999_999) {
      out.push({ field: prefix || "timestamp", ruleId: "timestamp.range", message: "must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z" });
    }
    return;
  }
  for (const field of fieldsToCheck(schema, strings)) {
    const name = !found.named ? "" : prefix ? `${prefix}.${field.name}` : field.name;
    // By the generated property name: the plan knows the fields only at run time.
    const value: unknown = field.oneof ? oneofValue(message, field) : Reflect.get(message, field.localName);
    if (value === undefined || value === null) continue;
    check(field, value, name, found, depth, strings);
  }
}

// Per message type, the fields that can hold what is checked (strings; Timestamps at any depth):
// a response of 50 tasks is walked on every call, and most of its fields can hold neither.
const plans = { strings: new WeakMap<DescMessage, DescField[]>(), timestamps: new WeakMap<DescMessage, DescField[]>() };
const holds = { strings: new WeakMap<DescMessage, boolean>(), timestamps: new WeakMap<DescMessage, boolean>() };

function fieldsToCheck(schema: DescMessage, strings: boolean): DescField[] {
  const cache = strings ? plans.strings : plans.timestamps;
  let fields = cache.get(schema);
  if (!fields) {
    fields = schema.fields.filter((f) => fieldMayHold(f, strings, new Set([schema])));
    cache.set(schema, fields);
  }
  return fields;
}

function fieldMayHold(field: DescField, strings: boolean, inProgress: Set<DescMessage>): boolean {
  switch (field.fieldKind) {
    case "scalar":
      return strings && field.scalar === ScalarType.STRING;
    case "enum":
      return false;
    case "message":
      return typeMayHold(field.message, strings, inProgress);
    case "list":
      if (field.listKind === "message") return typeMayHold(field.message, strings, inProgress);
      return strings && field.listKind === "scalar" && field.scalar === ScalarType.STRING;
    case "map":
      // Keys are checked as strings whatever their type.
      return strings || (field.mapKind === "message" && typeMayHold(field.message, strings, inProgress));
  }
}

function typeMayHold(message: DescMessage, strings: boolean, inProgress: Set<DescMessage>): boolean {
  if (message.typeName === "google.protobuf.Timestamp") return true;
  const cache = strings ? holds.strings : holds.timestamps;
  const known = cache.get(message);
  if (known !== undefined) return known;
  // A recursive type is walked (the depth bound stops it) rather than reasoned about.
  if (inProgress.has(message)) return true;
  inProgress.add(message);
  const result = message.fields.some((f) => fieldMayHold(f, strings, inProgress));
  inProgress.delete(message);
  cache.set(message, result);
  return result;
}

function oneofValue(message: Message, field: DescField): unknown {
  const oneof: { case?: string; value?: unknown } | undefined = Reflect.get(message, field.oneof!.localName);
  return oneof?.case === field.localName ? oneof.value : undefined;
}

function check(field: DescField, value: unknown, name: string, found: Findings, depth: number, strings: boolean): void {
  const scalar = (v: unknown, n: string) => strings && checkScalar(v, n, found);
  switch (field.fieldKind) {
    case "scalar":
      scalar(value, name);
      return;
    case "message":
      if (isMessage(value)) walk(field.message, value, name, found, depth + 1, strings);
      return;
    case "list": {
      const items = value as unknown[];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (field.listKind === "scalar") scalar(item, entry(found, name, i));
        else if (field.listKind === "message" && isMessage(item)) walk(field.message, item, entry(found, name, i), found, depth + 1, strings);
      }
      return;
    }
    case "map":
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        scalar(key, entry(found, name, key));
        if (field.mapKind === "scalar") scalar(item, entry(found, name, key));
        else if (field.mapKind === "message" && isMessage(item)) walk(field.message, item, entry(found, name, key), found, depth + 1, strings);
      }
      return;
    default:
      return;
  }
}

/** The name of a list's item or a map's entry, when the walk names fields. */
function entry(found: Findings, name: string, key: string | number): string {
  if (!found.named) return "";
  return `${name}[${typeof key === "number" ? key : JSON.stringify(key.slice(0, 40))}]`;
}

function checkScalar(value: unknown, name: string, found: Findings): void {
  if (typeof value === "string" && value.includes("\u0000") && found.out.length < found.max) {
    found.out.push({ field: name, ruleId: "string.no_nul", message: "must not contain the NUL character (U+0000)" });
  }
}

/** Refuses requests with NUL characters or out-of-range timestamps before any handler sees them. */
export function requestChecksInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      const violations = requestViolations(req.method.input, req.message as Message);
      if (violations.length > 0) throw invalidArgument(violations);
    }
    return next(req);
  };
}

/** A Timestamp as a Date, or undefined when it is outside what a Date and the databases hold. */
export function timestampInRange(ts: Timestamp): Date | undefined {
  if (ts.seconds < MIN_SECONDS || ts.seconds > MAX_SECONDS) return undefined;
  return timestampDate(ts);
}
