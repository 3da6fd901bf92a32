import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ActivityKind, type ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import type { Occurrence, RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import type { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import type { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { CreateTaskRequest, TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { nameKey, translateQuestion } from "@taskmesh/filter";
import { isTimeZone, parseQuickAdd, placeLine, resolveQuickAdd, toCreateRequest, type QuickAddDraft, type ResolvedQuickAdd } from "@taskmesh/quick-add";
import { Temporal } from "temporal-polyfill";
import * as z from "zod";
import { errorOf, inputError, itemError, type ItemError } from "./errors.js";
import { ProjectNames } from "./project-names.js";
import { registerPrompts } from "./prompts.js";
import { registerSavedFilters } from "./saved-filters.js";
import { sendUndo } from "./undo.js";
import { commentOut, commentOutput, PRIORITIES, priorityOf, reminderIn, reminderInput, reminderStatusOut, reminderStatusOutput, taskOut, taskOutput, type TaskOutput } from "./shapes.js";

/** The services, called as one user (the clients carry the caller's identity), and that user's zone. */
export interface TaskmeshBackend {
  tasks: Client<typeof TaskService>;
  audit: Client<typeof AuditService>;
  reminders: Client<typeof ReminderService>;
  recurrence: Client<typeof RecurrenceService>;
  projects: Client<typeof ProjectService>;
  timeZone: string;
  /** The user's id ("me" among a project's members). */
  userId: string;
  now?: () => Date;
}

/** Most items one batch call takes: a runaway agent changes at most this many tasks per call. */
export const MAX_BATCH = 50;
/** How far get_overview counts before it says "at least". */
const COUNT_CAP = 5_000;

const uuid = z.uuid();
const timeZone = z.string().max(64).refine(isTimeZone, "not an IANA time zone (e.g. Europe/Berlin)");
const tags = z.array(z.string().regex(/^[\p{L}\p{N}_./-]{1,64}$/u, "letters, digits and _ . / - only, 1–64 characters")).max(30);
const recurrencePhrase = z.string().min(1).max(200).describe("when it repeats, in English: 'every monday', 'every 2 weeks on friday at 9am', 'every month on the 1st until 2027-06-30'");
const orderBy = z.enum(["due", "priority", "created", "updated", "title"]);
const limit = z.number().int().min(1).max(200).default(50).describe("tasks per page (1–200)");
const cursor = z.string().max(1024).optional().describe("nextCursor of the previous page, with the same query");
const explanation = z.object({
  normalizedQuery: z.string().describe("the query in canonical form"),
  summary: z.string().describe("how the query was understood, in words"),
});

const itemResult = <T extends z.ZodRawShape>(ok: T) =>
  z.object({
    index: z.number().int().describe("position of the item in the input"),
    ok: z.boolean(),
    ...ok,
    error: itemError.optional(),
  });

const addItem = z
  .strictObject({
    text: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "one line as typed in quick add: 'Pay rent every month on the 1st at 9am #home !high remind me 1 day before'. Dates and times " +
          "in the user's zone (or one named: 'at 3pm PST'), #project (the project of that name, else a tag) or @labels, /section (of that project, " +
          "else of the Inbox), +member (of that project: e-mail or its part before @), !high/!medium/!low or p1–p4, 'every …' repeats, 'remind me …'",
      ),
    title: z.string().min(1).max(500).optional(),
    notes: z.string().max(20_000).optional(),
    priority: z.enum(PRIORITIES).optional(),
    tags: tags.optional(),
    dueDate: z.iso.date().optional().describe("all-day due, YYYY-MM-DD"),
    dueTime: z.iso.datetime({ offset: true }).optional().describe("due at an instant, ISO 8601 with offset"),
    timeZone: timeZone.optional().describe("the task's IANA zone (default: the user's)"),
    recurrence: recurrencePhrase.optional(),
    reminders: z.array(reminderInput).max(20).optional(),
    requestId: z.string().min(1).max(128).optional().describe("idempotency key: sending the same item again returns the task created the first time"),
  })
  .superRefine((item, ctx) => {
    if ((item.text === undefined) === (item.title === undefined)) ctx.addIssue({ code: "custom", message: "give either text (one quick-add line) or title" });
    const structured = ["priority", "tags", "dueDate", "dueTime", "timeZone", "recurrence", "reminders"] as const;
    if (item.text !== undefined) {
      for (const key of structured)
        if (item[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "with text, write this in the line itself (only notes and requestId go beside it)" });
    }
    if (item.dueDate !== undefined && item.dueTime !== undefined) ctx.addIssue({ code: "custom", path: ["dueTime"], message: "give dueDate or dueTime, not both" });
  });
type AddItem = z.infer<typeof addItem>;

const updateItem = z
  .strictObject({
    id: uuid,
    version: z.number().int().min(1).describe("the task's version as last read: a field changed since is reported as a conflict, never overwritten"),
    title: z.string().min(1).max(500).optional(),
    notes: z.string().max(20_000).optional(),
    priority: z.enum(PRIORITIES).optional(),
    tags: tags.optional().describe("replaces the tags"),
    dueDate: z.iso.date().nullable().optional().describe("all-day due, YYYY-MM-DD; null clears the due"),
    dueTime: z.iso.datetime({ offset: true }).nullable().optional().describe("due instant; null clears the due"),
    timeZone: timeZone.optional(),
    recurrence: recurrencePhrase.nullable().optional().describe("a new repeat rule in English; null stops repeating"),
    reminders: z.array(reminderInput).max(20).optional().describe("replaces the reminders ([] removes them)"),
    project: z.string().min(1).max(200).optional().describe("moves the task, its subtasks with it, to the project of this name (as find_tasks shows projectName)"),
    assignee: z.string().min(1).max(320).nullable().optional().describe("assigns the task to a member of its project (after a move: of the new one) by e-mail, or 'me'; null: to nobody"),
  })
  .superRefine((item, ctx) => {
    if (item.dueDate != null && item.dueTime != null) ctx.addIssue({ code: "custom", path: ["dueTime"], message: "give dueDate or dueTime, not both" });
    if (Object.keys(item).every((k) => k === "id" || k === "version")) ctx.addIssue({ code: "custom", message: "nothing to change: give at least one field besides id and version" });
  });
type UpdateItem = z.infer<typeof updateItem>;

function structured<T extends Record<string, unknown>>(content: T, isError = false): CallToolResult {
  return { structuredContent: content, content: [{ type: "text", text: JSON.stringify(content) }], ...(isError ? { isError: true } : {}) };
}

/** Each item on its own: one failing item does not stop the others, and says why it failed. */
async function batch<I, R extends Record<string, unknown>>(items: I[], path: string, run: (item: I, at: string) => Promise<R>, parallel = false) {
  const one = async (item: I, index: number): Promise<{ index: number; ok: boolean } & Record<string, unknown>> => {
    const at = `${path}[${index}]`;
    try {
      return { index, ok: true, ...(await run(item, at)) };
    } catch (err) {
      return { index, ok: false, error: err instanceof ItemFailure ? err.error : errorOf(err, at) };
    }
  };
  const results = parallel ? await Promise.all(items.map(one)) : [];
  if (!parallel) for (const [index, item] of items.entries()) results.push(await one(item, index));
  const failed = results.filter((r) => !r.ok).length;
  return structured({ results, succeeded: results.length - failed, failed }, failed > 0);
}

class ItemFailure extends Error {
  constructor(readonly error: ItemError) {
    super(error.message);
  }
}

const batchOutput = <T extends z.ZodRawShape>(ok: T) => ({
  results: z.array(itemResult(ok)),
  succeeded: z.number().int(),
  failed: z.number().int().describe("items not done (see each result's error); the others were done, so retry only the failed ones"),
});

const ids = z.array(uuid).min(1).max(MAX_BATCH);
const count = z.number().int();

const ADD_TASKS = {
  title: "Add tasks",
  description:
    `Creates up to ${MAX_BATCH} tasks. Each item is either one natural-language line (text), read exactly as the web app's quick add ` +
    "reads it, or fields (title, priority, tags, dueDate/dueTime, recurrence phrase, reminders). Returns each task as stored, " +
    "and for a line with a repeat phrase how the rule was understood.",
  inputSchema: z.strictObject({ tasks: z.array(addItem).min(1).max(MAX_BATCH) }),
  outputSchema: batchOutput({
    task: taskOutput.optional(),
    recurrenceSummary: z.string().optional().describe("the repeat rule as understood"),
    recurrenceNotUnderstood: z.string().optional().describe("why a repeat phrase in the line was not understood (its words stayed in the title)"),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
};

const FIND_TASKS = {
  title: "Find tasks",
  description:
    "Lists tasks matching a filter-language query: words search title and notes; @tag or tag:x; #name (the project of that name if there is one, else the tag), ##project, /section; a * in a name matches anything (@home*); priority:high, !high, priority>=medium; " +
    "status:open|completed|all; due:today|tomorrow|overdue|friday|next-friday|this-week|next-7-days|in-3-days|none|all-day|2026-12-01, due<2026-12-01, due>=today, due<in-4-hours; " +
    "created…/updated… alike (created>7-days-ago); project:<name>; assignee:me|none|<member e-mail>, assigner:me (who assigned it); is:recurring, is:subtask, is:shared; AND (default), OR (or a comma), NOT/-, parentheses. Empty query: every task. Or ask a question in plain " +
    "English instead (question: 'high-priority work tasks due this week'): it is read into a query, returned with how it was understood. " +
    "Returns how the query was understood.",
  inputSchema: z
    .strictObject({
      query: z.string().max(1000).default("").describe("e.g. '#work !high due:this-week' or 'status:open (milk OR bread)'"),
      question: z.string().min(1).max(1000).optional().describe("instead of query: plain English, e.g. 'what is overdue at home'"),
      orderBy: orderBy.default("due"),
      descending: z.boolean().default(false),
      limit,
      cursor,
    })
    .refine((r) => r.question === undefined || r.query === "", { path: ["question"], message: "give query or question, not both" }),
  outputSchema: {
    tasks: z.array(taskOutput),
    nextCursor: z.string().optional(),
    explanation,
    understood: z
      .object({
        query: z.string().describe("the filter query the question was read as (send it as query to page on)"),
        explanation: z.string().describe("how the question was read, words searched as text included"),
        translated: z.boolean().describe("false when nothing of the question became a filter term (a plain text search)"),
      })
      .optional()
      .describe("with question: how it was read"),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const FIND_TASKS_BY_DATE = {
  title: "Find tasks by date",
  description: "Lists tasks due (or created, or last changed) between two dates, inclusive, in the user's time zone; optionally narrowed by a filter-language query.",
  inputSchema: z
    .strictObject({
      from: z.iso.date().describe("first day, YYYY-MM-DD"),
      to: z.iso.date().describe("last day, YYYY-MM-DD (inclusive)"),
      field: z.enum(["due", "created", "updated"]).default("due"),
      status: z.enum(["open", "completed", "all"]).default("open"),
      query: z.string().max(900).default("").describe("more conditions in the filter language, e.g. '#work'"),
      limit,
      cursor,
    })
    .refine((r) => r.from <= r.to, { path: ["to"], message: "must not be before from" }),
  outputSchema: { tasks: z.array(taskOutput), nextCursor: z.string().optional(), explanation },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const UPDATE_TASKS = {
  title: "Update tasks",
  description:
    `Changes only the fields given on up to ${MAX_BATCH} tasks (an update mask). Each item needs the task's version as last read: ` +
    "when someone changed one of those fields since, the item fails with code aborted and the task's current state, and nothing is overwritten.",
  inputSchema: z.strictObject({ updates: z.array(updateItem).min(1).max(MAX_BATCH) }),
  outputSchema: batchOutput({ task: taskOutput.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

const ROLES = ["viewer", "editor", "admin"] as const;
const roleName = (role: ProjectRole) => ROLES[role - 1] ?? "viewer";

const LIST_PROJECTS = {
  title: "List projects",
  description:
    "The user's projects, the Inbox first: each with the user's role in it (a viewer cannot change its tasks), its sections, and " +
    "for a shared one its members' e-mails and roles: the names update_tasks takes as `project` and `assignee`, and find_tasks as project:<name>.",
  inputSchema: z.strictObject({ includeArchived: z.boolean().default(false).describe("archived projects too (marked archived)") }),
  outputSchema: {
    projects: z.array(
      z.object({
        name: z.string(),
        inbox: z.boolean(),
        archived: z.boolean(),
        role: z.enum(ROLES),
        sections: z.array(z.string()),
        members: z.array(z.object({ email: z.string(), role: z.enum(ROLES), owner: z.boolean() })).optional(),
      }),
    ),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const COMPLETE_TASKS = {
  title: "Complete tasks",
  description:
    `Marks up to ${MAX_BATCH} tasks done. A repeating task gets its next occurrence created. A task with open subtasks fails ` +
    "(failed_precondition, with their number) unless includeSubtasks completes them too; completedSubtaskIds names those. Undo with reopen_tasks.",
  inputSchema: z.strictObject({ ids, includeSubtasks: z.boolean().default(false).describe("complete each task's open subtasks too") }),
  outputSchema: batchOutput({ task: taskOutput.optional(), completedSubtaskIds: z.array(z.string()).optional() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

const REOPEN_TASKS = {
  title: "Reopen tasks",
  description: `Marks up to ${MAX_BATCH} completed tasks open again.`,
  inputSchema: z.strictObject({ ids }),
  outputSchema: batchOutput({ task: taskOutput.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

const DELETE_TASKS = {
  title: "Delete tasks",
  description: `Deletes up to ${MAX_BATCH} tasks. Each needs the version last read: a task changed since is not deleted (code aborted). A deletion can be undone from the task's activity history.`,
  inputSchema: z.strictObject({
    tasks: z
      .array(z.strictObject({ id: uuid, version: z.number().int().min(1) }))
      .min(1)
      .max(MAX_BATCH),
  }),
  outputSchema: batchOutput({ id: z.string().optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

const SET_REMINDERS = {
  title: "Set a task's reminders",
  description: "Replaces a task's reminders ([] removes them): each a number of minutes before the due, or an instant.",
  inputSchema: z.strictObject({
    taskId: uuid,
    reminders: z.array(reminderInput).max(20),
    version: z.number().int().min(1).optional().describe("the task's version as last read; a task changed since is reported, not overwritten"),
  }),
  outputSchema: { task: taskOutput, reminders: z.array(reminderStatusOutput) },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

const SNOOZE_REMINDER = {
  title: "Snooze a reminder",
  description: "Fires a reminder again later: in a number of minutes (1–43200) or at an instant within 30 days.",
  inputSchema: z
    .strictObject({
      taskId: uuid,
      reminderId: z.string().min(1).max(64).describe("the reminder's id (list_reminders, or the task's reminders)"),
      minutes: z.number().int().min(1).max(43_200).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
    })
    .refine((r) => (r.minutes === undefined) !== (r.until === undefined), { path: ["minutes"], message: "give exactly one of minutes and until" }),
  outputSchema: { reminder: reminderStatusOutput },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
};

const LIST_REMINDERS = {
  title: "List reminders",
  description: "The user's upcoming (scheduled and snoozed) reminders, soonest first; or all of one task's reminders with their state.",
  inputSchema: z.strictObject({ taskId: uuid.optional(), limit: z.number().int().min(1).max(200).default(50), cursor: z.string().max(500).optional() }),
  outputSchema: { reminders: z.array(reminderStatusOutput), nextCursor: z.string().optional() },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const GET_OVERVIEW = {
  title: "Overview",
  description: "Counts of the user's open tasks: overdue, due today, due in the next 7 days after today, by priority; and the overdue and today's tasks themselves.",
  inputSchema: z.strictObject({ listLimit: z.number().int().min(0).max(50).default(10).describe("how many overdue and today's tasks to list") }),
  outputSchema: {
    today: z.string().describe("the user's date, YYYY-MM-DD"),
    timeZone: z.string(),
    counts: z.object({
      open: count,
      overdue: count,
      dueToday: count,
      upcoming: count.describe("due in the 7 days after today"),
      noDue: count,
      byPriority: z.object({ high: count, medium: count, low: count, none: count }),
    }),
    countsCapped: z.boolean().describe(`true when a count stopped at ${COUNT_CAP} (there are at least that many)`),
    overdue: z.array(taskOutput),
    dueToday: z.array(taskOutput),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const activityEntry = z.object({
  id: z.string(),
  taskId: z.string(),
  taskTitle: z.string(),
  kind: z.string().describe("task_created, task_updated, task_completed, task_reopened, task_deleted, reminder_fired, …"),
  occurTime: z.string(),
  device: z.string().describe("where the change came from: mcp for an agent's, the web app's device name, cli, …"),
  summary: z.string(),
  changes: z.array(z.object({ field: z.string(), summary: z.string() })),
  undoable: z.boolean().describe("undo can revert it"),
});

function activityOut(e: ActivityEntry): z.infer<typeof activityEntry> {
  return {
    id: e.id,
    taskId: e.taskId,
    taskTitle: e.taskTitle,
    kind: (ActivityKind[e.kind] ?? "UNSPECIFIED").toLowerCase(),
    occurTime: e.occurTime ? timestampDate(e.occurTime).toISOString() : "",
    device: e.device,
    summary: e.summary,
    changes: e.changes.map((c) => ({ field: c.field, summary: c.summary })),
    undoable: e.undo?.request.case !== undefined,
  };
}

const GET_ACTIVITY = {
  title: "Activity history",
  description: "What changed, newest first: one task's history or all of the user's, each entry with who/where (device), what changed and whether undo can revert it.",
  inputSchema: z.strictObject({ taskId: uuid.optional(), limit: z.number().int().min(1).max(100).default(20), cursor: z.string().max(1024).optional() }),
  outputSchema: { entries: z.array(activityEntry), nextCursor: z.string().optional() },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const ADD_COMMENT = {
  title: "Comment on a task",
  description: "Adds a comment to a task, as the user: every member of the task's project sees it at once and in the task's history. " + "A requestId makes a retry add it once.",
  inputSchema: z.strictObject({
    taskId: uuid,
    body: z.string().min(1).max(10_000),
    requestId: z.string().min(1).max(128).optional().describe("idempotency key: the same id again returns the comment already added"),
  }),
  outputSchema: { comment: commentOutput },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
};

const LIST_COMMENTS = {
  title: "List a task's comments",
  description: "A task's comments, oldest first, each with its author and time.",
  inputSchema: z.strictObject({ taskId: uuid, limit: z.number().int().min(1).max(500).default(100), cursor: z.string().max(1024).optional() }),
  outputSchema: { comments: z.array(commentOutput), nextCursor: z.string().optional() },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

// How far back in a task's history undo looks for the entry.
const UNDO_LOOKBACK = 500;

const UNDO = {
  title: "Undo a change",
  description:
    "Reverts one entry of a task's activity history (get_activity): an update gets its fields back, a completion is reopened, a deletion restored. " +
    "When a field changed again since, nothing is overwritten: the call fails with code aborted and the task's current state.",
  inputSchema: z.strictObject({ taskId: uuid, entryId: z.string().min(1).max(128) }),
  outputSchema: { reverted: z.string().describe("the entry's summary"), task: taskOutput.optional().describe("the task after the undo (none when the undo deleted it)") },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
};

const occurrenceText = (o: Occurrence | undefined) => (o?.when.case === "time" ? timestampDate(o.when.value).toISOString() : (o?.when.value ?? ""));

const PREVIEW_RECURRENCE = {
  title: "Preview a repeat rule",
  description: "How a repeat phrase is understood (RRULE and summary) and its next dates, without changing anything: check a phrase before add_tasks or update_tasks use it.",
  inputSchema: z.strictObject({
    phrase: recurrencePhrase,
    start: z.iso.date().optional().describe("first day to look from, YYYY-MM-DD (default today)"),
    count: z.number().int().min(1).max(20).default(5),
    timeZone: timeZone.optional(),
  }),
  outputSchema: { rrule: z.string(), summary: z.string(), occurrences: z.array(z.string()).describe("dates (YYYY-MM-DD) or instants (ISO 8601)") },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const seriesInput = z.strictObject({
  taskId: uuid,
  version: z.number().int().min(1).optional().describe("the task's version as last read; a task changed since is reported, not changed"),
});

const SKIP_OCCURRENCE = {
  title: "Skip an occurrence",
  description: "Moves a repeating task to its next date without completing it; the skipped date is kept out of the rule.",
  inputSchema: seriesInput,
  outputSchema: { task: taskOutput, skipped: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
};

const END_SERIES = {
  title: "End a series",
  description: "Makes this occurrence of a repeating task the last one: completing it creates no next one.",
  inputSchema: seriesInput,
  outputSchema: { task: taskOutput, summary: z.string().describe("the rule as it now reads") },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

/** The MCP server with every taskmesh tool, acting for the user `backend` speaks for. */
export function createTaskmeshMcpServer(backend: TaskmeshBackend): McpServer {
  const server = new McpServer(
    { name: "taskmesh", version: "1.0.0" },
    {
      instructions:
        "taskmesh is the user's task manager. Find tasks with the filter language (find_tasks: '#home !high due:next-7-days', " +
        "'due:overdue', 'status:completed updated:last-week'); each answer says how the query was understood. Changes need the " +
        "task's `version` from a read, so an edit made meanwhile by the user is reported as a conflict instead of overwritten. " +
        "Every change is recorded in the task's activity history (device 'mcp') and can be undone there. " +
        "The user's saved filters are resources (taskmesh://filters).",
    },
  );
  const names = new ProjectNames(backend.projects);
  nameProjectsInAnswers(server, names);
  registerSavedFilters(server, backend, names);
  registerPrompts(server);
  const now = backend.now ?? (() => new Date());
  const { tasks, reminders, recurrence, audit } = backend;

  server.registerTool("add_tasks", ADD_TASKS, async ({ tasks: items }) => batch(items, "tasks", (item, at) => addOne(item, at), true));

  async function addOne(item: AddItem, at: string) {
    const zone = item.timeZone ?? backend.timeZone;
    const at0 = now();
    let resolved: ResolvedQuickAdd;
    let request: CreateTaskRequest;
    if (item.text !== undefined) {
      const [read, { projects }] = await Promise.all([resolveQuickAdd(parseQuickAdd(item.text, at0, zone), recurrence, zone, at0), backend.projects.listProjects({})]);
      resolved = await placeLine(read, projects, backend.projects);
      if (!resolved.title) throw new ItemFailure(inputError(`${at}.text`, "the line has no title left once dates, tags and the like are read"));
      request = toCreateRequest(resolved, zone);
    } else {
      const draft: QuickAddDraft = {
        title: item.title!,
        tags: [],
        ...(item.dueDate ? { due: { kind: "date", date: item.dueDate } } : item.dueTime ? { due: { kind: "time", time: new Date(item.dueTime) } } : {}),
        ...(item.recurrence ? { recurrenceText: item.recurrence, titleParts: [item.title!, ""] } : {}),
      };
      resolved = await resolveQuickAdd(draft, recurrence, zone, at0);
      if (resolved.recurrenceError) throw new ItemFailure(inputError(`${at}.recurrence`, resolved.recurrenceError));
      const spaced = (s: string) => s.replace(/\s+/g, " ").trim();
      // Words of the phrase the rule left over would go into the title: refused instead, as not understood.
      if (spaced(resolved.title) !== spaced(draft.title)) throw new ItemFailure(inputError(`${at}.recurrence`, `not understood: "${spaced(resolved.title).slice(spaced(draft.title).length).trim()}"`));
      request = toCreateRequest({ ...resolved, title: item.title! }, zone);
      request.tags = item.tags ?? [];
      if (item.priority) request.priority = priorityOf(item.priority);
      request.reminders = (item.reminders ?? []).map((r, i) => reminderIn(r, i));
    }
    if (item.notes !== undefined) request.notes = item.notes;
    if (item.requestId !== undefined) request.requestId = item.requestId;
    const { task } = await tasks.createTask(request);
    return {
      task: taskOut(task!),
      ...(resolved.recurrenceSummary ? { recurrenceSummary: resolved.recurrenceSummary } : {}),
      ...(resolved.recurrenceError ? { recurrenceNotUnderstood: resolved.recurrenceError } : {}),
    };
  }

  server.registerTool("find_tasks", FIND_TASKS, async ({ query, question, orderBy, descending, limit, cursor }) => {
    const understood = question === undefined ? undefined : translateQuestion(question);
    const result = await list(understood?.query ?? query, `${orderBy}${descending ? " desc" : ""}`, limit, cursor, understood ? "question" : "query");
    return understood && result.structuredContent ? structured({ ...result.structuredContent, understood }) : result;
  });

  function list(query: string, order: string, pageSize: number, pageToken: string | undefined, field: string): Promise<CallToolResult> {
    return answer(async () => {
      const page = await tasks.listTasks({ query, orderBy: order, pageSize, pageToken: pageToken ?? "", explain: true });
      return structured({
        tasks: page.tasks.map(taskOut),
        ...(page.nextPageToken ? { nextCursor: page.nextPageToken } : {}),
        explanation: { normalizedQuery: page.explanation?.normalizedQuery ?? "", summary: page.explanation?.summary ?? "" },
      });
    }, field);
  }

  server.registerTool("find_tasks_by_date", FIND_TASKS_BY_DATE, async ({ from, to, field, status, query, limit, cursor }) => {
    const q = `${field}>=${from} ${field}<=${to} status:${status}${query.trim() ? ` (${query})` : ""}`;
    return list(q, field, limit, cursor, "query");
  });

  server.registerTool("update_tasks", UPDATE_TASKS, async ({ updates }) => batch(updates, "updates", updateOne));

  async function updateOne(item: UpdateItem, at: string) {
    const task = create(TaskSchema, { id: item.id });
    const mask: string[] = [];
    if (item.title !== undefined) {
      task.title = item.title;
      mask.push("title");
    }
    if (item.notes !== undefined) {
      task.notes = item.notes;
      mask.push("notes");
    }
    if (item.priority !== undefined) {
      task.priority = priorityOf(item.priority);
      mask.push("priority");
    }
    if (item.tags !== undefined) {
      task.tags = item.tags;
      mask.push("tags");
    }
    if (item.timeZone !== undefined) {
      task.timeZone = item.timeZone;
      mask.push("time_zone");
    }
    if (item.dueDate !== undefined || item.dueTime !== undefined) {
      if (item.dueDate) task.due = { case: "dueDate", value: item.dueDate };
      else if (item.dueTime) task.due = { case: "dueTime", value: timestampFromDate(new Date(item.dueTime)) };
      mask.push(item.dueTime !== undefined ? "due_time" : "due_date");
    }
    if (item.recurrence !== undefined) {
      if (item.recurrence !== null) {
        try {
          task.recurrence = (await recurrence.parseRecurrence({ text: item.recurrence })).recurrence;
        } catch (err) {
          // The service names its own field (text): the agent's is this item's recurrence.
          const e = ConnectError.from(err);
          throw e.code === Code.InvalidArgument ? new ItemFailure(inputError(`${at}.recurrence`, e.rawMessage)) : err;
        }
      }
      mask.push("recurrence");
    }
    if (item.reminders !== undefined) {
      task.reminders = item.reminders.map((r, i) => reminderIn(r, i));
      mask.push("reminders");
    }
    if (item.project !== undefined) {
      task.projectId = await projectNamed(item.project, `${at}.project`);
      mask.push("project_id");
    }
    if (item.assignee !== undefined) {
      const projectId = task.projectId || (await tasks.getTask({ id: item.id })).task!.projectId;
      task.assigneeId = item.assignee === null ? "" : await memberNamed(projectId, item.assignee, `${at}.assignee`);
      mask.push("assignee_id");
    }
    const { task: updated } = await tasks.updateTask({ task, updateMask: create(FieldMaskSchema, { paths: mask }), expectedVersion: BigInt(item.version) });
    return { task: taskOut(updated!) };
  }

  async function projectNamed(name: string, at: string): Promise<string> {
    const { projects } = await backend.projects.listProjects({});
    const project = projects.find((p) => nameKey(p.name) === nameKey(name));
    if (!project) throw new ItemFailure(inputError(at, `no project is named "${name}"; the user's projects: ${projects.map((p) => p.name).join(", ")}`));
    return project.id;
  }

  async function memberNamed(projectId: string, who: string, at: string): Promise<string> {
    const { members } = await backend.projects.listMembers({ projectId });
    const member = who.toLowerCase() === "me" ? members.find((m) => m.userId === backend.userId) : members.find((m) => m.email.toLowerCase() === who.toLowerCase());
    if (!member) throw new ItemFailure(inputError(at, `${who} is not a member of the task's project; its members: ${members.map((m) => m.email).join(", ")}`));
    return member.userId;
  }

  server.registerTool("list_projects", LIST_PROJECTS, ({ includeArchived }) =>
    answer(async () => {
      const { projects } = await backend.projects.listProjects({ includeArchived });
      const described = await Promise.all(
        projects.map(async (p) => {
          const [{ sections }, members] = await Promise.all([
            backend.projects.listSections({ projectId: p.id }),
            p.memberCount > 1 ? backend.projects.listMembers({ projectId: p.id }).then((r) => r.members) : undefined,
          ]);
          return {
            name: p.name,
            inbox: p.inbox,
            archived: p.archived,
            role: roleName(p.role),
            sections: sections.map((s) => s.name),
            ...(members ? { members: members.map((m) => ({ email: m.email, role: roleName(m.role), owner: m.owner })) } : {}),
          };
        }),
      );
      return structured({ projects: described });
    }),
  );

  server.registerTool("complete_tasks", COMPLETE_TASKS, async ({ ids, includeSubtasks }) =>
    batch(ids, "ids", async (id) => {
      const { task, completedSubtaskIds } = await tasks.completeTask({ id, includeSubtasks });
      return { task: taskOut(task!), ...(completedSubtaskIds.length > 0 ? { completedSubtaskIds } : {}) };
    }),
  );

  server.registerTool("reopen_tasks", REOPEN_TASKS, async ({ ids }) => batch(ids, "ids", async (id) => ({ task: taskOut((await tasks.reopenTask({ id })).task!) })));

  server.registerTool("delete_tasks", DELETE_TASKS, async ({ tasks: items }) =>
    batch(items, "tasks", async ({ id, version }) => {
      await tasks.deleteTask({ id, expectedVersion: BigInt(version) });
      return { id };
    }),
  );

  server.registerTool("set_reminders", SET_REMINDERS, ({ taskId, reminders: items, version }) =>
    answer(async () => {
      const res = await reminders.setReminders({ taskId, reminders: items.map(reminderIn), expectedVersion: BigInt(version ?? 0) });
      return structured({ task: taskOut(res.task!), reminders: res.reminders.map(reminderStatusOut) });
    }),
  );

  server.registerTool("snooze_reminder", SNOOZE_REMINDER, ({ taskId, reminderId, minutes, until }) =>
    answer(async () => {
      const res = await reminders.snoozeReminder({
        taskId,
        reminderId,
        until: minutes !== undefined ? { case: "duration", value: { seconds: BigInt(minutes * 60) } } : { case: "untilTime", value: timestampFromDate(new Date(until!)) },
      });
      return structured({ reminder: reminderStatusOut(res.reminder!) });
    }),
  );

  server.registerTool("list_reminders", LIST_REMINDERS, ({ taskId, limit, cursor }) =>
    answer(async () => {
      const res = await reminders.listReminders({ taskId: taskId ?? "", pageSize: limit, pageToken: cursor ?? "" });
      return structured({ reminders: res.reminders.map(reminderStatusOut), ...(res.nextPageToken ? { nextCursor: res.nextPageToken } : {}) });
    }),
  );

  server.registerTool("get_overview", GET_OVERVIEW, ({ listLimit }) =>
    answer(async () => {
      const scan = async (query: string) => {
        const found: Task[] = [];
        let pageToken = "";
        do {
          const page = await tasks.listTasks({ query, orderBy: "due", pageSize: 500, pageToken });
          found.push(...page.tasks);
          pageToken = page.nextPageToken;
        } while (pageToken && found.length < COUNT_CAP);
        return { found, capped: pageToken !== "" };
      };
      const today = Temporal.Now.plainDateISO(backend.timeZone);
      const [open, overdue, dueToday, upcoming] = await Promise.all([
        scan("status:open"),
        scan("due:overdue"),
        scan("status:open due:today"),
        scan(`status:open due>today due<=${today.add({ days: 7 })}`),
      ]);
      const byPriority = { high: 0, medium: 0, low: 0, none: 0 };
      let noDue = 0;
      for (const t of open.found) {
        byPriority[taskOut(t).priority]++;
        if (t.due.case === undefined) noDue++;
      }
      const show = (list: Task[]): TaskOutput[] => list.slice(0, listLimit).map(taskOut);
      return structured({
        today: today.toString(),
        timeZone: backend.timeZone,
        counts: { open: open.found.length, overdue: overdue.found.length, dueToday: dueToday.found.length, upcoming: upcoming.found.length, noDue, byPriority },
        countsCapped: [open, overdue, dueToday, upcoming].some((s) => s.capped),
        overdue: show(overdue.found),
        dueToday: show(dueToday.found),
      });
    }),
  );

  server.registerTool("get_activity", GET_ACTIVITY, ({ taskId, limit, cursor }) =>
    answer(async () => {
      const page = await audit.listActivity({ taskId: taskId ?? "", pageSize: limit, pageToken: cursor ?? "" });
      return structured({ entries: page.entries.map(activityOut), ...(page.nextPageToken ? { nextCursor: page.nextPageToken } : {}) });
    }),
  );

  /** The e-mails of the members of a task's project, by user id. */
  const memberEmails = async (taskId: string) => {
    const { task } = await tasks.getTask({ id: taskId });
    const { members } = await backend.projects.listMembers({ projectId: task!.projectId });
    return new Map(members.map((m) => [m.userId, m.email]));
  };

  server.registerTool("add_comment", ADD_COMMENT, ({ taskId, body, requestId }) =>
    answer(async () => {
      const { comment } = await tasks.addComment({ taskId, body, requestId: requestId ?? "" });
      return structured({ comment: commentOut(comment!, await memberEmails(taskId)) });
    }),
  );

  server.registerTool("list_comments", LIST_COMMENTS, ({ taskId, limit, cursor }) =>
    answer(async () => {
      const [page, emails] = await Promise.all([tasks.listComments({ taskId, pageSize: limit, pageToken: cursor ?? "" }), memberEmails(taskId)]);
      return structured({ comments: page.comments.map((c) => commentOut(c, emails)), ...(page.nextPageToken ? { nextCursor: page.nextPageToken } : {}) });
    }),
  );

  server.registerTool("undo", UNDO, ({ taskId, entryId }) =>
    answer(async () => {
      let entry: ActivityEntry | undefined;
      let pageToken = "";
      for (let seen = 0; !entry && seen < UNDO_LOOKBACK; ) {
        const page = await audit.listActivity({ taskId, pageSize: 100, pageToken });
        entry = page.entries.find((e) => e.id === entryId);
        seen += page.entries.length;
        pageToken = page.nextPageToken;
        if (!pageToken) break;
      }
      if (!entry) return toolError({ code: "not_found", message: `no entry ${entryId} in the history of task ${taskId} (get_activity lists them)` });
      const undone = await sendUndo(tasks, entry);
      if (!undone) return toolError(inputError("entryId", `"${entry.summary}" cannot be undone`));
      const { task } = undone;
      return structured({ reverted: entry.summary, ...(task ? { task: taskOut(task) } : {}) });
    }),
  );

  server.registerTool("preview_recurrence", PREVIEW_RECURRENCE, ({ phrase, start, count, timeZone: zone }) =>
    answer(async () => {
      const tz = zone ?? backend.timeZone;
      // Read as add_tasks reads it, so the dates shown are the ones a task would get: the first is
      // the rule's first occurrence on or after the start.
      const draft: QuickAddDraft = { title: "", tags: [], recurrenceText: phrase, titleParts: ["", ""], ...(start ? { due: { kind: "date", date: start } } : {}) };
      const resolved = await resolveQuickAdd(draft, recurrence, tz, now());
      if (resolved.recurrenceError) return toolError(inputError("phrase", resolved.recurrenceError));
      if (resolved.title) return toolError(inputError("phrase", `not understood: "${resolved.title}"`));
      const first = resolved.due;
      const preview = await recurrence.previewOccurrences({
        recurrence: resolved.recurrence,
        start: first?.kind === "time" ? { case: "startTime", value: timestampFromDate(first.time) } : { case: "startDate", value: first?.date ?? Temporal.Now.plainDateISO(tz).toString() },
        timeZone: resolved.timeZone ?? tz,
        count,
      });
      return structured({ rrule: resolved.recurrence?.rrule ?? "", summary: resolved.recurrenceSummary ?? "", occurrences: preview.occurrences.map(occurrenceText) });
    }, "phrase"),
  );

  server.registerTool("skip_occurrence", SKIP_OCCURRENCE, ({ taskId, version }) =>
    answer(async () => {
      const res = await recurrence.skipOccurrence({ taskId, expectedVersion: BigInt(version ?? 0) });
      return structured({ task: taskOut(res.task!), skipped: occurrenceText(res.skipped) });
    }),
  );

  server.registerTool("end_series", END_SERIES, ({ taskId, version }) =>
    answer(async () => {
      const res = await recurrence.endSeries({ taskId, expectedVersion: BigInt(version ?? 0) });
      return structured({ task: taskOut(res.task!), summary: res.summary });
    }),
  );

  return server;
}

/** Every tool registered from here on answers with its tasks' project and section names. */
function nameProjectsInAnswers(server: McpServer, names: ProjectNames): void {
  const register = server.registerTool.bind(server);
  server.registerTool = ((name: string, config: never, handler: (...args: unknown[]) => Promise<CallToolResult>) =>
    register(name, config, (async (...args: unknown[]) => names.name(await handler(...args))) as never)) as typeof server.registerTool;
}

/** What `run` answers, or the reason it failed (`field`: the input an invalid argument is blamed on). */
async function answer(run: () => Promise<CallToolResult>, field?: string): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    return toolError(errorOf(err, ""), field);
  }
}

/** The whole call failed: the reason as JSON, so an agent reads the fields it has to fix. */
function toolError(error: ItemError, field?: string): CallToolResult {
  const withField = field && error.code === "invalid_argument" && !error.fields ? { ...error, fields: [{ field, message: error.message }] } : error;
  return { isError: true, content: [{ type: "text", text: JSON.stringify({ error: withField }) }] };
}
