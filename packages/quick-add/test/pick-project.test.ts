import { test } from "vitest";
import assert from "node:assert/strict";
import { parseQuickAdd, pickProject, toCreateRequest } from "../src/index.js";

const NOW = new Date("2026-03-11T10:00:00Z");
const PROJECTS = [
  { id: "00000000-0000-4000-8000-000000000001", name: "Inbox" },
  { id: "00000000-0000-4000-8000-000000000002", name: "Home reno" },
  { id: "00000000-0000-4000-8000-000000000003", name: "Work" },
];
const read = (line: string) => pickProject(parseQuickAdd(line, NOW, "UTC"), PROJECTS);

test("#name is the project when one has that name, else a tag", () => {
  const draft = read("Paint the hall #home-reno #weekend !high");
  assert.equal(draft.project?.name, "Home reno");
  assert.deepEqual(draft.tags, ["weekend"]);
  assert.equal(draft.title, "Paint the hall");
  assert.equal(toCreateRequest(draft, "UTC").projectId, PROJECTS[1]!.id);
});

test("names compare without case, and '_' or '-' stand for spaces", () => {
  assert.equal(read("x #WORK").project?.id, PROJECTS[2]!.id);
  assert.equal(read("x #home_reno").project?.id, PROJECTS[1]!.id);
});

test("only the first project tag is taken; the others stay tags", () => {
  const draft = read("x #work #home-reno");
  assert.equal(draft.project?.name, "Work");
  assert.deepEqual(draft.tags, ["home-reno"]);
});

test("without a matching project the line reads as before: tags, and the Inbox", () => {
  const draft = read("Buy milk #errands");
  assert.equal(draft.project, undefined);
  assert.deepEqual(draft.tags, ["errands"]);
  assert.equal(toCreateRequest(draft, "UTC").projectId, "");
});
