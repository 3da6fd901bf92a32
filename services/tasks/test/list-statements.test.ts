// ListTasks' statements against a straightforward evaluation of the same filter, and the plans that
// keep a page's cost bounded. A text search is served by a statement of two parts (the first rows
// of the list, else every match through the text indexes; see listStatement): whichever part
// answers, pages must hold the same tasks in the same order as "every matching task, sorted", and
// paging must visit each exactly once.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { compileFilterToSql, parseFilter } from "@taskmesh/filter";
import { freshDatabase } from "@taskmesh/testing";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "../src/index.js";
import { listStatement, orderBySql, ownPageStatement, parseOrderBy, plannedEachCall, TABLE_COLUMNS, TEXT_SEARCH_WINDOW } from "../src/list-query.js";
import { TASK_COLUMNS } from "../src/task-row.js";

// Wednesday 2026-03-11 10:00 UTC; the seeded dues lie around it.
const NOW = new Date("2026-03-11T10:00:00Z");
const USER = "lister";
const OTHER = "neighbour";
// More than the window, so that a search can be answered by either part.
const ROWS = TEXT_SEARCH_WINDOW + 1000;
// Words planted at known places of the due order: g = 1 … ROWS is that order, except that tasks
// without a due (every tenth) come last and that dues come in threes (ties broken by id); the
// window therefore ends around g = WINDOW_END.
const WINDOW_END = Math.round((TEXT_SEARCH_WINDOW * 10) / 9);
const PLANTED = `
  CASE WHEN g % 5 = 0 THEN ' harbor' ELSE '' END ||
  CASE WHEN g % 71 = 0 THEN ' kettle' ELSE '' END ||
  CASE WHEN g % 263 = 0 THEN ' lantern' ELSE '' END ||
  CASE WHEN g <= 120 THEN ' early' ELSE '' END ||
  CASE WHEN g > ${WINDOW_END + 80} AND g % 7 = 0 THEN ' late' ELSE '' END ||
  CASE WHEN g BETWEEN ${WINDOW_END - 6} AND ${WINDOW_END + 7} THEN ' edge' ELSE '' END ||
  CASE WHEN g = ${ROWS - 3} THEN ' xylophone' ELSE '' END ||
  CASE WHEN g % 400 = 7 THEN ' libc++' ELSE '' END`;
// For the plans: enough tasks, over two years, with a vocabulary of a thousand words (as real
// notes have, so the planner's text statistics are those of real data).
const PLANNER = "planner";
const PLANNER_ROWS = 20_000;
// Someone with years of completed tasks and a few open ones.
const VETERAN = "veteran";

async function seed(sql: (text: string, params?: unknown[]) => Promise<unknown>): Promise<void> {
  // Dues in threes (ties broken by id), every tenth task without one; titles repeat (ties for the
  // title order); priorities, statuses, tags and times spread so that every order has ties.
  await sql(
    `INSERT INTO tasks.tasks (id, user_id, title, notes, status, priority, tags, due_at, due_time, time_zone, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Task ' || (g % 97) || ' w' || (g % 233), 'notes ' || g || ${PLANTED},
            CASE WHEN g % 3 = 0 THEN 2 ELSE 1 END, 1 + g % 4,
            CASE WHEN g % 4 = 0 THEN ARRAY['home'] WHEN g % 4 = 1 THEN ARRAY['work', 'home'] ELSE '{}' END,
            d, d, 'UTC', $2::timestamptz - (g % 50) * interval '1 hour', $2::timestamptz - (g % 70) * interval '1 minute'
       FROM generate_series(1, $3::int) AS g,
            LATERAL (SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE $2::timestamptz + (g / 3) * interval '10 minutes' - interval '3 days' END AS d) AS due`,
    [USER, NOW, ROWS],
  );
  // Another user with the same words: never in the lister's pages.
  await sql(
    `INSERT INTO tasks.tasks (id, user_id, title, notes, priority, tags, due_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Task ' || g, 'notes ' || ${PLANTED}, 1, '{home}', $2::timestamptz, $2, $2
       FROM generate_series(1, 400) AS g`,
    [OTHER, NOW],
  );
  await sql(
    `INSERT INTO tasks.tasks (id, user_id, title, notes, status, priority, tags, due_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'w' || (g::bigint * 7919 % 1000) || ' w' || (g::bigint * 104729 % 1000),
            'w' || (g::bigint * 1299709 % 1000) || CASE WHEN g % 5 = 0 THEN ' harbor' ELSE '' END || CASE WHEN g = 12345 THEN ' xylophone' ELSE '' END,
            CASE WHEN g % 3 = 0 THEN 2 ELSE 1 END, 1 + g % 4, ARRAY[(ARRAY['home', 'work', 'errands', 'garden'])[1 + g % 7 % 4]],
            CASE WHEN g % 4 = 0 THEN NULL ELSE $2::timestamptz + (g * 7 % 730 - 365) * interval '1 day' + g * interval '1 second' END,
            $2, $2
       FROM generate_series(1, $3::int) AS g`,
    [PLANNER, NOW, PLANNER_ROWS],
  );
  await sql(
    `INSERT INTO tasks.tasks (id, user_id, title, notes, status, completed_at, priority, due_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'w' || g, '', CASE WHEN g % 250 = 0 THEN 1 ELSE 2 END, CASE WHEN g % 250 = 0 THEN NULL ELSE $2::timestamptz - g * interval '2 hours' END, 1,
            $2::timestamptz - g * interval '1 hour', $2, $2
       FROM generate_series(1, 5000) AS g`,
    [VETERAN, NOW],
  );
  await sql(`ANALYZE tasks.tasks`);
}

const QUERIES = [
  "zebra", // no task of the user
  "xylophone", // one task, past the window
  "lantern", // a few
  "kettle", // fewer than a page within the window
  "late", // only past the window
  "edge", // around the window's end
  "early", // only at the front
  "harbor", // fills a page from the window
  "harb", // part of a word
  "C++", // a symbol: its neighbourhoods, then as written
  "+", // a symbol alone
  "ke", // two characters, within the window
  "xy", // two characters, past the window
  "c++ OR kettle",
  '"notes 1"', // a phrase
  "harbor tag:home",
  "NOT harbor",
  "kettle OR lantern",
  "(kettle OR zebra) priority>=medium",
  "late -tag:work status:open",
  "edge OR due:none",
  // Over a due range, read from the covering index of dues.
  "tag:home priority>=medium due:next-7-days",
  "due:this-week status:open",
  "(due<today OR due>=tomorrow) tag:work -priority:low",
  "due:any -tag:home",
  "no time tag:home",
  "due:overdue OR no time",
  // Written as index conditions (no due, no tags, a completion day).
  "due:none",
  "tag:none priority>=medium",
  // Tag wildcards: through the tags' text.
  "@hom*",
  "@*or* -tag:home",
  "completed:this-month OR due:none",
  "recurring OR NOT subtask",
];
const ORDERS = ["due", "due desc", "priority", "priority asc", "created", "created asc", "updated", "updated asc", "title", "title desc"];

describe("ListTasks statements", () => {
  let client: Client<typeof TaskService>;
  let sql: <Row>(text: string, params?: unknown[]) => Promise<Row[]>;
  let stop: () => Promise<void>;
  let tasks: Awaited<ReturnType<typeof startTasksModule>>;

  beforeAll(async () => {
    const db = await freshDatabase();
    tasks = await startTasksModule({ databaseUrl: db.url, now: () => NOW });
    client = createClient(TaskService, createRouterTransport(tasks.routes));
    sql = (text, params = []) => tasks.db.query(tasks.db.em(), text, params);
    stop = async () => {
      await tasks.stop();
      await db.drop();
    };
    await seed(sql);
  });
  afterAll(() => stop());

  const headers = { "x-user-id": USER, "x-time-zone": "UTC" };

  /** Every matching task of the user, sorted: the filter's SQL with the order, nothing else. */
  async function expected(query: string, orderBy: string): Promise<string[]> {
    const compiled = compileFilterToSql(parseFilter(query), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 2 });
    const rows = await sql<{ id: string }>(`SELECT id FROM tasks.tasks WHERE user_id = $1 AND ${compiled.sql} ORDER BY ${orderBySql(parseOrderBy(orderBy))}`, [USER, ...compiled.params]);
    return rows.map((r) => r.id);
  }

  async function paged(query: string, orderBy: string, pageSize: number): Promise<string[][]> {
    const pages: string[][] = [];
    let pageToken = "";
    do {
      const page = await client.listTasks({ query, orderBy, pageSize, pageToken }, { headers });
      pages.push(page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
      assert.ok(pages.length <= ROWS, "paging ends");
    } while (pageToken);
    return pages;
  }

  test("the data covers both parts: some searches fill a page from the window, others do not", async () => {
    const inWindow = async (word: string) =>
      (
        await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM (SELECT notes FROM tasks.tasks WHERE user_id = $1 ORDER BY coalesce(due_at, 'infinity'::timestamptz), id LIMIT ${TEXT_SEARCH_WINDOW}) AS w WHERE notes LIKE $2`,
          [USER, `%${word}%`],
        )
      )[0]!.n;
    assert.ok((await inWindow("harbor")) > 51);
    assert.ok((await inWindow("kettle")) > 0 && (await inWindow("kettle")) < 51);
    assert.equal(await inWindow("late"), 0);
    assert.ok((await expected("late", "due")).length > 51);
    assert.ok((await inWindow("edge")) > 0 && (await inWindow("edge")) < 14);
  });

  for (const query of QUERIES) {
    test(`"${query}": every order's pages are the sorted matches, each once`, async () => {
      for (const orderBy of ORDERS) {
        const all = await expected(query, orderBy);
        // Pages of 7 (several pages from one window), 50 (the default) and 500 (more than a window
        // holds, unless the word is everywhere); long lists in pages of 200 to keep the test short.
        const sizes = all.length > 300 ? [200] : [50, 7, 500];
        for (const pageSize of sizes) {
          const pages = await paged(query, orderBy, pageSize);
          assert.deepEqual(pages.flat(), all, `${orderBy}, pages of ${pageSize}`);
          for (const page of pages.slice(0, -1)) assert.equal(page.length, pageSize, `${orderBy}: only the last page is short`);
        }
      }
    });
  }

  test("the search column is built with the text-search configuration the filter compiles to", async () => {
    const config = /to_tsquery\('([\w.]+)'/.exec(compileFilterToSql(parseFilter("milk"), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}` }).sql)?.[1];
    const [column] = await sql<{ expr: string }>(
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'tasks.tasks'::regclass AND a.attname = 'search'`,
    );
    const used = [...column!.expr.matchAll(/'([\w.]+)'::regconfig/g)].map((m) => m[1]);
    assert.ok(used.length > 0 && used.every((c) => c === config), `${column!.expr} vs ${config}`);
    const id = (await client.createTask({ title: "Buy grocery" }, { headers: { "x-user-id": "stemmer" } })).task!.id;
    const found = await client.listTasks({ query: "groceries" }, { headers: { "x-user-id": "stemmer" } });
    assert.deepEqual(
      found.tasks.map((t) => t.id),
      [id],
      "another form of the word is found",
    );
  });

  /** The plan of the page's statement as the store builds it, with actual row counts. */
  async function plan(query: string, orderBy = "due", user = PLANNER): Promise<string> {
    const compiled = compileFilterToSql(parseFilter(query), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 2 });
    const statement = listStatement({ scopes: ["user_id = $1"], filter: compiled, after: null, params: compiled.params, order: parseOrderBy(orderBy), limit: 51 }, TASK_COLUMNS);
    const rows = await sql<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${statement}`, [user, ...compiled.params]);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  }

  const rowsRemoved = (text: string) => [...text.matchAll(/Rows Removed by Filter: (\d+)/g)].map((m) => Number(m[1]));

  // The tasks were just written (no vacuum since): the text indexes' pending entries are as a burst
  // of creates leaves them, and the text indexes must still be the cheaper way to a rare word.
  test("a word no task has, or one task has, reads at most the window in list order, then the text indexes", async () => {
    // "xylophöne": the one task's word with an accent, found through the text indexes all the same.
    for (const word of ["zebra", "xylophone", "xylophöne"]) {
      const text = await plan(word);
      assert.ok(Math.max(0, ...rowsRemoved(text)) <= TEXT_SEARCH_WINDOW, `${word}: no scan tests more than the window\n${text}`);
      assert.match(text, /Bitmap Index Scan on tasks_(search|text_trgm)_by_user \(actual rows=[\d.]+ loops=1\)/, `${word}: the text indexes answer\n${text}`);
    }
  });

  // "c++", "c#" and "a+" have no trigram: the symbols' neighbourhoods in the search column find them.
  test("a term made by its symbols reads at most the window in list order, then the search column's index", async () => {
    for (const term of ["c#", "a+", "c++"]) {
      const text = await plan(term);
      assert.ok(Math.max(0, ...rowsRemoved(text)) <= TEXT_SEARCH_WINDOW, `${term}: no scan tests more than the window\n${text}`);
      assert.match(text, /Bitmap Index Scan on tasks_search_by_user \(actual rows=[\d.]+ loops=1\)/, `${term}: the search column's index answers\n${text}`);
    }
  });

  test("a common word is answered from the front of the list alone", async () => {
    const text = await plan("harbor");
    assert.match(text, /Index Scan using tasks_by_due/);
    assert.doesNotMatch(text, /Bitmap Index Scan on tasks_(search|text_trgm)_by_user \(actual rows/, `the text indexes are not read\n${text}`);
    assert.ok(Math.max(0, ...rowsRemoved(text)) < 300, text);
  });

  test("a window with a few dozen matches walks on from its last match instead of sorting every match", async () => {
    const text = await plan("kettle", "due", USER);
    assert.match(text, /CTE cont\n\s+-> {2}Limit \(actual rows=\d+ loops=1\)/, `the walk went on\n${text}`);
    assert.match(text, /CTE hits\n\s+-> {2}[^\n]*\(never executed\)/, `no match was fetched through the text indexes\n${text}`);
  });

  test("every order said to be indexed walks its index without sorting the user's tasks", async () => {
    for (const orderBy of ORDERS) {
      const order = parseOrderBy(orderBy);
      const text = await plan("status:open", orderBy);
      if (order.indexed) assert.doesNotMatch(text, /Sort Key/, `${orderBy}\n${text}`);
      else assert.match(text, /Sort Key/, `${orderBy} has an index now: mark it indexed\n${text}`);
    }
  });

  test("a page of tasks without a due, or completed on a day, reads no task that is not one", async () => {
    // None of the planner's tasks is completed; a quarter have no due, last in due order.
    for (const query of ["due:none", "completed:today", "completed:last-week"]) {
      const text = await plan(query);
      assert.ok(Math.max(0, ...rowsRemoved(text)) < 100, `${query}: no scan tests the user's other tasks\n${text}`);
      assert.doesNotMatch(text, /Seq Scan/, `${query}\n${text}`);
    }
  });

  test("the open tasks of someone whose tasks are nearly all completed are read from the open tasks' index alone", async () => {
    const text = await plan("status:open", "due", VETERAN);
    assert.match(text, /Index Scan using tasks_open_by_due/, text);
    assert.ok(Math.max(0, ...rowsRemoved(text)) < 100, `no completed task is read on the way\n${text}`);
  });

  test("a filter without parameters is prepared, and its generic plan still reads the veteran's open tasks from the open tasks' index alone", async () => {
    const compiled = compileFilterToSql(parseFilter("status:open"), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 2 });
    const q = { scopes: ["user_id = $1"], filter: compiled, after: null, params: compiled.params, order: parseOrderBy("due"), limit: 51 };
    assert.equal(plannedEachCall(q), false);
    const statement = ownPageStatement(q, TASK_COLUMNS);
    assert.doesNotMatch(statement, /\.\*|SELECT \*/, "no column follows a table's definition, so the statement is prepared");
    const text = await tasks.db.em().transactional(async (em) => {
      await tasks.db.query(em, `PREPARE open_page AS ${statement}`);
      await tasks.db.query(em, "SET LOCAL plan_cache_mode = force_generic_plan");
      const rows = await tasks.db.query<{ "QUERY PLAN": string }>(em, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE open_page('${VETERAN}')`);
      await tasks.db.query(em, "DEALLOCATE open_page");
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    assert.match(text, /Index Scan using tasks_open_by_due/, text);
    assert.ok(Math.max(0, ...rowsRemoved(text)) < 100, `no completed task is read on the way\n${text}`);
  });

  test("a word search is prepared, and one generic plan serves a word no task has, a rare one and a common one: the rare through the text indexes, the common from the list's first rows", async () => {
    const compiledFor = (query: string) => compileFilterToSql(parseFilter(query), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 2 });
    const q = (compiled: ReturnType<typeof compiledFor>) => ({ scopes: ["user_id = $1"], filter: compiled, after: null, params: compiled.params, order: parseOrderBy("due"), limit: 51 });
    const statement = ownPageStatement(q(compiledFor("zebra")), TASK_COLUMNS);
    assert.doesNotMatch(statement, /\.\*|SELECT \*/, "no column follows a table's definition, so the statement is prepared");
    const columns = await sql<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'tasks' AND table_name = 'tasks' ORDER BY ordinal_position`);
    assert.deepEqual(
      TABLE_COLUMNS.split(", "),
      columns.map((c) => c.name),
      "a search walks rows with every column of the table",
    );
    for (const query of ["zebra", "xylophone", "harbor", "w7", '"w1 w2"']) {
      assert.equal(plannedEachCall(q(compiledFor(query))), false, query);
      assert.equal(ownPageStatement(q(compiledFor(query)), TASK_COLUMNS), statement, `${query}: one statement for every word`);
    }
    // Tags, dates, symbols and other orders keep a plan for their values.
    for (const [query, orderBy] of [
      ["harbor tag:home", "due"],
      ["harbor due:today", "due"],
      ["c++", "due"],
      ["harbor", "due desc"],
    ] as const) {
      const compiled = compiledFor(query);
      assert.equal(plannedEachCall({ ...q(compiled), order: parseOrderBy(orderBy) }), true, `${query} by ${orderBy}`);
    }
    const generic = await tasks.db.em().transactional(async (em) => {
      await tasks.db.query(em, `PREPARE word_page AS ${statement}`);
      await tasks.db.query(em, "SET LOCAL plan_cache_mode = force_generic_plan");
      const found: Record<string, { ids: string[]; plan: string }> = {};
      for (const query of ["zebra", "xylophone", "harbor"]) {
        const literals = [PLANNER, ...compiledFor(query).params].map((v) => `'${String(v).replaceAll("'", "''")}'`);
        const execute = `EXECUTE word_page(${literals.join(", ")})`;
        const rows = await tasks.db.query<{ id: string | null }>(em, execute);
        const plan = await tasks.db.query<{ "QUERY PLAN": string }>(em, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${execute}`);
        found[query] = { ids: rows.flatMap((r) => (r.id ? [r.id] : [])), plan: plan.map((r) => r["QUERY PLAN"]).join("\n") };
      }
      await tasks.db.query(em, "DEALLOCATE word_page");
      return found;
    });
    for (const [query, { ids, plan }] of Object.entries(generic)) {
      const all = await sql<{ id: string }>(`SELECT id FROM tasks.tasks WHERE user_id = $1 AND ${compiledFor(query).sql} ORDER BY ${orderBySql(parseOrderBy("due"))} LIMIT 51`, [
        PLANNER,
        ...compiledFor(query).params,
      ]);
      assert.deepEqual(
        ids,
        all.map((r) => r.id),
        query,
      );
      assert.match(plan, /Index Cond: \(user_id = \$1\)/, `a plan for any user and words (its values are not in it)\n${plan}`);
      assert.doesNotMatch(plan, /Seq Scan/, `${query}\n${plan}`);
      const walked = [...plan.matchAll(/(?<!Bitmap )Index Scan using tasks_by_due[^\n]*\(actual rows=(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(walked.length > 0 && Math.max(...walked) <= TEXT_SEARCH_WINDOW, `${query}: the list's first rows are walked, up to the window\n${plan}`);
    }
    // The rare words' matches come through the text indexes; the common word's from the walk alone.
    assert.match(generic.xylophone!.plan, /Bitmap Index Scan on tasks_search_by_user \(actual rows=1\b/, generic.xylophone!.plan);
    assert.doesNotMatch(generic.harbor!.plan, /Bitmap Index Scan on tasks_search_by_user \(actual rows=[1-9]/, generic.harbor!.plan);
  });

  test("over several scopes (one's own tasks and shared projects), a search's first page holds every scope's first matches in order, each scope read by its own index", async () => {
    const scopes = ["user_id = $1", "user_id = $2"];
    for (const query of ["harbor", "kettle", "zebra", "edge", "tag:none"]) {
      for (const orderBy of ["due", "updated", "title desc"]) {
        const compiled = compileFilterToSql(parseFilter(query), { now: NOW, timeZone: "UTC", placeholder: (i) => `$${i}`, firstIndex: 3 });
        const order = parseOrderBy(orderBy);
        const statement = listStatement({ scopes, filter: compiled, after: null, params: compiled.params, order, limit: 51 }, TASK_COLUMNS);
        const page = await sql<{ id: string }>(statement, [USER, PLANNER, ...compiled.params]);
        const all = await sql<{ id: string }>(`SELECT id FROM tasks.tasks WHERE (${scopes.join(" OR ")}) AND ${compiled.sql} ORDER BY ${orderBySql(order)} LIMIT 51`, [
          USER,
          PLANNER,
          ...compiled.params,
        ]);
        assert.deepEqual(
          page.map((r) => r.id),
          all.map((r) => r.id),
          `${query} by ${orderBy}`,
        );
        if (orderBy !== "due") continue;
        const text = (await sql<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${statement}`, [USER, PLANNER, ...compiled.params])).map((r) => r["QUERY PLAN"]).join("\n");
        // Each scope's first rows come from its own index: no walk returns more than a window's rows
        // (the matches taken through the text or tags' indexes are the other part's).
        const returned = [...text.matchAll(/(?<!Bitmap )Index Scan[^\n]*\(actual rows=(\d+)/g)].map((m) => Number(m[1]));
        assert.ok(Math.max(...returned) <= 2 * TEXT_SEARCH_WINDOW, `${query}: no scope is read whole\n${text}`);
        assert.doesNotMatch(text, /Seq Scan/, `${query}\n${text}`);
      }
    }
  });

  test("tasks without tags, common in the table and absent among the user's, read at most the window, then the tags' index", async () => {
    const text = await plan("tag:none");
    assert.ok(Math.max(0, ...rowsRemoved(text)) <= TEXT_SEARCH_WINDOW, `no scan tests more than the window\n${text}`);
    assert.match(text, /Bitmap Index Scan on tasks_tags_by_user \(actual rows=0 loops=1\)/, `the tags' index answers\n${text}`);
  });

  test("a tag wildcard that no tag matches reads at most the window, then the trigram index of the tags' text", async () => {
    for (const query of ["@noth*", "@*zzle", "tag:gard*ning"]) {
      const text = await plan(query);
      assert.ok(Math.max(0, ...rowsRemoved(text)) <= TEXT_SEARCH_WINDOW, `${query}: no scan tests more than the window\n${text}`);
      assert.match(text, /Bitmap Index Scan on tasks_tag_text_trgm \(actual rows=0 loops=1\)/, `${query}: the tags' text index answers\n${text}`);
    }
  });

  test("a tag wildcard that many tasks match is answered from the front of the list alone", async () => {
    const text = await plan("@hom*");
    assert.match(text, /Index Scan using tasks_by_due/);
    assert.doesNotMatch(text, /Bitmap Index Scan on tasks_tag_text_trgm \(actual rows/, `the tags' text index is not read\n${text}`);
    assert.ok(Math.max(0, ...rowsRemoved(text)) < 300, text);
  });

  test("tag + priority + due range walks the covering index of dues from the range's start, tests each entry there and stops at the page's end", async () => {
    await sql(`VACUUM tasks.tasks`);
    // A week away from the lister's dues, which crowd the days around NOW in the table's statistics.
    const text = await plan("tag:home priority>=high due>=2026-09-01 due<2026-09-08");
    // An index-only scan where the visibility map vouches for the pages (a vacuum that ran beside
    // autovacuum's ANALYZE of the new rows may not have set it yet): then no other task is read.
    const scan = /Index (?:Only )?Scan using tasks_due_covering on tasks \w+ \(actual rows=(\d+) loops=1\)\n\s+Index Cond: (.*)\n\s+Filter: (.*)/.exec(text);
    assert.ok(scan, `the dues' index is read\n${text}`);
    assert.ok(Number(scan[1]) > 0 && Number(scan[1]) <= 51, `the data has matches, and the walk ends with the page\n${text}`);
    assert.match(scan[2]!, /COALESCE\(due_at, 'infinity'::timestamp with time zone\)\) >=/, `the range's start in the index condition\n${text}`);
    assert.match(scan[2]!, /priority >=/, `the priority tested before the table's visibility\n${text}`);
    assert.match(scan[3]!, /tags @>/, `the tag tested in the index\n${text}`);
  });
});
