import { test } from "vitest";
import assert from "node:assert/strict";
import { mentionsSomeone, parseQuickAdd, pickAssignee, toCreateRequest } from "../src/index.js";

const NOW = new Date("2026-03-11T10:00:00Z");
const MEMBERS = [
  { userId: "u-alice", email: "alice@example.com" },
  { userId: "u-bob", email: "Bob@example.com" },
  { userId: "u-bob2", email: "bob@elsewhere.org" },
  { userId: "u-carol", email: "carol.smith@example.com" },
];
const read = (line: string) => pickAssignee(parseQuickAdd(line, NOW, "UTC"), MEMBERS);

test("+name is the member whose e-mail, or its part before the @, it is; the word leaves the title", () => {
  const draft = read("Fix the gate +alice tomorrow !high");
  assert.deepEqual(draft.assignee, { id: "u-alice", email: "alice@example.com" });
  assert.equal(draft.title, "Fix the gate");
  assert.equal(draft.due?.kind, "date");
  assert.equal(toCreateRequest(draft, "UTC").assigneeId, "u-alice");
  assert.equal(read("+Carol.Smith call the plumber").assignee?.id, "u-carol");
  assert.equal(read("Call the plumber +carol.smith@example.com").title, "Call the plumber");
});

test("a name two members share is not guessed: their whole e-mail picks one", () => {
  const draft = read("Water the plants +bob");
  assert.equal(draft.assignee, undefined);
  assert.equal(draft.title, "Water the plants +bob");
  assert.equal(read("Water the plants +bob@elsewhere.org").assignee?.id, "u-bob2");
  assert.equal(read("Water the plants +BOB@EXAMPLE.COM").assignee?.id, "u-bob");
});

test("a +word that names nobody, or is not a word, stays in the title as typed", () => {
  for (const line of ["Ask +dave about it", "Refactor the C++ parser", "Call +44 20 7946 0000", "Vote +1 on the proposal"]) {
    const draft = read(line);
    assert.equal(draft.assignee, undefined, line);
    assert.equal(draft.title, line);
  }
  assert.equal(toCreateRequest(read("Ask +dave"), "UTC").assigneeId, "");
});

test("only the first +name that names someone is taken", () => {
  const draft = read("Plan +nobody +alice +carol.smith");
  assert.equal(draft.assignee?.id, "u-alice");
  assert.equal(draft.title, "Plan +nobody +carol.smith");
});

test("members are asked for only when the title names someone", () => {
  assert.equal(mentionsSomeone("Fix the gate +alice"), true);
  assert.equal(mentionsSomeone("+alice"), true);
  assert.equal(mentionsSomeone("Refactor C++ and call +44"), false);
  assert.equal(mentionsSomeone("Fix the gate"), false);
  // Asking first changes nothing of the picking that follows (one pattern serves both).
  const draft = parseQuickAdd("Sweep the yard +alice", NOW, "UTC");
  assert.equal(mentionsSomeone(draft.title) && pickAssignee(draft, MEMBERS).assignee?.id, "u-alice");
});
