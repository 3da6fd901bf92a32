import type { Client } from "@connectrpc/connect";
import { taskOut, type TaskOutput } from "@taskmesh/mcp/shapes";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { parseQuickAdd, pickProject, resolveQuickAdd, toCreateRequest } from "@taskmesh/quick-add";
import { Command, InvalidArgumentError } from "commander";
import { clients, explain, localTimeZone } from "./api.js";
import { loadLogin, saveLogin, type Login } from "./config.js";

/** A mistake the user fixes as the message says (exit status 2, like a usage error). */
class UsageError extends Error {}

const program = new Command("taskmesh")
  .description("taskmesh from the terminal: add with a quick-add line, list with a filter, complete; `taskmesh mcp` for desktop agents")
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
  if (!login) throw new UsageError("not logged in: create an API token (README, \"Calling the API\") and run `taskmesh login --url http://localhost:8080 --token <tm_pat_…>`");
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
    // `#name` is the project when one has that name, as in the web app.
    const resolved = pickProject(read, projects.filter((p) => !p.archived));
    if (!resolved.title) throw new UsageError("the line has no title left once its dates, tags and priority are read: add a few words saying what to do");
    const { task } = await api.tasks.createTask(toCreateRequest(resolved, zone));
    const out = taskOut(task!);
    if (json(cmd)) return print({ task: out, ...(resolved.recurrenceSummary ? { recurrenceSummary: resolved.recurrenceSummary } : {}) });
    process.stdout.write(
      `Added ${row(out, zone).join("  ").replace(/\s+$/, "")}${resolved.project ? `  in ${resolved.project.name}` : ""}${resolved.recurrenceSummary ? `  (repeats ${resolved.recurrenceSummary})` : ""}\n`,
    );
    if (resolved.recurrenceError) process.stderr.write(`note: "${resolved.recurrenceError}": the repeat phrase was not understood and stayed in the title\n`);
  });

program
  .command("ls")
  .description("list tasks matching a filter (default status:open), e.g. taskmesh ls '#home !high due:next-7-days'")
  .argument("[filter...]", "the filter language (packages/filter/README.md)")
  .option("-n, --limit <n>", "at most this many tasks (1–500)", positiveInt, 50)
  .option("-s, --sort <order>", "due, priority, created, updated or title (add ' desc' to reverse)", "due")
  .action(async (words: string[], opts: { limit: number; sort: string }, cmd: Command) => {
    const api = clients(requireLogin());
    const query = words.length > 0 ? words.join(" ") : "status:open";
    const page = await api.tasks.listTasks({ query, orderBy: opts.sort, pageSize: opts.limit, explain: true });
    const tasks = page.tasks.map(taskOut);
    const explanation = { normalizedQuery: page.explanation?.normalizedQuery ?? "", summary: page.explanation?.summary ?? "" };
    if (json(cmd)) return print({ tasks, explanation, ...(page.nextPageToken ? { more: true } : {}) });
    const zone = localTimeZone();
    process.stdout.write(table(["ID", "DUE", "PRI", "TITLE", "TAGS"], tasks.map((t) => row(t, zone))));
    const more = page.nextPageToken ? ` (more: --limit ${Math.min(500, opts.limit * 2)})` : "";
    process.stdout.write(`${tasks.length === 0 ? "No tasks" : `${tasks.length} task${tasks.length === 1 ? "" : "s"}`} where ${explanation.summary || "any"}${more}\n`);
  });

program
  .command("done")
  .description("complete tasks, by the id `taskmesh ls` shows (a unique start of it is enough)")
  .argument("<id...>")
  .action(async (ids: string[], _opts: unknown, cmd: Command) => {
    const api = clients(requireLogin());
    const done: TaskOutput[] = [];
    for (const id of ids) done.push(taskOut((await api.tasks.completeTask({ id: await resolveId(api.tasks, id) })).task!));
    if (json(cmd)) return print({ tasks: done });
    for (const t of done) process.stdout.write(`Completed ${t.id.slice(0, 8)}  ${t.title}\n`);
  });

program
  .command("mcp")
  .description("serve the MCP tools over stdio for a desktop agent (Claude Desktop and the like), through the gateway with your login")
  .action(async () => {
    // Loaded here only: the MCP SDK is most of what the other commands would wait for at start.
    const { bridgeStdio } = await import("./mcp-bridge.js");
    await bridgeStdio(requireLogin(), (line) => process.stderr.write(`${line}\n`));
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A full id, or the open task whose id starts with `prefix` (the 8 characters `ls` shows). */
async function resolveId(tasks: Client<typeof TaskService>, prefix: string): Promise<string> {
  if (UUID.test(prefix)) return prefix;
  if (!/^[0-9a-f-]{4,35}$/i.test(prefix)) throw new UsageError(`"${prefix}" is not a task id: \`taskmesh ls\` shows them (the first 8 characters are enough)`);
  const found: Task[] = [];
  let pageToken = "";
  do {
    const page = await tasks.listTasks({ query: "status:open", pageSize: 500, pageToken });
    found.push(...page.tasks.filter((t) => t.id.startsWith(prefix.toLowerCase())));
    pageToken = page.nextPageToken;
  } while (pageToken && found.length < 2);
  if (found.length === 0) throw new UsageError(`no open task has an id starting with ${prefix}: \`taskmesh ls\` lists them`);
  if (found.length > 1) throw new UsageError(`${prefix} starts the ids of several tasks (${found.map((t) => `"${t.title}"`).join(", ")}): give more of it`);
  return found[0]!.id;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError("a whole number from 1 to 500");
  return n;
}

function row(t: TaskOutput, zone: string): string[] {
  const due = t.dueDate ?? (t.dueTime ? localDateTime(t.dueTime, zone) : "");
  const priority = t.priority === "none" ? "" : `!${t.priority}`;
  return [t.id.slice(0, 8), due, priority, `${t.status === "completed" ? "✓ " : ""}${t.title}${t.recurrence ? " ↻" : ""}`, t.tags.map((tag) => `#${tag}`).join(" ")];
}

function localDateTime(iso: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c + " ".repeat(widths[i]! - [...c].length)).join("  ").trimEnd()}\n`;
  return [header, ...rows].map(line).join("");
}

try {
  await program.parseAsync();
} catch (err) {
  const message = err instanceof UsageError ? err.message : explain(err, target ?? "the gateway");
  process.stderr.write(`taskmesh: ${message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
