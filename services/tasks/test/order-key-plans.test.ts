// The order-key lookups every CreateTask batch and every move makes must read one range of
// tasks_order, whatever the number of the user's tasks: no sequential scan of them, no sort of a
// project's tasks. The statements are those keysAtEnd and keyNextTo issue, captured as they run,
// then explained on a database with enough tasks (ANALYZEd) for the planner to weigh the indexes
// as it would at a user's scale; and their answers are checked against the siblings as defined.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { migrations } from "../src/migrations/index.js";
import { keysAtEnd, keyNextTo, type Siblings } from "../src/order-keys.js";
import type { Sql } from "../src/task-store.js";

const USER = "orderer";
const INBOX = "00000000-0000-4000-8000-00000000000a";
const PROJECT = "00000000-0000-4000-8000-00000000000b";
const SECTION = "00000000-0000-4000-8000-00000000000c";
const PARENT = "00000000-0000-4000-8000-00000000000d";
// A task of none of the groups, moving among them.
const STRANGER = "00000000-0000-4000-8000-00000000000e";

// Groups of siblings of the user's tasks, most in the Inbox (a user importing a list), and another
// user's tasks beside them.
const GROUPS: { name: string; siblings: Siblings; rows: number; user?: string }[] = [
  { name: "the Inbox", siblings: { projectId: INBOX, sectionId: null, parentId: null }, rows: 20_000 },
  { name: "a section", siblings: { projectId: PROJECT, sectionId: SECTION, parentId: null }, rows: 2_000 },
  { name: "a project without section", siblings: { projectId: PROJECT, sectionId: null, parentId: null }, rows: 2_000 },
  { name: "no project", siblings: { projectId: null, sectionId: null, parentId: null }, rows: 1_000 },
  // The subtasks of a task of the section carry its project and section.
  { name: "subtasks", siblings: { projectId: PROJECT, sectionId: SECTION, parentId: PARENT }, rows: 500 },
  { name: "another user's Inbox", siblings: { projectId: INBOX, sectionId: null, parentId: null }, rows: 5_000, user: "neighbour" },
];

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

describe("order-key lookups use tasks_order", () => {
  let db: Database;
  let drop: () => Promise<void>;
  let sql: Sql;

  beforeAll(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    db = await openDatabase({ url: fresh.url, schema: "tasks", entities: [], migrations });
    sql = (text, params = []) => db.query(db.em(), text, params);
    for (const g of GROUPS) {
      // Keys "d" + 4 base-62 digits, as the order keys' migration numbers tasks.
      await sql(
        `WITH digits AS (SELECT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'::text AS d)
         INSERT INTO tasks.tasks (id, user_id, title, created_at, updated_at, project_id, section_id, parent_id, order_key)
         SELECT gen_random_uuid(), $1, 'task ' || n, now(), now(), $2::uuid, $3::uuid, $4::uuid,
                'd' || substr(d, n / 238328 % 62 + 1, 1) || substr(d, n / 3844 % 62 + 1, 1) || substr(d, n / 62 % 62 + 1, 1) || substr(d, n % 62 + 1, 1)
           FROM digits, generate_series(1, $5::int) AS n`,
        [g.user ?? USER, g.siblings.projectId, g.siblings.sectionId, g.siblings.parentId, g.rows],
      );
    }
    await sql(`ANALYZE tasks.tasks`);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  /** Runs `lookup` with a reader that records the statements it issues. */
  async function captured<T>(lookup: (read: Sql) => Promise<T>): Promise<{ result: T; statements: { text: string; params: unknown[] }[] }> {
    const statements: { text: string; params: unknown[] }[] = [];
    const result = await lookup((text, params = []) => {
      statements.push({ text, params });
      return sql(text, params);
    });
    return { result, statements };
  }

  async function assertIndexLookup(statement: { text: string; params: unknown[] }, what: string): Promise<void> {
    const [row] = await sql<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.params);
    const nodes = nodesOf(row!["QUERY PLAN"][0]!.Plan);
    const shown = JSON.stringify(nodes.map((n) => [n["Node Type"], n["Index Name"] ?? n["Relation Name"] ?? ""]));
    assert.ok(!nodes.some((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "tasks"), `${what}: a sequential scan of tasks: ${shown}\n${statement.text}`);
    assert.ok(!nodes.some((n) => n["Node Type"].includes("Sort")), `${what}: sorts the siblings: ${shown}\n${statement.text}`);
    assert.ok(
      nodes.some((n) => n["Index Name"] === "tasks_order"),
      `${what}: not from tasks_order: ${shown}\n${statement.text}`,
    );
  }

  /** The siblings as the manual order defines them, in order. */
  async function siblingsOf(siblings: Siblings): Promise<{ id: string; key: string }[]> {
    return sql<{ id: string; key: string }>(
      siblings.parentId
        ? `SELECT id, order_key AS key FROM tasks.tasks WHERE user_id = $1 AND parent_id = $2 ORDER BY order_key`
        : `SELECT id, order_key AS key FROM tasks.tasks WHERE user_id = $1 AND parent_id IS NULL AND project_id IS NOT DISTINCT FROM $2::uuid
             AND section_id IS NOT DISTINCT FROM $3::uuid ORDER BY order_key`,
      siblings.parentId ? [USER, siblings.parentId] : [USER, siblings.projectId, siblings.sectionId],
    );
  }

  for (const g of GROUPS.filter((g) => !g.user)) {
    test(`the last key of ${g.name} (CreateTask)`, async () => {
      const { result, statements } = await captured((read) => keysAtEnd(read, USER, g.siblings, 3));
      assert.equal(statements.length, 1);
      await assertIndexLookup(statements[0]!, `keysAtEnd, ${g.name}`);
      const last = (await siblingsOf(g.siblings)).at(-1)!.key;
      assert.ok(last < result[0]! && result[0]! < result[1]! && result[1]! < result[2]!, `${result.join(", ")} after ${last}`);
    });

    test(`the neighbour of a task of ${g.name} (MoveTask)`, async () => {
      const tasks = await siblingsOf(g.siblings);
      const m = Math.floor(tasks.length / 2);
      for (const side of ["before", "after"] as const) {
        const step = side === "before" ? -1 : 1;
        // Another task goes between the anchor and its neighbour on that side; that neighbour
        // itself, moving there, passes over itself to the task beyond it.
        for (const [moving, bound] of [
          [STRANGER, m + step],
          [tasks[m + step]!.id, m + 2 * step],
        ] as const) {
          const { result, statements } = await captured((read) => keyNextTo(read, USER, { ...g.siblings, id: moving }, tasks[m]!.id, side));
          assert.equal(statements.length, 2);
          await assertIndexLookup(statements[1]!, `keyNextTo ${side}, ${g.name}`);
          const [low, high] = [tasks[m]!.key, tasks[bound]!.key].sort();
          assert.ok(
            result !== undefined && low! < result && result < high!,
            `${side} of ${tasks[m]!.key}, ${moving === STRANGER ? "another task" : "its neighbour"}: ${result} not within ${low}…${high}`,
          );
        }
      }
    });
  }
});
