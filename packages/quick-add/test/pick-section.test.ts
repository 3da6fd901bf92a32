import { test } from "vitest";
import assert from "node:assert/strict";
import { namesSection, parseQuickAdd, placeLine, toCreateRequest } from "../src/index.js";

const NOW = new Date("2026-03-11T10:00:00Z");
const INBOX = { id: "00000000-0000-4000-8000-000000000001", name: "Inbox", inbox: true, archived: false };
const WORK = { id: "00000000-0000-4000-8000-000000000002", name: "Work", inbox: false, archived: false };
const OLD = { id: "00000000-0000-4000-8000-000000000003", name: "Old", inbox: false, archived: true };
const SECTIONS: Record<string, { id: string; name: string }[]> = {
  [INBOX.id]: [{ id: "s-inbox-later", name: "Later" }],
  [WORK.id]: [
    { id: "s-work-meetings", name: "Meetings" },
    { id: "s-work-todo", name: "To do" },
    { id: "s-work-later", name: "Later" },
  ],
  [OLD.id]: [{ id: "s-old-meetings", name: "Meetings" }],
};
const MEMBERS: Record<string, { userId: string; email: string }[]> = { [WORK.id]: [{ userId: "u-bob", email: "bob@example.com" }] };

/** The project service as placeLine asks it, counting what it was asked. */
function lookups() {
  const asked: string[] = [];
  return {
    asked,
    listSections: async ({ projectId }: { projectId: string }) => {
      asked.push(`sections ${projectId}`);
      return { sections: SECTIONS[projectId] ?? [] };
    },
    listMembers: async ({ projectId }: { projectId: string }) => {
      asked.push(`members ${projectId}`);
      return { members: MEMBERS[projectId] ?? [] };
    },
  };
}
const place = (line: string, client = lookups()) => placeLine(parseQuickAdd(line, NOW, "UTC"), [INBOX, WORK, OLD], client);

test("/name is a section of the project the line names; the word leaves the title", async () => {
  const draft = await place("Agenda for the review #work /meetings");
  assert.equal(draft.project?.id, WORK.id);
  assert.deepEqual(draft.section, { id: "s-work-meetings", name: "Meetings" });
  assert.equal(draft.title, "Agenda for the review");
  const request = toCreateRequest(draft, "UTC");
  assert.equal(request.projectId, WORK.id);
  assert.equal(request.sectionId, "s-work-meetings");
});

test("names compare as the filter compares them: no case, '-' or '_' for spaces; the section may come first", async () => {
  assert.equal((await place("/TO-DO Call the bank #work")).section?.id, "s-work-todo");
  assert.equal((await place("Call the bank #work /to_do")).section?.id, "s-work-todo");
});

test("without a project, /name is a section of the Inbox, and the task goes there", async () => {
  const draft = await place("Read the manual /later");
  assert.deepEqual(draft.project, { id: INBOX.id, name: "Inbox" });
  assert.equal(draft.section?.id, "s-inbox-later");
  assert.equal((await place("Read the manual #work /later")).section?.id, "s-work-later");
});

test("a /word that names no section of that project stays in the title, and the line stays where it was going", async () => {
  for (const line of ["Plan the offsite /meetings", "Fix /etc/hosts", "Decide and /or delegate", "Price 50/50 split #work", "Read it / later"]) {
    const draft = await place(line);
    assert.equal(draft.section, undefined, line);
    assert.equal(draft.title, parseQuickAdd(line, NOW, "UTC").title, line);
  }
  assert.equal((await place("Plan the offsite /meetings")).project, undefined);
  assert.equal(toCreateRequest(await place("Plan the offsite /meetings"), "UTC").sectionId, "");
});

test("sections and members are asked for only when the line names one", async () => {
  const client = lookups();
  await place("Agenda #work tomorrow", client);
  assert.deepEqual(client.asked, []);
  await place("Agenda #work /meetings +bob", client);
  assert.deepEqual(client.asked, [`sections ${WORK.id}`, `members ${WORK.id}`]);
  assert.equal(namesSection("a/b"), false);
  assert.equal(namesSection("/b a"), true);
});

test("with a section named, +name is a member of that section's project", async () => {
  const draft = await place("Book the room #work /meetings +bob");
  assert.equal(draft.assignee?.id, "u-bob");
  assert.equal(draft.title, "Book the room");
});
