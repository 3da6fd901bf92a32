// Project lookups outside a write (one per CreateTask) share statements under load: each caller
// still gets the project as they see it, or nothing.
import { randomUUID } from "node:crypto";
import { test } from "vitest";
import assert from "node:assert/strict";
import { ProjectRole } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { ProjectStore } from "../src/project-store.js";
import { tasksUnderTest } from "./fixtures.js";

const service = tasksUnderTest();
const as = (user: string) => ({ headers: { "x-user-id": user } });

test("concurrent lookups share statements, and each answers for its own caller: admin, viewer, stranger, unknown project", async () => {
  const project = (await service.projects.createProject({ name: "Shared" }, as("lookup-owner"))).project!;
  await service.sql(`INSERT INTO tasks.project_members (project_id, user_id, role) VALUES ($1, 'lookup-viewer', $2)`, [project.id, ProjectRole.VIEWER]);
  const db = service.module.db;
  let statements = 0;
  const store = new ProjectStore({
    ...db,
    em: () => {
      statements++;
      return db.em();
    },
  });
  const asks: [user: string, id: string, role: ProjectRole | undefined][] = [
    ["lookup-owner", project.id, ProjectRole.ADMIN],
    ["lookup-viewer", project.id, ProjectRole.VIEWER],
    ["lookup-stranger", project.id, undefined],
    ["lookup-owner", randomUUID(), undefined],
    ["lookup-owner", "not-a-uuid", undefined],
  ];
  const many = Array.from({ length: 8 }, () => asks).flat();
  const answers = await Promise.all(many.map(([user, id]) => store.get(user, id)));
  assert.deepEqual(
    answers.map((a) => a?.role),
    many.map(([, , role]) => role),
  );
  assert.ok(answers.filter(Boolean).every((a) => a!.id === project.id && a!.name === "Shared" && a!.memberCount === 2));
  assert.ok(statements <= 2, `40 concurrent lookups took ${statements} statements`);
  for (const [user, id] of asks) assert.deepEqual(await store.get(user, id), await db.em().transactional((em) => store.get(user, id, em)), `${user} ${id}`);
});
