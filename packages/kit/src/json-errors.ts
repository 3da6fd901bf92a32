import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { FieldViolation } from "./errors.js";

/**
 * Where a Connect JSON request body breaks the proto3 JSON mapping in a way protobuf-es reports
 * without naming the field: an unknown enum name ("PRIORITY_URGENT" says only that it is not a
 * taskmesh.tasks.v1.Priority) or an unknown key. The first such field, as a violation.
 */
export function jsonViolation(desc: DescMessage, json: unknown, prefix = "", depth = 0): FieldViolation | undefined {
  if (depth > 32 || typeof json !== "object" || json === null || Array.isArray(json) || isWellKnown(desc)) return undefined;
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    const path = `${prefix}${field?.name ?? key}`;
    if (!field) return { field: path, ruleId: "json.unknown_field", message: `${desc.typeName} has no field "${key}"` };
    if (value === null) continue;
    const problem = fieldProblem(field, value, path, depth);
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(field: DescField, value: unknown, path: string, depth: number): FieldViolation | undefined {
  switch (field.fieldKind) {
    case "enum":
      return enumProblem(
        field.enum.values.map((v) => v.name),
        field.enum.typeName,
        value,
        path,
      );
    case "message":
      return jsonViolation(field.message, value, `${path}.`, depth + 1);
    case "list":
      if (!Array.isArray(value)) return undefined;
      for (const [i, item] of value.entries()) {
        const problem =
          field.listKind === "enum"
            ? enumProblem(
                field.enum.values.map((v) => v.name),
                field.enum.typeName,
                item,
                `${path}[${i}]`,
              )
            : field.listKind === "message"
              ? jsonViolation(field.message, item, `${path}[${i}].`, depth + 1)
              : undefined;
        if (problem) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

function enumProblem(names: string[], typeName: string, value: unknown, path: string): FieldViolation | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return undefined;
  if (typeof value === "string" && names.includes(value)) return undefined;
  const shown = typeof value === "string" ? `"${value.slice(0, 64)}"` : typeof value;
  return { field: path, ruleId: "enum.defined_only", message: `${shown} is not a ${typeName} value: use one of ${names.join(", ")}` };
}

function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.");
}
