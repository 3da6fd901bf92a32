import { fromJson, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import type { FieldViolation } from "./errors.js";

/**
 * Where a Connect JSON request body breaks the proto3 JSON mapping. protobuf-es says what is wrong
 * but not always where: a malformed timestamp is "cannot decode message google.protobuf.Timestamp
 * from JSON: invalid RFC 3339 string", whichever of the request's timestamps it was. So each key is
 * decoded again on its own, with the same library and rules, until the one that fails is found, and
 * then the list item, map entry or nested field inside it. The first such field, as a violation.
 */
export function jsonViolation(desc: DescMessage, json: unknown, prefix = "", depth = 0): FieldViolation | undefined {
  if (depth > 32 || !isObject(json) || desc.typeName.startsWith("google.protobuf.")) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    const path = `${prefix}${field?.name ?? key}`;
    if (!field) return { field: path, ruleId: "json.unknown_field", message: `${desc.typeName} has no field "${key}"` };
    const reason = decodeError(desc, key, value);
    if (reason === undefined) continue;
    return within(desc, field, key, value, path, depth) ?? leaf(field, value, path, reason);
  }
  return undefined;
}

/** The failing item or entry of a list or map field, or the failing field inside a message field. */
function within(desc: DescMessage, field: DescField, key: string, value: unknown, path: string, depth: number): FieldViolation | undefined {
  switch (field.fieldKind) {
    case "message":
      return jsonViolation(field.message, value, `${path}.`, depth + 1);
    case "list":
      if (!Array.isArray(value)) return undefined;
      for (const [i, item] of value.entries()) {
        const reason = decodeError(desc, key, [item]);
        if (reason === undefined) continue;
        const inner = field.listKind === "message" ? jsonViolation(field.message, item, `${path}[${i}].`, depth + 1) : undefined;
        return inner ?? leaf(field, item, `${path}[${i}]`, reason);
      }
      return undefined;
    case "map":
      if (!isObject(value)) return undefined;
      for (const [k, item] of Object.entries(value)) {
        const reason = decodeError(desc, key, { [k]: item });
        if (reason === undefined) continue;
        const entry = `${path}[${JSON.stringify(k.slice(0, 40))}]`;
        const inner = field.mapKind === "message" ? jsonViolation(field.message, item, `${entry}.`, depth + 1) : undefined;
        return inner ?? leaf(field, item, entry, reason);
      }
      return undefined;
    default:
      return undefined;
  }
}

/** What protobuf-es finds wrong with `{ [key]: value }` as a `desc`, or undefined when it decodes. */
function decodeError(desc: DescMessage, key: string, value: unknown): string | undefined {
  try {
    fromJson(desc, { [key]: value } as JsonValue);
    return undefined;
  } catch (err) {
    // A field's error wraps the library's reason; a well-known type's names only the type.
    const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String((err as Error).message);
    return reason.replace(/^cannot decode message [\w.]+ from JSON: /, "").replace(/^(list item #\d+|map entry .*?): /, "");
  }
}

/** The violation for a value that is wrong in itself, saying what to send instead. */
function leaf(field: DescField, value: unknown, path: string, reason: string): FieldViolation {
  const got = typeof value === "string" ? `"${value.slice(0, 64)}"` : Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
  if (field.enum) {
    const names = field.enum.values.map((v) => v.name);
    return { field: path, ruleId: "enum.defined_only", message: `${got} is not a ${field.enum.typeName} value: use one of ${names.join(", ")}` };
  }
  const expected = field.message ? WELL_KNOWN[field.message.typeName] : undefined;
  return { field: path, ruleId: "json.invalid_value", message: expected ? `${expected}, got ${got}` : reason };
}

const WELL_KNOWN: Record<string, string> = {
  "google.protobuf.Timestamp": 'must be a date and time that exist, in RFC 3339 with "Z" or an offset, e.g. "2027-01-31T09:00:00Z"',
  "google.protobuf.Duration": 'must be seconds with an "s" suffix, e.g. "3600s" for an hour',
  "google.protobuf.FieldMask": 'must be one string of comma-separated field names in lowerCamelCase, e.g. "title,dueDate"',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
