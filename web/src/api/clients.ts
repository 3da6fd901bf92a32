import { createClient } from "@connectrpc/connect";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { transport } from "./transport.js";

/** AuthService as the signed-in user (API tokens, the account); sign-in itself goes through authClient. */
export const accountClient = createClient(AuthService, transport);
export const tasksClient = createClient(TaskService, transport);
export const recurrenceClient = createClient(RecurrenceService, transport);
export const remindersClient = createClient(ReminderService, transport);
