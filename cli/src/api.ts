import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { QueryErrorSchema, TaskConflictSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Login } from "./config.js";

/** This machine's zone: quick add and filters such as due:today read dates in it, as the web app does in the browser's. */
export const localTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function clients(login: Login) {
  const identify: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${login.token}`);
    req.header.set("x-time-zone", localTimeZone());
    req.header.set("x-device", "cli");
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: login.url, httpVersion: "1.1", interceptors: [identify] });
  return {
    auth: createClient(AuthService, transport),
    tasks: createClient(TaskService, transport),
    recurrence: createClient(RecurrenceService, transport),
    projects: createClient(ProjectService, transport),
    audit: createClient(AuditService, transport),
    reminders: createClient(ReminderService, transport),
  };
}

/** What went wrong, and what to do about it. */
export function explain(err: unknown, url: string): string {
  const e = ConnectError.from(err);
  if (e.code === Code.Unauthenticated) return `the token was refused (${e.rawMessage}): create a new API token and run \`taskmesh login --url ${url} --token <tm_pat_…>\``;
  if (e.code === Code.Unavailable || e.code === Code.Unknown) {
    const cause = causeOf(err);
    if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed/.test(cause)) return `cannot reach ${url} (${cause}): is taskmesh running there (\`npm start\`)? Log in with another --url otherwise`;
  }
  if (e.code === Code.NotFound) return `${e.rawMessage}: \`taskmesh ls\` lists your tasks with their ids`;
  if (e.code === Code.Aborted) {
    const conflict = e.findDetails(TaskConflictSchema)[0];
    const what = conflict?.current ? `"${conflict.current.title}" was changed meanwhile` : "the task was changed meanwhile";
    const fields = conflict?.conflictingFields.length ? ` (${conflict.conflictingFields.join(", ")})` : "";
    return `${what}${fields}, so nothing was overwritten: \`taskmesh ls\` shows it as it is now; run your edit again to apply it on top`;
  }
  if (e.code === Code.PermissionDenied) return `${e.rawMessage}: log in with a token that has the read and write scopes (\`taskmesh login --url ${url} --token <tm_pat_…>\`)`;
  if (e.code === Code.InvalidArgument) return `${e.rawMessage}${e.findDetails(QueryErrorSchema).length > 0 ? " (the filter language: packages/filter/README.md)" : ""}`;
  return e.rawMessage;
}

/** The network error under Connect's: "ECONNREFUSED", "ENOTFOUND", … */
function causeOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err instanceof ConnectError ? err.cause : err; e instanceof Error && parts.length < 5; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(typeof code === "string" ? code : e.message);
  }
  return parts.join(": ");
}
