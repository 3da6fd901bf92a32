// `taskmesh remind <id> <when>`: "<when>" is read as quick add reads "remind me <when>" (30 min
// before, 1 day before, at 8am, tomorrow 9am), and the reminder is added to the task's others.
import { create } from "@bufbuild/protobuf";
import { ReminderSchema, type Reminder, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { parseQuickAdd, toCreateRequest } from "@taskmesh/quick-add";
import { freeReminderId } from "./edit.js";
import { UsageError } from "./usage-error.js";

export function readReminder(task: Task, when: string, zone: string, now: Date): Reminder {
  // The task's own due goes into the line, so "1 day before" on an all-day task means that day's
  // morning, as in the web app.
  const due = task.due.case === "dueDate" ? ` on ${task.due.value}` : "";
  const read = parseQuickAdd(`x${due} remind me ${when}`, now, zone, { recurrence: false });
  const reminder = toCreateRequest(read, zone).reminders[0];
  if (!reminder || read.title !== "x") {
    throw new UsageError(`"${when}" is not a reminder time: e.g. "30 min before", "1 day before", "at 8am", "tomorrow 9am"`);
  }
  if (reminder.trigger.case === "beforeDue" && task.due.case === undefined) {
    throw new UsageError(`"${when}" counts from the due, and the task has none: give it one (taskmesh edit ${task.id.slice(0, 8)} --due tomorrow) or remind at a time ("tomorrow 9am")`);
  }
  return create(ReminderSchema, { id: freeReminderId(task.reminders), trigger: reminder.trigger });
}
