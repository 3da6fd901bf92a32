// WatchTasks cursors as users see them, through the gateway on PostgreSQL: opaque (the feed's
// position across all users never shows), resumable by their user only, on the RPC and the live
// socket; another user's, altered or older plain-number cursors get a refetch, never another feed.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { RefetchSchema } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import type { WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { hello, LiveClient, meshUnderTest } from "./fixtures.js";

const OPAQUE = /^c1\.[\w-]{22}$/;

describe("WatchTasks cursors", () => {
  const mesh = meshUnderTest();

  /** The messages of a WatchTasks stream up to caughtUp. */
  async function watch(headers: Record<string, string>, cursor = ""): Promise<WatchTasksResponse[]> {
    const out: WatchTasksResponse[] = [];
    for await (const message of mesh.taskClient.watchTasks({ cursor, untilCaughtUp: true }, { headers })) out.push(message);
    return out;
  }

  test("the RPC's cursors are opaque and resume for their user; another's, an altered or a plain number means refetch", async () => {
    const alice = await mesh.user("alice-cursor");
    const bob = await mesh.user("bob-cursor");
    const start = (await watch(alice.headers)).at(-1)!;
    assert.equal(start.change.case, "caughtUp");
    assert.match(start.cursor, OPAQUE);

    await mesh.taskClient.createTask({ title: "one" }, { headers: alice.headers });
    // Other users' activity moves the feed on: nothing of it shows in Alice's cursors.
    for (let i = 0; i < 3; i++) await mesh.taskClient.createTask({ title: `bob ${i}` }, { headers: bob.headers });
    await mesh.taskClient.createTask({ title: "two" }, { headers: alice.headers });
    const resumed = await watch(alice.headers, start.cursor);
    assert.deepEqual(
      resumed.map((m) => (m.change.case === "upserted" ? m.change.value.title : m.change.case)),
      ["one", "two", "caughtUp"],
    );
    for (const m of resumed) assert.match(m.cursor, OPAQUE);
    assert.equal(new Set(resumed.map((m) => m.cursor)).size, 2, "caughtUp repeats the last change's cursor");

    const tampered = start.cursor.slice(0, -2) + (start.cursor.endsWith("AA") ? "BA" : "AA");
    for (const [what, cursor] of [
      ["Bob's own cursor", (await watch(bob.headers)).at(-1)!.cursor],
      ["an altered cursor", tampered],
      ["a plain feed position", "1"],
    ] as const) {
      const answer = await watch(alice.headers, cursor);
      assert.equal(answer[0]?.change.case, "resyncRequired", what);
      assert.deepEqual(
        answer.slice(1).map((m) => m.change.case),
        ["caughtUp"],
        `${what}: nothing of any feed replayed`,
      );
      assert.match(answer[0]!.cursor, OPAQUE);
    }
    // Bob's cursor for his own position does not open for Alice, nor hers for him.
    assert.notEqual((await watch(bob.headers)).at(-1)!.cursor, (await watch(alice.headers)).at(-1)!.cursor);
  });

  test("the live socket: another user's cursor or a plain number gets refetch, never their changes", async () => {
    const alice = await mesh.user("alice-live");
    const bob = await mesh.user("bob-live");
    await mesh.taskClient.createTask({ title: "Bob's old news" }, { headers: bob.headers });
    const bobs = (await watch(bob.headers)).at(-1)!.cursor;
    for (const cursor of [bobs, "1"]) {
      const device = await LiveClient.open(mesh.url, hello(alice.token, cursor));
      const ready = await device.next("ready");
      assert.equal(device.frames[0]?.case, "ready", "ready first");
      assert.match(ready.cursor, OPAQUE);
      assert.deepEqual(await device.next(), { case: "refetch", value: create(RefetchSchema, { cursor: ready.cursor }) });
      assert.deepEqual(
        (await device.quiet(300)).map((f) => f.case),
        [],
      );
      device.close();
    }
  });
});
