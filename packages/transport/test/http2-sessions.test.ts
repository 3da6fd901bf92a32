// A replica that drains sends GOAWAY to its idle callers; the caller's process must survive it.
import { test } from "vitest";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { GoawaySafeSessionManager } from "../src/http2-sessions.js";

/** Answers every request; `goaway()` tells every idle connection to go away, as a draining replica does. */
async function h2Server() {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on("session", (s) => sessions.add(s));
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    goaway: () => {
      for (const s of sessions) s.goaway(http2.constants.NGHTTP2_NO_ERROR);
    },
    close: () => {
      for (const s of sessions) s.destroy();
      server.close();
    },
  };
}

/** One request and its whole response; resolves with the connection it went on. */
async function call(manager: Http2SessionManager): Promise<http2.Http2Session> {
  const stream = await manager.request("POST", "/", {}, {});
  const session = stream.session!;
  stream.end();
  stream.resume();
  await once(stream, "close");
  return session;
}

/** Resolves with the uncaught exceptions raised while `work` runs and for a moment after. */
async function uncaughtDuring(work: () => Promise<void>): Promise<Error[]> {
  const uncaught: Error[] = [];
  const record = (err: Error) => uncaught.push(err);
  // node:test fails the test on an uncaught exception; take them first to report them as a result.
  const previous = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", record);
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off("uncaughtException", record);
    for (const listener of previous) process.on("uncaughtException", listener);
  }
  return uncaught;
}

test("a call made just as an idle connection gets GOAWAY goes to a new connection and nothing crashes", async () => {
  const server = await h2Server();
  const manager = new GoawaySafeSessionManager(server.url);
  const first = await call(manager);
  const uncaught = await uncaughtDuring(async () => {
    // The next call comes in the same tick as the GOAWAY, before the old socket has closed.
    const next = new Promise<http2.Http2Session>((resolve, reject) => first.once("goaway", () => call(manager).then(resolve, reject)));
    server.goaway();
    assert.notEqual(await next, first, "the call went to a new connection");
  });
  assert.deepEqual(
    uncaught.map((e) => e.message),
    [],
  );
  manager.abort();
  server.close();
});
