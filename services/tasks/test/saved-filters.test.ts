// Saved filters kept by the task service: per user, the same on every client, renamed by saving
// the same query again, refused with a located field error when the filter language cannot read
// the query, and bounded in number.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { violatedFields as fields } from "@taskmesh/testing/connect";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startTasksModule } from "../src/index.js";
import { MAX_SAVED_FILTERS } from "../src/saved-filters.js";

const as = (userId: string) => ({ headers: { "x-user-id": userId, "x-time-zone": "UTC" } });
let db: FreshDatabase;
let module: Awaited<ReturnType<typeof startTasksModule>>;
let tasks: Client<typeof TaskService>;

beforeAll(async () => {
  db = await freshDatabase();
  module = await startTasksModule({ databaseUrl: db.url });
  tasks = createClient(TaskService, createRouterTransport(module.routes, { router: { interceptors: [createValidateInterceptor()] } }));
});
afterAll(async () => {
  await module?.stop();
  await db?.drop();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected an error"),
    (e: unknown) => ConnectError.from(e),
  );

test("saved filters: listed oldest first per user, renamed by saving the query again, deleted once", async () => {
  const home = await tasks.saveFilter({ query: "#home status:open" }, as("ann"));
  assert.equal(home.filter!.name, "#home status:open", "no name: the query names it");
  await tasks.saveFilter({ query: "priority>=high", name: "Urgent" }, as("ann"));
  const renamed = await tasks.saveFilter({ query: "#home status:open", name: "Home" }, as("ann"));
  assert.deepEqual([renamed.filter!.id, renamed.filter!.createTime], [home.filter!.id, home.filter!.createTime], "the saved filter, renamed");
  const listed = await tasks.listSavedFilters({}, as("ann"));
  assert.deepEqual(
    listed.filters.map((f) => [f.name, f.query]),
    [
      ["Home", "#home status:open"],
      ["Urgent", "priority>=high"],
    ],
  );
  assert.equal(listed.filters[0]!.id, home.filter!.id, "the same filter, renamed");
  assert.deepEqual((await tasks.listSavedFilters({}, as("bob"))).filters, [], "another user's are theirs");

  assert.equal((await failure(tasks.deleteSavedFilter({ id: home.filter!.id }, as("bob")))).code, Code.NotFound);
  await tasks.deleteSavedFilter({ id: home.filter!.id }, as("ann"));
  assert.equal((await failure(tasks.deleteSavedFilter({ id: home.filter!.id }, as("ann")))).code, Code.NotFound);
  assert.deepEqual(
    (await tasks.listSavedFilters({}, as("ann"))).filters.map((f) => f.name),
    ["Urgent"],
  );
});

test("saved filters: a query the language cannot read, an empty one, a bad id and one too many are field errors", async () => {
  const bad = await failure(tasks.saveFilter({ query: "priority>>high" }, as("cat")));
  assert.equal(bad.code, Code.InvalidArgument);
  assert.deepEqual(fields(bad), ["query"]);
  assert.equal((await failure(tasks.saveFilter({ query: "" }, as("cat")))).code, Code.InvalidArgument);
  assert.equal((await failure(tasks.deleteSavedFilter({ id: "not-a-uuid" }, as("cat")))).code, Code.InvalidArgument);
  for (let i = 0; i < MAX_SAVED_FILTERS; i++) await tasks.saveFilter({ query: `#tag${i}` }, as("dan"));
  const over = await failure(tasks.saveFilter({ query: "#one-more" }, as("dan")));
  assert.equal(over.code, Code.InvalidArgument);
  assert.match(over.rawMessage, /100 saved filters at most/);
  // Renaming one that exists is not one more.
  await tasks.saveFilter({ query: "#tag0", name: "renamed" }, as("dan"));
});
