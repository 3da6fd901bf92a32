// `taskmesh watch` against a change feed that goes silent after a heartbeat, as a network gone
// without a word leaves it: the stream is given up after two heartbeats unheard and resumed from
// its cursor. The task service's side is tested in services/tasks/test/watch-heartbeat.test.ts.
import { afterEach, test, vi } from "vitest";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { WatchTasksResponseSchema, type TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { watch, type Change as Seen } from "../src/watch.js";

afterEach(() => void vi.restoreAllMocks());

type Change = MessageInitShape<typeof WatchTasksResponseSchema>["change"];
const message = (cursor: string, change: Change) => create(WatchTasksResponseSchema, { cursor, change });
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

test("a stream silent for two heartbeats is taken for dead and resumed from its cursor", async () => {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const asked: string[] = [];
  const feed: Pick<Client<typeof TaskService>, "watchTasks"> = {
    async *watchTasks(req: { cursor?: string }, options?: { signal?: AbortSignal }) {
      asked.push(req.cursor ?? "");
      if (asked.length === 1) {
        yield message("5", { case: "caughtUp", value: {} });
        yield message("5", { case: "heartbeat", value: { interval: durationFromMs(100) } });
      } else {
        yield message("6", { case: "upserted", value: create(TaskSchema, { id: "t1", title: "Made while silent", version: 1n }) });
      }
      // Then nothing, not even an end.
      await untilAborted(options!.signal!);
    },
  };
  const stop = new AbortController();
  const changes: Seen[] = [];
  const started = Date.now();
  const watching = watch(feed, stop.signal, (c) => {
    changes.push(c);
    stop.abort();
  });
  await watching;
  const tookMs = Date.now() - started;
  assert.deepEqual(asked, ["", "5"], "resumed from the cursor it had");
  assert.equal(changes[0]?.change, "added");
  assert.ok(tookMs >= 2 * 100 + 1000, `not before two heartbeats went unheard (${tookMs} ms)`);
  assert.ok(
    stderr.mock.calls.some(([text]) => /^Connection lost \(nothing heard for 1 s\); reconnecting…/.test(String(text))),
    "says so",
  );
});
