import { hasTerm, isNamedMember, nameKey, namesMatch, PRIORITY_RANK, STATUS_CODE, type FilterNode } from "./ast.js";
import { dayRange, todayIn, zoneMidnights } from "./dates.js";

export interface SqlContext {
  /** The instant relative days and `overdue` are evaluated at. */
  now: Date;
  /** The user's IANA zone: `today` is a calendar day there. */
  timeZone: string;
  /** Renders parameter number `index`: `(i) => "$" + i` for PostgreSQL, `() => "?"` for others. */
  placeholder: (index: number) => string;
  /** Number of the first parameter (default 1), for appending to a statement that has some already. */
  firstIndex?: number;
  /** The caller (`assignee:me`, `assigner:me`). */
  userId?: string;
  /** The projects and sections the caller may see, for `project:` and `section:` (by name); `is:shared` (a project of more than one member). */
  projects?: readonly { id: string; name: string; memberCount?: number }[];
  sections?: readonly { id: string; name: string }[];
  /** The members of those projects, for `assignee:name` and `assigner:name` (by e-mail). */
  members?: readonly { userId: string; email: string }[];
}

/**
 * Config of to_tsquery; must be the one the `search` column's to_tsvector uses: English stemming
 * after unaccent (the tasks migrations).
 */
const TS_CONFIG = "tasks.folded";
/** Title and notes folded by tasks.search_folded (no accents, lower case), trigram-indexed (the tasks migrations). */
const TEXT = "search_text";
/**
 * Folds a pattern as TEXT is folded, so that it is matched with LIKE (ILIKE lowers each row it tests,
 * five times LIKE's cost). tasks.search_folded of a value is evaluated once, while the statement is
 * planned (or once per call as a sub-select); the same expression written out here would be
 * evaluated again for each row tested.
 */
const fold = (pattern: string) => `tasks.search_folded(${pattern})`;
/**
 * Symbols that make a term what it is: as words, "C++" is "c" (every word starting with c), "100%"
 * is 100 (and 1000), "a<b" is a and b. A term with one is matched only as written; other
 * punctuation ("e-mail", "it's", "v1.2", "done?") joins or ends words and the words still match.
 */
const LITERAL_SYMBOL = /[+#%&@*=<>~^|\\\p{Sc}\p{Sm}]/u;
/** A task's tags as one text, each between two TAG_SEPARATORs, trigram-indexed (the tasks migrations). */
const TAG_TEXT = "tasks.tag_text(tags)";
const TAG_SEPARATOR = "\x1f";
/**
 * A task's due as the list orders it (tasks_by_due): tasks without one last. A due range's outer
 * bounds are written on it, so that they bound a scan of that index whatever the page's order.
 */
const NO_DUE = "coalesce(due_at, 'infinity'::timestamptz)";
const DATE_COLUMNS = { due: "due_at", created: "created_at", updated: "updated_at", completed: "completed_at" } as const;

/**
 * Compiles to a parenthesised boolean SQL expression over the columns of `tasks`. Every value the
 * user typed is a parameter (user text never becomes SQL): strings, arrays and JS `Date` objects for
 * timestamptz bounds (node-postgres sends them as instants). Priority and status codes, the
 * language's own small integers, are written in: a filter of them alone has no parameters, so its
 * statement can be planned once, and a generic plan still sees `status = 1` (the open tasks'
 * index). Throws RangeError for an unknown time zone.
 */
export function compileFilterToSql(node: FilterNode, ctx: SqlContext): CompiledFilter {
  // Fails fast on a bad zone or now, even when no term needs them.
  const today = todayIn(ctx.now, ctx.timeZone).toString();
  const params: unknown[] = [];
  const columns = new Set<string>();
  const first = ctx.firstIndex ?? 1;
  const p = (value: unknown): string => {
    params.push(value);
    return ctx.placeholder(first + params.length - 1);
  };
  let wordParams = 0;
  const word = (value: string): string => {
    wordParams++;
    return p(value);
  };

  const compile = (n: FilterNode): string => {
    switch (n.kind) {
      case "all":
        return "TRUE";
      case "and":
      case "or":
        return `(${n.children.map(compile).join(n.kind === "and" ? " AND " : " OR ")})`;
      case "not":
        // Comparisons on the nullable due_at are NULL (not false) for tasks without a due; NOT must
        // still select those, so a nullable operand is negated with IS NOT TRUE.
        return nullable(n.child) ? `(${compile(n.child)} IS NOT TRUE)` : `(NOT ${compile(n.child)})`;
      case "text": {
        columns.add("search").add("search_text");
        const pattern = `%${escapeLike(n.value)}%`;
        if (LITERAL_SYMBOL.test(n.value)) {
          // The symbols' neighbourhoods in the search column find the tasks that may contain the
          // term (tasks.symbol_query); a term with none to look up ("+") is the substring alone.
          // Both calls are evaluated while planning, and the test folds away: such a statement is
          // planned for its values.
          const near = `(tasks.symbol_query(${p(n.value)}) IS NULL OR search @@ tasks.symbol_query(${p(n.value)}))`;
          return `(${near} AND ${TEXT} LIKE ${fold(p(pattern))})`;
        }
        // The words' query and pattern as values of their own (sub-selects: evaluated once per
        // statement, not per row tested, even in a plan made for any words), so that a search's
        // statement can be planned once for every search (see onlyWords).
        const words = n.value.match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
        const tsquery = words.length === 0 ? null : n.phrase ? words.join(" <-> ") : words.map((w) => `${w}:*`).join(" & ");
        const fts = tsquery === null ? "" : `search @@ (SELECT to_tsquery('${TS_CONFIG}', ${word(tsquery)})) OR `;
        return `(${fts}${TEXT} LIKE (SELECT ${fold(word(pattern))}))`;
      }
      case "tag":
        columns.add("tags");
        // `= '{}'`, an operator of the tags' GIN index: found through it when untagged tasks are few.
        if (n.tag === null) return "(tags = '{}'::text[])";
        if (n.tag.includes("*")) {
          // The tags' text finds, through its trigram index, the tasks that may have a matching tag
          // (a `*` there may also span two tags); each of those tags is then compared on its own.
          const like = escapeLike(n.tag).replaceAll("*", "%");
          return `(${TAG_TEXT} LIKE ${p(`%${TAG_SEPARATOR}${like}${TAG_SEPARATOR}%`)} AND EXISTS (SELECT 1 FROM unnest(tags) AS g(tag) WHERE g.tag LIKE ${p(like)}))`;
        }
        return `(tags @> ARRAY[${p(n.tag)}]::text[])`;
      case "priority":
        columns.add("priority");
        return `(priority ${n.op} ${PRIORITY_RANK[n.level]})`;
      case "status":
        if (n.status === "all") return "TRUE";
        columns.add("status");
        return `(status = ${STATUS_CODE[n.status]})`;
      case "due": {
        columns.add("due_at");
        // No due is the last key of tasks_by_due, written as that index's expression: a page of them
        // by due starts there instead of walking every task with a due first.
        if (n.state === "none") return `(${NO_DUE} = 'infinity'::timestamptz)`;
        if (n.state === "any") return "(due_at IS NOT NULL)";
        if (n.state === "all-day") {
          columns.add("due_date");
          // due_at is set too: said, it lets the partial index of dues serve the page.
          return "(due_at IS NOT NULL AND due_date IS NOT NULL)";
        }
        columns.add("status").add("due_date");
        // An all-day task is overdue once its date is past where the viewer is, not at its midnight.
        const bound = later(ctx.now, dayBefore(zoneMidnights(today).until));
        return `(${NO_DUE} < ${p(bound)} AND status = ${STATUS_CODE.open} AND ${byKind(`due_at < ${p(ctx.now)}`, `due_date < ${p(today)}`)})`;
      }
      case "project":
      case "section": {
        const column = `${n.kind}_id`;
        columns.add(column);
        const ids = (n.kind === "project" ? ctx.projects : ctx.sections)?.filter((x) => namesMatch(nameKey(x.name), n.name)).map((x) => x.id) ?? [];
        return `(${column} = ANY(${p(ids)}::uuid[]))`;
      }
      case "assignee":
      case "assigner": {
        const column = n.kind === "assignee" ? "assignee_id" : "assigned_by";
        columns.add(column);
        if (n.who === "none") return `(${column} IS NULL)`;
        if (n.who === "me") return `(${column} = ${p(ctx.userId ?? "")})`;
        return `(${column} = ANY(${p([...new Set(ctx.members?.filter((m) => isNamedMember(m.email, n.who)).map((m) => m.userId))])}::text[]))`;
      }
      case "is": {
        if (n.what === "shared") {
          columns.add("project_id");
          const shared = ctx.projects?.filter((x) => (x.memberCount ?? 1) > 1).map((x) => x.id) ?? [];
          return `(project_id = ANY(${p(shared)}::uuid[]))`;
        }
        const column = n.what === "recurring" ? "recurrence" : "parent_id";
        columns.add(column);
        return `(${column} IS NOT NULL)`;
      }
      case "moment": {
        const column = DATE_COLUMNS[n.field];
        columns.add(column);
        const at = new Date(ctx.now.getTime() + n.hours * 3_600_000);
        if (n.field !== "due") return n.op === "<" ? `(${column} < ${p(at)})` : `(${column} >= ${p(at)})`;
        columns.add("due_date");
        // An all-day task is due until its date ends where the viewer is: before the instant when
        // its date is before the instant's date. The due_at bounds are as for a day's (see below).
        const date = todayIn(at, ctx.timeZone).toString();
        const midnights = zoneMidnights(date);
        return n.op === "<"
          ? `(${NO_DUE} < ${p(later(at, dayBefore(midnights.until)))} AND ${byKind(`due_at < ${p(at)}`, `due_date < ${p(date)}`)})`
          : `(${NO_DUE} >= ${p(earlier(at, midnights.from))} AND ${byKind(`due_at >= ${p(at)}`, `due_date >= ${p(date)}`)})`;
      }
      case "date": {
        const column = DATE_COLUMNS[n.field];
        columns.add(column);
        const { start, end, firstDate, lastDate } = dayRange(n.day, ctx.now, ctx.timeZone);
        if (n.field === "due") {
          columns.add("due_date");
          // An all-day task is due on its date wherever the viewer is: its due_at (its midnight in
          // its own zone) may be in the viewer's previous or next day. Its date is compared instead,
          // inside due_at bounds that also hold every zone's midnight of the dates it may be, which
          // is what an index of dues looks up. An all-day due before a date D has due_at before the
          // latest midnight of D's previous day.
          const first = zoneMidnights(firstDate);
          const last = zoneMidnights(lastDate);
          switch (n.op) {
            case "=":
              return `(${NO_DUE} >= ${p(earlier(start, first.from))} AND ${NO_DUE} < ${p(later(end, last.until))} AND ${byKind(`due_at >= ${p(start)} AND due_at < ${p(end)}`, `due_date >= ${p(firstDate)} AND due_date <= ${p(lastDate)}`)})`;
            case "<":
              return `(${NO_DUE} < ${p(later(start, dayBefore(first.until)))} AND ${byKind(`due_at < ${p(start)}`, `due_date < ${p(firstDate)}`)})`;
            case "<=":
              return `(${NO_DUE} < ${p(later(end, last.until))} AND ${byKind(`due_at < ${p(end)}`, `due_date <= ${p(lastDate)}`)})`;
            case ">":
              return `(${NO_DUE} >= ${p(earlier(end, dayAfter(last.from)))} AND ${byKind(`due_at >= ${p(end)}`, `due_date > ${p(lastDate)}`)})`;
            case ">=":
              return `(${NO_DUE} >= ${p(earlier(start, first.from))} AND ${byKind(`due_at >= ${p(start)}`, `due_date >= ${p(firstDate)}`)})`;
          }
        }
        switch (n.op) {
          case "=":
            return `(${column} >= ${p(start)} AND ${column} < ${p(end)})`;
          case "<":
            return `(${column} < ${p(start)})`;
          case "<=":
            return `(${column} < ${p(end)})`;
          case ">":
            return `(${column} >= ${p(end)})`;
          case ">=":
            return `(${column} >= ${p(start)})`;
        }
      }
    }
  };
  const sql = compile(node);
  return {
    sql,
    params,
    unestimated: hasTerm(node, (term) => term.kind === "text" || (term.kind === "tag" && term.tag === null)),
    onlyWords: params.length > 0 && wordParams === params.length,
    columns: [...columns].sort(),
    impliesDue: impliesDue(node),
  };
}

export interface CompiledFilter {
  sql: string;
  params: unknown[];
  /**
   * The filter has a term whose share of one user's tasks PostgreSQL cannot estimate: a word (a
   * substring match has hardly any statistics) or no tags (its statistics are every user's
   * together, and users differ most there: some never tag, others always do). The caller should not
   * let the planner bet a LIMIT on it: see the task store's list statement.
   */
  unestimated: boolean;
  /**
   * Every parameter is a searched word's (no tag, date, name or symbol): the filter's SQL reads
   * each one once per statement, so one plan serves any words.
   */
  onlyWords: boolean;
  /** The columns of `tasks` the SQL reads, sorted. */
  columns: string[];
  /** Every task the filter selects has a due (due_at is not null): an index of dues alone serves it. */
  impliesDue: boolean;
}

function impliesDue(n: FilterNode): boolean {
  switch (n.kind) {
    case "and":
      return n.children.some(impliesDue);
    case "or":
      return n.children.every(impliesDue);
    case "date":
    case "moment":
      // Every comparison with due_at is NULL, so false, for a task without a due.
      return n.field === "due";
    case "due":
      return n.state !== "none";
    default:
      return false;
  }
}

/** Whether the compiled expression can be NULL (comparisons on due_at, completed_at and the nullable ids). */
function nullable(n: FilterNode): boolean {
  switch (n.kind) {
    case "project":
    case "section":
      return true;
    case "assignee":
    case "assigner":
      return n.who !== "none";
    case "is":
      return n.what === "shared";
    case "and":
    case "or":
      return n.children.some(nullable);
    case "date":
    case "moment":
      return n.field === "due" || n.field === "completed";
    case "due":
      return n.state === "overdue";
    default:
      return false;
  }
}

const earlier = (a: Date, b: Date) => (a < b ? a : b);
const later = (a: Date, b: Date) => (a > b ? a : b);
/** The same instant a day earlier (later): the bound of the previous (next) date's midnights. */
const dayBefore = (instant: Date) => new Date(instant.getTime() - 86_400_000);
const dayAfter = (instant: Date) => new Date(instant.getTime() + 86_400_000);

/** A test of a task's due: `timed` for a due time, `allDay` for a due date (due_date is set). */
function byKind(timed: string, allDay: string): string {
  return `CASE WHEN due_date IS NULL THEN ${timed} ELSE ${allDay} END`;
}

/** LIKE pattern text matching `value` literally (backslash is PostgreSQL's default LIKE escape). */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&");
}
