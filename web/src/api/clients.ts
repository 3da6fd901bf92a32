import { createClient, createRouterTransport } from "@connectrpc/connect";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { parseRecurrence, previewRecurrence } from "@taskmesh/recurrence/phrase-rpcs";
import { transport } from "./transport.js";

/** AuthService as the signed-in user (API tokens, the account); sign-in itself goes through authClient. */
export const accountClient = createClient(AuthService, transport);
export const tasksClient = createClient(TaskService, transport);
/**
 * The recurrence service's parsing and previews, run in the page by the service's own handlers: a
 * repeat phrase is read as the server reads it, at once and while offline. The series edits
 * (SkipOccurrence, EndSeries) change tasks: they are the server's, and this client has none.
 */
export const recurrenceTransport = createRouterTransport(({ service }) => service(RecurrenceService, { parseRecurrence, previewOccurrences: previewRecurrence }));
export const recurrenceClient = createClient(RecurrenceService, recurrenceTransport);
export const remindersClient = createClient(ReminderService, transport);
