import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { CompiledFilter } from "@taskmesh/filter";

/**
 * ListTasks ordering and keyset paging. Every order is a tuple of key expressions compared in one
 * direction, so the next page is `(k1, k2, …, id) > (last values)`: one index range scan per page
 * (see the tasks_by_* indexes in the migration), however deep the page.
 */
interface OrderKey {
  sql: string;
  /** SQL cast of the page-token value when fed back as a parameter. */
  type: "timestamptz" | "int" | "text" | "uuid";
  /** The column it is computed from. */
  column: string;
}

export interface ListOrder {
  keys: OrderKey[];
  descending: boolean;
  /** An index has exactly these keys (read forwards or backwards), so a page can stop early. */
  indexed: boolean;
  /** Canonical text, part of the page-token fingerprint. */
  canonical: string;
}

const DUE: OrderKey = { sql: `coalesce(due_at, 'infinity'::timestamptz)`, type: "timestamptz", column: "due_at" };
const DUE_LAST_DESC: OrderKey = { sql: `coalesce(due_at, '-infinity'::timestamptz)`, type: "timestamptz", column: "due_at" };
const ID: OrderKey = { sql: "id", type: "uuid", column: "id" };

type Keys = { keys: OrderKey[]; descending: boolean; indexed: boolean };
const ORDERS: Record<string, { defaultDesc: boolean; keys(desc: boolean): Keys }> = {
  // Tasks without a due come last in both directions.
  due: { defaultDesc: false, keys: (desc) => ({ keys: [desc ? DUE_LAST_DESC : DUE, ID], descending: desc, indexed: !desc }) },
  // Within one priority the soonest due first: rank is flipped instead of the direction.
  priority: {
    defaultDesc: true,
    keys: (desc) => ({ keys: [{ sql: desc ? "(5 - priority)" : "priority", type: "int", column: "priority" }, DUE, ID], descending: false, indexed: desc }),
  },
  created: { defaultDesc: true, keys: (desc) => ({ keys: [{ sql: "created_at", type: "timestamptz", column: "created_at" }, ID], descending: desc, indexed: true }) },
  updated: { defaultDesc: true, keys: (desc) => ({ keys: [{ sql: "updated_at", type: "timestamptz", column: "updated_at" }, ID], descending: desc, indexed: true }) },
  // Case and accents aside (title_key: "Épicerie" among the E's).
  title: { defaultDesc: false, keys: (desc) => ({ keys: [{ sql: "title_key", type: "text", column: "title_key" }, ID], descending: desc, indexed: true }) },
  // Task.order_key: siblings in the order their users gave them (see order-keys.ts).
  manual: { defaultDesc: false, keys: (desc) => ({ keys: [{ sql: "order_key", type: "text", column: "order_key" }, ID], descending: desc, indexed: true }) },
};

export class ListRequestError extends Error {
  constructor(
    readonly field: "order_by" | "page_token",
    message: string,
  ) {
    super(message);
  }
}

export function parseOrderBy(orderBy: string): ListOrder {
  const text = orderBy.trim().toLowerCase();
  const match = /^([a-z_]+)(?:\s+(asc|desc))?$/.exec(text || "due");
  const field = match?.[1]?.replace(/_time$/, "");
  const spec = field && Object.hasOwn(ORDERS, field) ? ORDERS[field] : undefined;
  if (!match || !spec) {
    throw new ListRequestError("order_by", `cannot order by "${orderBy}": use one of ${Object.keys(ORDERS).join(", ")}, optionally followed by " asc" or " desc"`);
  }
  const desc = match[2] ? match[2] === "desc" : spec.defaultDesc;
  return { ...spec.keys(desc), canonical: `${field} ${desc ? "desc" : "asc"}` };
}

/**
 * Columns to select so the last row of a page can become the next token. Timestamps travel as
 * Postgres text: exact to the microsecond (a JS Date is not) and ±infinity survive every driver.
 */
export function keySelect(order: ListOrder): string {
  return order.keys.map((k, i) => `${k.sql}${k.type === "timestamptz" ? "::text" : ""} AS "k${i}"`).join(", ");
}

export function orderBySql(order: ListOrder): string {
  const dir = order.descending ? "DESC" : "ASC";
  return order.keys.map((k) => `${k.sql} ${dir}`).join(", ");
}

/** Fingerprint tying a token to its query and order, so a token is never applied to another list. */
export function fingerprint(query: string, order: ListOrder): string {
  return createHash("sha256").update(`${query}\u0000${order.canonical}`).digest("base64url").slice(0, 12);
}

const MAC_BYTES = 16;

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}

/**
 * `<payload>.<mac>`: the payload (fingerprint and the last row's keys) signed with the service's
 * key (HMAC-SHA-256), so a client can only pass back values the service produced; they go into SQL
 * as typed parameters and a forged one would fail there.
 */
export function encodePageToken(order: ListOrder, fp: string, lastRow: Record<string, unknown>, key: Uint8Array): string {
  const values = order.keys.map((_, i) => lastRow[`k${i}`]);
  const payload = Buffer.from(JSON.stringify({ f: fp, v: values })).toString("base64url");
  return `${payload}.${mac(key, payload).toString("base64url")}`;
}

/** The `(keys) > (values)` condition for the page after `token`. */
export function afterToken(order: ListOrder, fp: string, token: string, key: Uint8Array, placeholder: (value: unknown, type: string) => string): string {
  const notIssued = () => new ListRequestError("page_token", "page_token is not one this service issued: pass next_page_token unchanged");
  const [payload, signature, ...rest] = token.split(".");
  if (!payload || !signature || rest.length > 0) throw notIssued();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key, payload))) throw notIssued();
  let decoded: { f?: unknown; v?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof decoded;
  } catch {
    throw notIssued();
  }
  if (typeof decoded !== "object" || decoded === null) throw notIssued();
  if (decoded.f !== fp || !Array.isArray(decoded.v) || decoded.v.length !== order.keys.length) {
    throw new ListRequestError("page_token", "page_token belongs to another query or order_by: start again without a page_token");
  }
  const values = decoded.v as unknown[];
  for (const [i, k] of order.keys.entries()) {
    const v = values[i];
    const ok = k.type === "int" ? Number.isInteger(v) : typeof v === "string" && v.length <= 600;
    if (!ok) throw new ListRequestError("page_token", "page_token is damaged: pass next_page_token unchanged");
  }
  const lhs = order.keys.map((k) => k.sql).join(", ");
  const rhs = order.keys.map((k, i) => placeholder(values[i], k.type)).join(", ");
  return `(${lhs}) ${order.descending ? "<" : ">"} (${rhs})`;
}

/** One page of ListTasks: the pieces the statement is built from. `$1` is the user id. */
export interface ListQuery {
  /**
   * Which tasks the caller sees: ["user_id = $1"] (their own partition), then one condition per
   * project shared with them ("project_id = $2::uuid", …): disjoint sets of rows.
   */
  scopes: string[];
  /** The compiled filter: boolean SQL over the columns of tasks.tasks, and what it reads. */
  filter: Pick<CompiledFilter, "sql" | "params" | "unestimated" | "onlyWords" | "columns" | "impliesDue">;
  /** `afterToken`'s condition, for a page after the first. */
  after: string | null;
  /** Values of `$2`, `$3`, … */
  params: unknown[];
  order: ListOrder;
  limit: number;
}

/**
 * How many rows, in list order, a text search reads before it stops betting that the page fills
 * from the front of the list. Reading them costs about 1 µs each (the order's index and the
 * table); a word too rare to fill a page from them then costs one pass over its matches (about
 * 3 µs each). The worst case is a word just too rare to fill the page: WINDOW reads plus
 * limit × tasks / WINDOW matches, least at WINDOW ≈ √(3 × 51 × tasks), about 3,900 for a user with
 * 100,000 tasks; a little less keeps the absent word cheaper for the many shorter lists.
 */
export const TEXT_SEARCH_WINDOW = 3000;

/** Every column of tasks.tasks, for the rows a search walks (the migrations add them; a test compares). */
export const TABLE_COLUMNS =
  "id, user_id, title, notes, status, priority, tags, due_time, due_date, due_at, time_zone, recurrence, reminders, series_id, request_id, version, field_versions, created_at, updated_at, completed_at, project_id, section_id, assignee_id, parent_id, order_key, comment_count, title_key, search, search_text, assigned_by";

/**
 * How many matches a window must hold, short of a page, for the search to walk on from the last
 * of them (up to twice the window) rather than take every match through the text indexes. The window
 * tells the density: with `found` matches the rest of the page is expected within
 * (limit − found) × window / found more rows, while the user's tasks hold about
 * found × tasks / window matches to sort; from 25 on, at 100,000 tasks, walking on is cheaper.
 */
export const TEXT_SEARCH_CONTINUE = 25;

/** What tasks_due_covering holds besides user_id (see the tasks migrations). */
const DUE_INDEX_COLUMNS = new Set(["due_at", "priority", "status", "tags", "id", "due_date"]);

/**
 * The page's statement. When the filter selects only tasks with a due and reads nothing the
 * covering index of dues lacks (a due range with tags, priority, status), the page's ids are found
 * in that index alone, walked in list order from the range's start (the filter bounds the list's
 * due), and only the page's rows are read from the table. Without a text term or
 * `tag:none`: the filter, the order and a LIMIT, as the planner sees fit.
 *
 * With a text term or `tag:none`, the planner's choice is a bet it cannot win: to fill a page it
 * either walks the order's index and tests every row (cheap when matches are common, a scan of all
 * the user's tasks when they are rare or absent), or fetches every match through the text or tag
 * indexes and sorts them (cheap when rare, every match when common), and which one is right
 * depends on how many of this user's tasks match, which its per-table statistics cannot tell (a
 * substring match has hardly any; untagged tasks are counted over every user, and users differ
 * most there). So the statement decides from what it finds, each step bounded:
 *
 * - `head` walks the first TEXT_SEARCH_WINDOW rows of the list (from the page token on) and keeps
 *   the matches. When they fill the page, they are the answer and nothing else runs.
 * - `cont`, when the window held at least TEXT_SEARCH_CONTINUE matches, walks on from the last of
 *   them for up to twice the window; if the page fills, head's and cont's matches are the answer.
 * - Otherwise `hits` takes every match after the page token by whichever plan is cheapest in total
 *   (no LIMIT to bet on: the text or tags' indexes for rare matches), `top` keeps the page's ids in
 *   order, and only those rows are read in full.
 *
 * Over several scopes (the caller's tasks and shared projects) each walk takes each scope's first
 * rows by its own index, then the first of those.
 *
 * Every branch returns the filter's first `limit` rows in list order, exactly as the plain
 * statement does. The rows carry the sort keys ("o0", …) beside the task's columns.
 */
export function listStatement(q: ListQuery, columns: string): string {
  const several = q.scopes.length > 1;
  const visible = several ? `(${q.scopes.join(" OR ")})` : q.scopes[0]!;
  const scope = q.after ? `${visible} AND ${q.after}` : visible;
  const keys = keySelect(q.order);
  const order = orderBySql(q.order);
  const limit = Number(q.limit);
  const filter = q.filter.sql;
  // A due range bounds the scan of the covering index whatever else the filter asks. The index
  // holds only tasks with a due: the statement says so, or the planner cannot use it.
  const covered = !several && q.filter.impliesDue && [...q.filter.columns, ...q.order.keys.map((k) => k.column)].every((c) => DUE_INDEX_COLUMNS.has(c));
  if (covered) {
    return `SELECT ${columns}, ${keys} FROM tasks.tasks
             WHERE ${visible} AND id IN (SELECT id FROM tasks.tasks WHERE ${scope} AND due_at IS NOT NULL AND ${filter} ORDER BY ${order} LIMIT ${limit})
             ORDER BY ${order}`;
  }
  if (!q.filter.unestimated || !q.order.indexed) {
    if (several) return mergedStatement(q, columns);
    return `SELECT ${columns}, ${keys} FROM tasks.tasks WHERE ${scope} AND ${filter} ORDER BY ${order} LIMIT ${limit}`;
  }
  const W = TEXT_SEARCH_WINDOW;
  // The sort keys as columns ("o0", …): ordering by them keeps the walk's order visible to the
  // planner through the subqueries (so LIMIT stops it early), and sorts the final union.
  const sortColumns = q.order.keys.map((k, i) => `${k.sql} AS "o${i}"`).join(", ");
  const dir = q.order.descending ? "DESC" : "ASC";
  const back = q.order.descending ? "ASC" : "DESC";
  const bySortColumns = q.order.keys.map((_, i) => `"o${i}" ${dir}`).join(", ");
  const sortNames = q.order.keys.map((_, i) => `"o${i}"`).join(", ");
  // Rows after head's last match, in list order.
  const lastMatch = `(SELECT ${sortNames} FROM head ORDER BY ${q.order.keys.map((_, i) => `"o${i}" ${back}`).join(", ")} LIMIT 1)`;
  const afterLastMatch = `(${q.order.keys.map((k) => k.sql).join(", ")}) ${q.order.descending ? "<" : ">"} (${q.order.keys.map((_, i) => `(SELECT "o${i}" FROM ${lastMatch} AS last)`).join(", ")})`;
  // The first `n` rows of the list: each scope's first `n`, then the first `n` of those (the scopes
  // ORed would read every row of every scope and sort them).
  const firstRows = (where: string, n: number) => {
    const firstOf = (s: string) => `SELECT ${TABLE_COLUMNS}, ${sortColumns} FROM tasks.tasks WHERE ${s}${q.after ? ` AND ${q.after}` : ""}${where} ORDER BY ${order} LIMIT ${n}`;
    if (q.scopes.length === 1) return `(${firstOf(q.scopes[0]!)})`;
    return `(SELECT ${TABLE_COLUMNS}, ${sortNames} FROM (${q.scopes.map((s) => `(${firstOf(s)})`).join(" UNION ALL ")}) AS scopes ORDER BY ${bySortColumns} LIMIT ${n})`;
  };
  // Columns named, not `*`: the statement's columns cannot follow the table's, so it may be prepared.
  const headColumns = selectNames(`${columns}, ${keys}, ${sortNames}`).join(", ");
  return `WITH head AS MATERIALIZED (
      SELECT ${columns}, ${keys}, ${sortNames}
        FROM ${firstRows("", W)} AS tasks
       WHERE ${filter} ORDER BY ${bySortColumns} LIMIT ${limit}
    ), found AS (
      SELECT count(*) AS n FROM head
    ), cont AS MATERIALIZED (
      SELECT ${columns}, ${keys}, ${sortNames}
        FROM ${firstRows(` AND ${afterLastMatch}`, 2 * W)} AS tasks
       WHERE (SELECT n < ${limit} AND n >= ${TEXT_SEARCH_CONTINUE} FROM found) AND ${filter}
       ORDER BY ${bySortColumns} LIMIT (SELECT ${limit} - n FROM found)
    ), answer AS (
      SELECT n = ${limit} AS head,
             n < ${limit} AND n >= ${TEXT_SEARCH_CONTINUE} AND n + (SELECT count(*) FROM cont) = ${limit} AS cont
        FROM found
    ), hits AS MATERIALIZED (
      SELECT id, ${sortColumns} FROM tasks.tasks WHERE ${scope} AND ${filter}
    ), top AS (
      SELECT id FROM hits WHERE (SELECT NOT (head OR cont) FROM answer) ORDER BY ${bySortColumns} LIMIT ${limit}
    )
    SELECT ${headColumns} FROM head WHERE (SELECT head OR cont FROM answer)
    UNION ALL
    SELECT ${headColumns} FROM cont WHERE (SELECT cont FROM answer)
    UNION ALL
    SELECT ${columns}, ${keys}, ${sortColumns} FROM tasks.tasks WHERE ${visible} AND id IN (SELECT id FROM top)
    ORDER BY ${bySortColumns} LIMIT ${limit}`;
}

/**
 * The page of the caller's own tasks (`q.scopes` is `["user_id = $1"]`) and, in the same statement,
 * whether the caller is a member of a project someone else owns ("sharedWithCaller"): when so,
 * that project's tasks belong on the page too, the page is not computed (its subquery is gated on
 * the flag) and the caller must list the projects and run listStatement with their scopes. Saves
 * the round trip for the projects of the many callers with none shared, and reads the membership
 * and the tasks in one snapshot. When the flag is false and the page is empty, the one row has a
 * null id. The flag's row drives a nested loop over the page, so the rows keep the page's order.
 */
export function ownPageStatement(q: ListQuery, columns: string): string {
  // Named, not `page.*`: a statement whose columns cannot follow a table's is prepared (see plannedEachCall).
  const names = selectNames(`${columns}, ${keySelect(q.order)}`);
  return `SELECT member.shared AS "sharedWithCaller", ${names.map((n) => `page.${n}`).join(", ")}
            FROM (SELECT EXISTS (SELECT 1 FROM tasks.project_members m JOIN tasks.projects p ON p.id = m.project_id
                                  WHERE m.user_id = $1 AND p.owner_id <> $1) AS shared) AS member
            LEFT JOIN LATERAL (SELECT ${names.join(", ")} FROM (${listStatement(q, columns)}) AS own WHERE NOT member.shared) AS page ON TRUE`;
}

/**
 * The output names of a select list: each item's alias (`… AS "dueTime"`) or its bare column. Read
 * once per list: pages ask for a few lists only (the task's columns with each order's keys), and
 * reading one took 30–50 µs of every page.
 */
function selectNames(list: string): string[] {
  let names = namesOfList.get(list);
  if (!names) {
    names = readSelectNames(list);
    namesOfList.set(list, names);
  }
  return names;
}
const namesOfList = new Map<string, string[]>();

function readSelectNames(list: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (i === list.length || (c === "," && depth === 0)) {
      names.push(/("[^"]+"|\w+)\s*$/.exec(list.slice(start, i))![1]!);
      start = i + 1;
    }
  }
  return names;
}

/**
 * Whether the page's statement is planned for its values on every call: when the filter has
 * parameters (tags, dates, projects), how many of the user's tasks match them decides the best
 * plan, and so do the projects shared with the caller, each its own scope. One's own tasks under a
 * filter without parameters (status, priority, due:none, is:…) plan alike for every user and page
 * token, and so does a search of words alone in an indexed order (listStatement's steps are each
 * bounded, whichever the words): that statement is prepared, and planned once per session instead
 * of on every call (0.3–1 ms of PostgreSQL's time per page; parsing and planning a search took 7 ms).
 */
export function plannedEachCall(q: ListQuery): boolean {
  if (q.scopes.length > 1) return true;
  if (q.filter.params.length === 0) return false;
  // A search's own statement (listStatement) bounds each of its steps whatever the words'
  // frequencies; its words are read once per call, so a plan made for any words serves them all.
  return !(q.filter.onlyWords && q.order.indexed);
}

/**
 * A page for a member of shared projects: the first `limit` rows of each scope (their own tasks by
 * the order's index on user_id, each shared project's by its index on project_id when ordered by
 * due), merged. One statement with the scopes ORed would take every row of every scope and sort
 * them: 300 ms instead of 10 for a member of a 100,000-task project (bench/shared-projects.ts).
 */
function mergedStatement(q: ListQuery, columns: string): string {
  const keys = keySelect(q.order);
  const order = orderBySql(q.order);
  const limit = Number(q.limit);
  const sortColumns = q.order.keys.map((k, i) => `${k.sql} AS "o${i}"`).join(", ");
  const dir = q.order.descending ? "DESC" : "ASC";
  const branches = q.scopes.map(
    (scope) => `(SELECT ${columns}, ${keys}, ${sortColumns} FROM tasks.tasks WHERE ${scope}${q.after ? ` AND ${q.after}` : ""} AND ${q.filter.sql} ORDER BY ${order} LIMIT ${limit})`,
  );
  return `SELECT * FROM (${branches.join(" UNION ALL ")}) AS scopes ORDER BY ${q.order.keys.map((_, i) => `"o${i}" ${dir}`).join(", ")} LIMIT ${limit}`;
}
