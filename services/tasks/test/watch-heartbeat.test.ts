// WatchTasks once caught up and silent: a heartbeat every interval, so that a client and the proxies
// between see the stream alive (nginx ends a stream silent for 60 s), and a client can take a stream
// that stays silent longer for dead.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { TaskService, type WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { startTasksModule } from "../src/index.js";

const HEARTBEAT_MS = 300;
let client: Client<typeof TaskService>;
let stop: () => Promise<void>;

beforeAll(async () => {
  const db = await freshDatabase();
  const tasks = await startTasksModule({ databaseUrl: db.url, watchHeartbeatMs: HEARTBEAT_MS });
  client = createClient(TaskService, createRouterTransport(tasks.routes));
  stop = async () => {
    await tasks.stop();
    await db.drop();
  };
});
afterAll(() => stop());

test("a caught-up stream silent for the interval gets a heartbeat at its cursor; changes still come as they commit", async () => {
  const as = { headers: { "x-user-id": `heartbeat-${process.pid}` } };
  const abort = new AbortController();
  const stream = client.watchTasks({}, { ...as, signal: abort.signal })[Symbol.asyncIterator]();
  const next = async (): Promise<{ message: WatchTasksResponse; afterMs: number }> => {
    const started = Date.now();
    const r = await stream.next();
    assert.ok(!r.done, "stream ended early");
    return { message: r.value, afterMs: Date.now() - started };
  };
  try {
    const { message: caughtUp } = await next();
    assert.equal(caughtUp.change.case, "caughtUp");
    const { message: beat, afterMs } = await next();
    assert.equal(beat.change.case, "heartbeat");
    assert.ok(afterMs >= HEARTBEAT_MS - 20, `after the interval of silence, not before (${afterMs} ms)`);
    assert.equal(beat.cursor, caughtUp.cursor);
    assert.equal(beat.change.case === "heartbeat" && beat.change.value.interval && durationMs(beat.change.value.interval), HEARTBEAT_MS);

    const { task } = await client.createTask({ title: "after a heartbeat" }, as);
    let changed: WatchTasksResponse;
    do changed = (await next()).message;
    while (changed.change.case === "heartbeat");
    assert.equal(changed.change.case, "upserted");
    assert.equal(changed.change.value.id, task!.id);
    assert.equal((await next()).message.change.case, "heartbeat", "and again once silent");
  } finally {
    abort.abort();
  }
});
