// A user's Inbox is made by whichever request needs it first. Replicas (each with its own cache of
// Inbox ids) asked at once for the same new user all answer with one Inbox, which has its owner as
// its one member, an admin: the conflicting inserts find the Inbox made by the first.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@taskmesh/db";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { entities } from "../src/entities.js";
import { migrations } from "../src/migrations/index.js";
import { ProjectStore } from "../src/project-store.js";

let fresh: FreshDatabase;
let db: Database;

beforeAll(async () => {
  fresh = await freshDatabase();
  db = await openDatabase({ url: fresh.url, schema: "tasks", entities, migrations, poolSize: 16 });
});
afterAll(async () => {
  await db?.close();
  await fresh?.drop();
});

test("concurrent first uses of a user's Inbox, on several replicas, make one Inbox with its owner as admin", async () => {
  const users = Array.from({ length: 5 }, (_, i) => `first-use-${i}`);
  const replicas = Array.from({ length: 8 }, () => new ProjectStore(db));
  const ids = await Promise.all(users.map((user) => Promise.all(replicas.map((replica) => replica.inbox(user, `${user}@example.com`)))));
  for (const [i, user] of users.entries()) {
    const [first, ...others] = ids[i]!;
    assert.ok(
      others.every((id) => id === first),
      `${user}: one Inbox id from every replica`,
    );
    const projects = await replicas[0]!.list(user);
    assert.deepEqual(
      projects.map((p) => [p.id, p.inbox, p.name, p.ownerId, p.role, p.memberCount]),
      [[first, true, "Inbox", user, ProjectRole.ADMIN, 1]],
    );
    assert.deepEqual(await replicas[0]!.members(first!), [{ userId: user, email: `${user}@example.com`, role: ProjectRole.ADMIN }]);
  }
});
