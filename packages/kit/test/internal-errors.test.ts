// Every INTERNAL answer carries an error id, and the log has a line with that id and the stack:
// thrown errors, bare `internal` errors from an in-process upstream or a library, and responses
// that cannot be encoded (a Timestamp past 9999).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import type { Logger } from "../src/index.js";
import { internalErrorInterceptor } from "../src/index.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = { error: (fields: object, msg: string) => lines.push({ ...fields, msg }) } as unknown as Logger;
  return { lines, logger };
}

test("internal errors get an id the caller sees and a log line with the stack", async () => {
  const { lines, logger } = capture();
  const failures: (() => never)[] = [
    () => {
      throw new TypeError("boom in a handler");
    },
    () => {
      throw new ConnectError("internal error", Code.Internal);
    },
  ];
  let next = 0;
  const transport = createRouterTransport(
    (router) =>
      router.service(RecurrenceService, {
        parseRecurrence: () => failures[next++]!(),
        previewOccurrences: () => ({ occurrences: [{ when: { case: "time", value: { seconds: 10n ** 14n, nanos: 0 } } }] }) as never,
      }),
    { router: { interceptors: [internalErrorInterceptor(logger)] } },
  );
  const client = createClient(RecurrenceService, transport);
  for (let i = 0; i < failures.length; i++) {
    const err = await client.parseRecurrence({ text: "every day" }).then(() => assert.fail("no error"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.Internal);
    const id = /id ([0-9a-f-]{36})/.exec(err.rawMessage)?.[1];
    assert.ok(id, `the message carries an id: ${err.rawMessage}`);
    const line = lines.find((l) => l.errorId === id);
    assert.ok(line, "a log line with the same id");
    assert.ok(String((line!.err as Error).stack).length > 0, "with the stack");
    assert.ok(!err.rawMessage.includes("boom"), "internals do not reach the caller");
  }
  const err = await client.previewOccurrences({}).then(() => assert.fail("no error"), (e: unknown) => ConnectError.from(e));
  assert.equal(err.code, Code.Internal);
  const id = /id ([0-9a-f-]{36})/.exec(err.rawMessage)?.[1];
  assert.ok(lines.some((l) => l.errorId === id && String((l.err as Error).message).includes("occurrences[0].time")), "the unencodable field is logged");

  // Deliberate statuses pass through untouched, and an error that already has an id is not re-logged.
  const before = lines.length;
  const passthrough = createClient(
    RecurrenceService,
    createRouterTransport(
      (router) =>
        router.service(RecurrenceService, {
          parseRecurrence: () => {
            throw new ConnectError("internal error (id 0b0f6a8e-5b8e-4b59-9d55-1f1d29f4a0b1); the server log has the details", Code.Internal);
          },
          previewOccurrences: () => {
            throw new ConnectError("bad", Code.InvalidArgument);
          },
        }),
      { router: { interceptors: [internalErrorInterceptor(logger)] } },
    ),
  );
  const kept = await passthrough.parseRecurrence({ text: "x" }).then(() => assert.fail(), (e: unknown) => ConnectError.from(e));
  assert.match(kept.rawMessage, /0b0f6a8e/);
  const invalid = await passthrough.previewOccurrences({}).then(() => assert.fail(), (e: unknown) => ConnectError.from(e));
  assert.equal(invalid.code, Code.InvalidArgument);
  assert.equal(lines.length, before);
});
