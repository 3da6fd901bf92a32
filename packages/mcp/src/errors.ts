import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { QueryErrorSchema, TaskConflictSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import * as z from "zod";
import { taskOut, taskOutput } from "./shapes.js";

export const itemError = z.object({
  code: z.string().describe("invalid_argument, not_found, aborted (a conflicting change), …"),
  message: z.string(),
  fields: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe("what is wrong with which input field"),
  conflict: z
    .object({ conflictingFields: z.array(z.string()), current: taskOutput })
    .optional()
    .describe("the task changed since the version sent: its current state, to decide again"),
  query: z.object({ position: z.number(), length: z.number() }).optional().describe("where in the query the mistake is (0-based)"),
});
export type ItemError = z.infer<typeof itemError>;

/**
 * What went wrong with one call to a service, in the terms of the tool's input: `path` names the
 * item the call was made for (e.g. `tasks[2]`), so an agent knows which input to fix.
 */
export function errorOf(err: unknown, path: string): ItemError {
  const e = ConnectError.from(err);
  const out: ItemError = { code: codeToString(e.code), message: e.rawMessage };
  const violations = e.findDetails(ViolationsSchema).flatMap((v) => v.violations);
  if (violations.length > 0) {
    out.fields = violations.map((v) => {
      // In the tool's terms: camelCase, and UpdateTaskRequest's `task.` left out (items are the task).
      const elements = (v.field?.elements ?? []).map((el) => `${camel(el.fieldName)}${el.subscript.case === "index" ? `[${el.subscript.value}]` : ""}`);
      if (elements[0] === "task" && elements.length > 1) elements.shift();
      return { field: [path, ...elements].filter(Boolean).join("."), message: v.message };
    });
  }
  const conflict = e.code === Code.Aborted ? e.findDetails(TaskConflictSchema)[0] : undefined;
  if (conflict?.current) out.conflict = { conflictingFields: conflict.conflictingFields, current: taskOut(conflict.current) };
  const query = e.findDetails(QueryErrorSchema)[0];
  if (query) out.query = { position: query.position, length: query.length };
  return out;
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A mistake found before any service was called. */
export function inputError(field: string, message: string): ItemError {
  return { code: "invalid_argument", message: `${field}: ${message}`, fields: [{ field, message }] };
}
