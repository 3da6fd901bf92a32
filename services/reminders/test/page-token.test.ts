// A crafted ListReminders page token is INVALID_ARGUMENT on page_token: its values go into SQL as
// timestamptz, uuid and text, and a well-formed-looking token with a bad uuid or a NUL used to be a
// database error (500).
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { violatedFields } from "@taskmesh/testing/connect";
import { as, startStack, type Stack } from "./harness.js";

let db: FreshDatabase;
let stack: Stack;
beforeAll(async () => {
  db = await freshDatabase();
  stack = await startStack(db.url);
});
afterAll(async () => {
  await stack.stop();
  await db.drop();
});

const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

test("crafted ListReminders page tokens are INVALID_ARGUMENT on page_token", async () => {
  for (const pageToken of [
    token(["2027-01-01T00:00:00.000Z", "not-a-uuid", "r1"]),
    token(["2027-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000", "r\u0000"]),
    token(["Tue, 01 Jan 2030 00:00:00 GMT", "00000000-0000-4000-8000-000000000000", "r1"]),
    token(["+275760-09-13T00:00:00.000Z", "00000000-0000-4000-8000-000000000000", "r1"]),
  ]) {
    const err = await stack.reminders.listReminders({ pageToken }, as("alice")).then(
      () => assert.fail("accepted"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.InvalidArgument, err.message);
    assert.deepEqual(violatedFields(err), ["page_token"]);
  }
  const ok = await stack.reminders.listReminders({ pageToken: token(["2027-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000", "r1"]) }, as("alice"));
  assert.deepEqual(ok.reminders, []);
});
