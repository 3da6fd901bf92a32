import { ConnectError, type Client } from "@connectrpc/connect";
import { commentOut, PRIORITIES, reminderStatusOut, taskOut, type TaskOutput } from "@taskmesh/mcp/shapes";
import { translateQuestion } from "@taskmesh/filter";
import { ProjectNames } from "@taskmesh/mcp/project-names";
import { sendUndo } from "@taskmesh/mcp/undo";
import { ActivityKind } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import type { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { OpenSubtasksSchema, type TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { parseQuickAdd, placeLine, resolveQuickAdd, toCreateRequest } from "@taskmesh/quick-add";
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { clients, explain, localTimeZone } from "./api.js";
import { completionScript, SHELLS, type Shell } from "./completion.js";
import { loadLogin, saveLogin, type Login } from "./config.js";
import { readEdit, type EditOptions } from "./edit.js";
import { localDateTime, row, table } from "./format.js";
import { readReminder } from "./remind.js";
import { describeTask } from "./show.js";
import { UsageError } from "./usage-error.js";
import { changeLine, watch } from "./watch.js";

const program = new Command("taskmesh")
  .description("taskmesh from the terminal: add with a quick-add line, list with a filter, show, complete, reopen, edit, delete, undo, watch, remind, comment; `taskmesh mcp` for desktop agents")
  .version("1.0.0")
  .option("--json", "print JSON (the same task shape as the MCP tools) instead of text")
  .showHelpAfterError("(taskmesh --help lists the commands)");

const json = (cmd: Command) => cmd.optsWithGlobals<{ json?: boolean }>().json === true;
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

// The gateway the command talks to, for error messages.
let target: string | undefined;

function requireLogin(): Login {
  const login = loadLogin();
  target = login?.url;
  if (!login) throw new UsageError('not logged in: create an API token (README, "Calling the API") and run `taskmesh login --url http://localhost:8080 --token <tm_pat_…>`');
  return login;
}

program
  .command("login")
  .description("check a personal API token against the gateway and keep both in your config folder (readable by you only)")
  .requiredOption("--url <gateway>", "where taskmesh runs, e.g. http://localhost:8080")
  .requiredOption("--token <token>", "a personal API token (tm_pat_…)")
  .action(async (opts: { url: string; token: string }, cmd: Command) => {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new UsageError(`--url ${opts.url} is not a URL: give the gateway's address, e.g. http://localhost:8080`);
    }
    if (!opts.token.startsWith("tm_pat_")) throw new UsageError("--token takes a personal API token (it starts with tm_pat_); CreateApiToken makes one");
    const login = { url: url.origin, token: opts.token };
    target = login.url;
    const { user } = await clients(login).auth.getAccount({});
    const file = saveLogin(login);
    if (json(cmd)) print({ url: login.url, email: user?.email, config: file });
    else process.stdout.write(`Logged in to ${login.url} as ${user?.email} (saved in ${file})\n`);
  });

program
  .command("add")
  .description('add a task from one line, read as the web app\'s quick add reads it: "Pay rent every month on the 1st at 9am #home !high"')
  .argument("<line...>", "the task as you would type it")
  .action(async (words: string[], _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const zone = localTimeZone();
    const now = new Date();
    const [read, { projects }] = await Promise.all([resolveQuickAdd(parseQuickAdd(words.join(" "), now, zone), api.recurrence, zone, now), api.projects.listProjects({})]);
    const resolved = await placeLine(read, projects, api.projects);
    if (!resolved.title) throw new UsageError("the line has no title left once its dates, tags and priority are read: add a few words saying what to do");
    const { task } = await api.tasks.createTask(toCreateRequest(resolved, zone));
    const out = taskOut(task!);
    if (json(cmd)) return print({ task: out, ...(resolved.recurrenceSummary ? { recurrenceSummary: resolved.recurrenceSummary } : {}) });
    process.stdout.write(
      `Added ${row(out, zone).join("  ").replace(/\s+$/, "")}${resolved.project ? `  in ${resolved.project.name}${resolved.section ? ` / ${resolved.section.name}` : ""}` : ""}${resolved.assignee ? `  → ${resolved.assignee.email}` : ""}${resolved.recurrenceSummary ? `  (repeats ${resolved.recurrenceSummary})` : ""}\n`,
    );
    if (resolved.recurrenceError) process.stderr.write(`note: "${resolved.recurrenceError}": the repeat phrase was not understood and stayed in the title\n`);
  });

program
  .command("ls")
  .alias("list")
  .description("list tasks matching a filter (default status:open), e.g. taskmesh ls '#home !high due:next-7-days', or a question: taskmesh ls \"what's overdue at home\"")
  .argument("[filter...]", "the filter language (packages/filter/README.md), or a question in plain English")
  .option("-n, --limit <n>", "at most this many tasks (1–500)", positiveInt, 50)
  .option("-s, --sort <order>", "due, priority, created, updated or title (add ' desc' to reverse)", "due")
  .action(async (words: string[], opts: { limit: number; sort: string }, cmd: Command) => {
    const api = clients(requireLogin());
    // A question is read into a filter query, and how it was read is shown first; anything else
    // goes as typed, so a mistake in a filter query is pointed at rather than searched for as text.
    const typed = words.join(" ");
    const understood = typed ? translateQuestion(typed) : undefined;
    const query = understood?.translated ? understood.query : typed || "status:open";
    const page = await api.tasks.listTasks({ query, orderBy: opts.sort, pageSize: opts.limit, explain: true });
    const tasks = page.tasks.map(taskOut);
    const explanation = { normalizedQuery: page.explanation?.normalizedQuery ?? "", summary: page.explanation?.summary ?? "" };
    if (json(cmd)) return print({ tasks, explanation, ...(understood?.translated ? { understood } : {}), ...(page.nextPageToken ? { more: true } : {}) });
    const zone = localTimeZone();
    if (understood?.translated) process.stdout.write(`Read as ${understood.query}: ${understood.explanation}\n`);
    process.stdout.write(
      table(
        ["ID", "DUE", "PRI", "TITLE", "TAGS"],
        tasks.map((t) => row(t, zone)),
      ),
    );
    const more = page.nextPageToken ? ` (more: --limit ${Math.min(500, opts.limit * 2)})` : "";
    process.stdout.write(`${tasks.length === 0 ? "No tasks" : `${tasks.length} task${tasks.length === 1 ? "" : "s"}`} where ${explanation.summary || "any"}${more}\n`);
  });

program
  .command("done")
  .description("complete tasks, by the id `taskmesh ls` shows (a unique start of it is enough)")
  .argument("<id...>")
  .option("--with-subtasks", "complete a task's open subtasks too (without it, a task with open ones is refused)")
  .action(async (ids: string[], opts: { withSubtasks?: boolean }, cmd: Command) => {
    const api = clients(requireLogin());
    const done: Array<{ task: TaskOutput; subtasks: number }> = [];
    for (const idArg of ids) {
      const id = await resolveId(api.tasks, idArg);
      const res = await api.tasks.completeTask({ id, includeSubtasks: opts.withSubtasks === true }).catch((err: unknown) => {
        const open = ConnectError.from(err).findDetails(OpenSubtasksSchema)[0]?.openCount;
        if (open === undefined) throw err;
        throw new UsageError(`${idArg} has ${open === 1 ? "1 open subtask" : `${open} open subtasks`}: complete them first, or add --with-subtasks`);
      });
      done.push({ task: taskOut(res.task!), subtasks: res.completedSubtaskIds.length });
    }
    if (json(cmd)) return print({ tasks: done.map((d) => d.task) });
    for (const { task: t, subtasks } of done) {
      process.stdout.write(`Completed ${t.id.slice(0, 8)}  ${t.title}${subtasks > 0 ? `  (and ${subtasks === 1 ? "1 subtask" : `${subtasks} subtasks`})` : ""}\n`);
    }
  });

program
  .command("reopen")
  .description("mark completed tasks open again, by the id `taskmesh ls status:completed` shows")
  .argument("<id...>")
  .action(async (ids: string[], _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const reopened: TaskOutput[] = [];
    for (const id of ids) reopened.push(taskOut((await api.tasks.reopenTask({ id: await resolveId(api.tasks, id, "status:completed") })).task!));
    if (json(cmd)) return print({ tasks: reopened });
    for (const t of reopened) process.stdout.write(`Reopened ${t.id.slice(0, 8)}  ${t.title}\n`);
  });

program
  .command("rm")
  .alias("delete")
  .description("delete tasks (a subtask of one moves up a level); `taskmesh undo <id>` brings one back")
  .argument("<id...>")
  .action(async (ids: string[], _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const deleted: TaskOutput[] = [];
    for (const idArg of ids) {
      const { task } = await api.tasks.getTask({ id: await resolveId(api.tasks, idArg, "status:all") });
      // The version read here: a change made since by someone else is reported, not deleted with it.
      await api.tasks.deleteTask({ id: task!.id, expectedVersion: task!.version });
      deleted.push(taskOut(task!));
    }
    if (json(cmd)) return print({ deleted: deleted.map((t) => t.id) });
    for (const t of deleted) process.stdout.write(`Deleted ${t.id.slice(0, 8)}  ${t.title}  (taskmesh undo ${t.id.slice(0, 8)} brings it back)\n`);
  });

program
  .command("show")
  .description("one task with all it carries: notes, project and section, assignee, repeat rule in words, reminders, times and version")
  .argument("<id>", "the task (a unique start of its id)")
  .action(async (idArg: string, _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const { task } = await api.tasks.getTask({ id: await resolveId(api.tasks, idArg, "status:all") });
    const out = taskOut(task!);
    const [rule] = await Promise.all([
      task!.recurrence ? api.recurrence.parseRecurrence({ text: task!.recurrence.rrule }).catch(() => undefined) : undefined,
      // Names as the MCP tools give them (the same task shape for --json).
      new ProjectNames(api.projects).nameTask(out),
    ]);
    if (json(cmd)) return print({ task: out, ...(rule ? { recurrenceSummary: rule.summary } : {}) });
    process.stdout.write(describeTask(out, rule?.summary, localTimeZone()));
  });

program
  .command("edit")
  .description(
    'change a task: what a quick-add line names ("tomorrow 5pm !high #work"; words left become the title), or the options; only those fields are sent, and a change made meanwhile elsewhere is reported, not overwritten',
  )
  .argument("<id>", "the task (a unique start of its id, as `taskmesh ls` shows)")
  .argument("[line...]", "a quick-add line: a due, !priority, #tags or @labels (added), a repeat, remind me …, #project, /section")
  .option("--title <title>", "the new title")
  .option("--due <when>", 'a date or time as quick add reads it ("fri 5pm", "2027-01-31"), or none')
  .addOption(new Option("--priority <priority>", "the priority").choices(PRIORITIES))
  .option("--tag <tag>", "the tags (repeat the option; replaces the task's tags)", (tag: string, tags: string[] | undefined) => [...(tags ?? []), tag])
  .option("--notes <text>", "the notes")
  .option("--assign <who>", "assign it to a member of its project (their e-mail, or me), or none")
  .option("--expected-version <n>", "the version your edit is based on (`ls --json` shows it): a change made since is reported", positiveVersion)
  .action(async (idArg: string, words: string[], opts: EditOptions & { expectedVersion?: bigint }, cmd: Command) => {
    const api = clients(requireLogin());
    const id = await resolveId(api.tasks, idArg, "status:all");
    const [{ task: current }, { projects }] = await Promise.all([api.tasks.getTask({ id }), api.projects.listProjects({})]);
    const lookups = {
      async assignee(who: string, projectId: string) {
        const [{ members }, { user }] = await Promise.all([api.projects.listMembers({ projectId }), api.auth.getAccount({})]);
        const email = who.toLowerCase() === "me" ? user?.email : who;
        const member = members.find((m) => m.email.toLowerCase() === email?.toLowerCase());
        if (!member) throw new UsageError(`--assign ${who}: not a member of the task's project; its members: ${members.map((m) => m.email).join(", ")} (or --assign none)`);
        return member.userId;
      },
      sections: async (projectId: string) => (await api.projects.listSections({ projectId })).sections,
    };
    const edit = await readEdit(current!, words, opts, api.recurrence, projects, lookups, current!.timeZone || localTimeZone(), new Date());
    const { task } = await api.tasks.updateTask({ task: edit.task, updateMask: { paths: edit.mask }, expectedVersion: opts.expectedVersion ?? current!.version });
    const out = taskOut(task!);
    if (json(cmd)) return print({ task: out, changed: edit.mask });
    process.stdout.write(`Changed ${row(out, localTimeZone()).join("  ").replace(/\s+$/, "")}  (${edit.said.join(", ")})\n`);
  });

program
  .command("undo")
  .description("undo the latest change to your tasks (or to one task), from any device, as the web app's Undo does; a field changed again since is not overwritten")
  .argument("[id]", "only this task's latest change")
  .action(async (idArg: string | undefined, _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const taskId = idArg ? await resolveId(api.tasks, idArg, "status:all").catch(async (err: unknown) => (await deletedTaskId(api.audit, idArg)) ?? Promise.reject(err)) : "";
    const { entries } = await api.audit.listActivity({ taskId, pageSize: 20 });
    const entry = entries.find((e) => e.undo?.request.case !== undefined);
    if (!entry) throw new UsageError(`nothing to undo${idArg ? " on that task" : ""}: the recent history has no change that can be undone`);
    const undone = await sendUndo(api.tasks, entry);
    if (json(cmd)) return print({ undone: entry.summary, taskId: entry.taskId, ...(undone !== false && undone.task ? { task: taskOut(undone.task) } : {}) });
    process.stdout.write(`Undid ${entry.summary} on ${entry.taskId.slice(0, 8)}  ${entry.taskTitle}\n`);
  });

program
  .command("watch")
  .description("print changes to your tasks as they happen, made anywhere (the web app, another terminal, an agent), until Ctrl-C")
  .action(async (_opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    const zone = localTimeZone();
    // --json: one JSON object a line, for piping into jq and the like.
    await watch(api.tasks, controller.signal, (change) => void process.stdout.write(`${json(cmd) ? JSON.stringify(change) : changeLine(change, zone)}\n`));
  });

program
  .command("remind")
  .description('add a reminder to a task ("30 min before", "1 day before", "at 8am", "tomorrow 9am"), or list the upcoming ones with --list')
  .argument("[id]", "the task")
  .argument("[when...]", 'when to remind, as after quick add\'s "remind me"')
  .option("--list", "the upcoming reminders, soonest first")
  .action(async (idArg: string | undefined, words: string[], opts: { list?: boolean }, cmd: Command) => {
    const api = clients(requireLogin());
    const zone = localTimeZone();
    if (opts.list) {
      if (idArg) throw new UsageError("--list takes no task: `taskmesh remind --list` lists every upcoming reminder");
      const { reminders } = await api.reminders.listReminders({ pageSize: 100 });
      const out = reminders.map(reminderStatusOut);
      if (json(cmd)) return print({ reminders: out });
      process.stdout.write(
        table(
          ["WHEN", "ID", "TASK", "STATE"],
          out.map((r) => [r.nextFireTime ? localDateTime(r.nextFireTime, zone) : "", r.taskId.slice(0, 8), r.taskTitle, r.state]),
        ),
      );
      process.stdout.write(out.length === 0 ? "No upcoming reminders\n" : "");
      return;
    }
    if (!idArg || words.length === 0) throw new UsageError('give a task and when: taskmesh remind <id> "30 min before" (or --list)');
    const id = await resolveId(api.tasks, idArg);
    const { task } = await api.tasks.getTask({ id });
    const reminder = readReminder(task!, words.join(" "), task!.timeZone || zone, new Date());
    const res = await api.reminders.setReminders({ taskId: id, reminders: [...task!.reminders, reminder], expectedVersion: task!.version });
    const set = res.reminders.map(reminderStatusOut).find((r) => r.reminder.id === reminder.id);
    if (json(cmd)) return print({ task: taskOut(res.task!), reminder: set });
    process.stdout.write(`Reminder set for ${id.slice(0, 8)}  ${task!.title}${set?.nextFireTime ? `: ${localDateTime(set.nextFireTime, zone)}` : ""}\n`);
  });

program
  .command("comment")
  .description("comment on a task (every member of its project sees it), or list its comments when no text is given")
  .argument("<id>", "the task")
  .argument("[text...]", "the comment")
  .action(async (idArg: string, words: string[], _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const zone = localTimeZone();
    const id = await resolveId(api.tasks, idArg, "status:all");
    const { task } = await api.tasks.getTask({ id });
    const emails = new Map((await api.projects.listMembers({ projectId: task!.projectId })).members.map((m) => [m.userId, m.email]));
    if (words.length > 0) {
      const { comment } = await api.tasks.addComment({ taskId: id, body: words.join(" ") });
      if (json(cmd)) return print({ comment: commentOut(comment!, emails) });
      process.stdout.write(`Commented on ${id.slice(0, 8)}  ${task!.title}\n`);
      return;
    }
    const comments: ReturnType<typeof commentOut>[] = [];
    let pageToken = "";
    do {
      const page = await api.tasks.listComments({ taskId: id, pageSize: 500, pageToken });
      comments.push(...page.comments.map((c) => commentOut(c, emails)));
      pageToken = page.nextPageToken;
    } while (pageToken);
    if (json(cmd)) return print({ comments });
    process.stdout.write(
      table(
        ["WHEN", "WHO", "COMMENT"],
        comments.map((c) => [localDateTime(c.createTime, zone), c.authorEmail ?? c.authorId, c.body.replace(/\s+/g, " ")]),
      ),
    );
    process.stdout.write(comments.length === 0 ? `No comments on ${id.slice(0, 8)}  ${task!.title}\n` : "");
  });

program
  .command("completion")
  .description(
    "print the shell completion script: `source <(taskmesh completion bash)` in ~/.bashrc, `taskmesh completion zsh > ~/.zfunc/_taskmesh`, `taskmesh completion fish > ~/.config/fish/completions/taskmesh.fish`",
  )
  .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
  .action((shell: Shell) => void process.stdout.write(completionScript(program, shell)));

program
  .command("mcp")
  .description("serve the MCP tools over stdio for a desktop agent (Claude Desktop and the like), through the gateway with your login")
  .action(async () => {
    // Loaded here only: the MCP SDK is most of what the other commands would wait for at start.
    const { bridgeStdio } = await import("./mcp-bridge.js");
    await bridgeStdio(requireLogin(), (line) => process.stderr.write(`${line}\n`));
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A full id, or the task among `among` whose id starts with `prefix` (the 8 characters `ls` shows). */
async function resolveId(tasks: Client<typeof TaskService>, prefix: string, among = "status:open"): Promise<string> {
  if (UUID.test(prefix)) return prefix;
  if (!/^[0-9a-f-]{4,35}$/i.test(prefix)) throw new UsageError(`"${prefix}" is not a task id: \`taskmesh ls\` shows them (the first 8 characters are enough)`);
  const found: Task[] = [];
  let pageToken = "";
  do {
    const page = await tasks.listTasks({ query: among, pageSize: 500, pageToken });
    found.push(...page.tasks.filter((t) => t.id.startsWith(prefix.toLowerCase())));
    pageToken = page.nextPageToken;
  } while (pageToken && found.length < 2);
  if (found.length === 0) throw new UsageError(`no ${among === "status:open" ? "open " : ""}task has an id starting with ${prefix}: \`taskmesh ls\` lists them`);
  if (found.length > 1) throw new UsageError(`${prefix} starts the ids of several tasks (${found.map((t) => `"${t.title}"`).join(", ")}): give more of it`);
  return found[0]!.id;
}

/** A deleted task's id from the start of it, found in the recent history (no list shows the task any more). */
async function deletedTaskId(audit: Client<typeof AuditService>, prefix: string): Promise<string | undefined> {
  const { entries } = await audit.listActivity({ pageSize: 100 });
  const ids = new Set(entries.filter((e) => e.kind === ActivityKind.TASK_DELETED && e.taskId.startsWith(prefix.toLowerCase())).map((e) => e.taskId));
  return ids.size === 1 ? [...ids][0] : undefined;
}

function positiveVersion(value: string): bigint {
  if (!/^[1-9]\d{0,17}$/.test(value)) throw new InvalidArgumentError("a task's version, a whole number from 1 (`taskmesh ls --json` shows it)");
  return BigInt(value);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError("a whole number from 1 to 500");
  return n;
}

try {
  await program.parseAsync();
} catch (err) {
  const message = err instanceof UsageError ? err.message : explain(err, target ?? "the gateway");
  process.stderr.write(`taskmesh: ${message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
