// A link to PostgreSQL that dies without a word (a partition, a server whose host vanished, a
// dropped NAT entry) closes nothing: no error, no end. What waits on it must give up within a
// bound, and carry on once a working connection can be had again.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import pg from "pg";
import { isTransientError } from "@taskmesh/kit";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { startToxiproxy, type ToxiproxyHandle } from "@taskmesh/testing/infra";
import { connectionBounds, DEFAULT_CONNECTION_BOUNDS, openDatabase, type Database } from "../src/index.js";

/** How a promise ended within `ms` ("hung" when it had not), and its error. */
async function within(ms: number, work: Promise<unknown>): Promise<{ outcome: "ok" | "failed" | "hung"; ms: number; error?: unknown }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let error: unknown;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
  const outcome = await Promise.race([
    work.then(
      () => "ok" as const,
      (err: unknown) => {
        error = err;
        return "failed" as const;
      },
    ),
    hung,
  ]);
  clearTimeout(timer);
  return { outcome, ms: Date.now() - t0, error };
}

/** What these bounds fail with says "try again later": consumers retry it instead of dead-lettering, services answer UNAVAILABLE. */
function assertTransient(error: unknown): void {
  assert.ok(isTransientError(error), `not taken as transient: ${String(error)}`);
}

/** `url` with these parameters added, and through 127.0.0.1:`port` when given. */
function via(url: string, params: Record<string, string>, port?: number): string {
  const u = new URL(url);
  if (port !== undefined) {
    u.hostname = "127.0.0.1";
    u.port = String(port);
  }
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

// Small bounds, so that each case takes seconds.
const BOUNDS = { query_timeout: "1500", statement_timeout: "1000", connect_timeout: "2", listen_ping: "500" };

describe("connection bounds", () => {
  test("come from the URL's parameters, in their units, the defaults otherwise; a bad value is refused by name", () => {
    assert.deepEqual(connectionBounds("postgres://u@h:5432/db"), DEFAULT_CONNECTION_BOUNDS);
    assert.deepEqual(connectionBounds("postgres://u@h:5432/db?query_timeout=20000&connect_timeout=3&keepalives_idle=7"), {
      ...DEFAULT_CONNECTION_BOUNDS,
      queryTimeoutMs: 20_000,
      connectTimeoutMs: 3_000,
      keepAliveIdleMs: 7_000,
    });
    assert.throws(() => connectionBounds("postgres://u@h:5432/db?statement_timeout=5s"), /statement_timeout must be a positive whole number of milliseconds \(got "5s"\)/);
    assert.throws(() => connectionBounds("postgres://u@h:5432/db?connect_timeout=0"), /connect_timeout must be a positive whole number of seconds/);
  });
});

describe("a link that swallows everything (Toxiproxy)", () => {
  let toxiproxy: ToxiproxyHandle;
  let fresh: FreshDatabase;
  let db: Database;
  beforeAll(async () => {
    toxiproxy = await startToxiproxy();
    fresh = await freshDatabase();
    const target = new URL(fresh.url);
    const port = await toxiproxy.create("pg", `${target.hostname}:${target.port}`);
    // One place in the pool: a connection that kept it would stop every later query.
    db = await openDatabase({ url: via(fresh.url, BOUNDS, port), schema: "silent_test", entities: [], migrations: [], poolSize: 1 });
  }, 120_000);
  afterAll(async () => {
    await toxiproxy?.reset();
    await db?.close();
    await fresh?.drop();
    await toxiproxy?.stop();
  });

  test("fails a query and a transaction within the bounds, each time, and serves the next caller once it is back", { timeout: 60_000 }, async () => {
    assert.deepEqual(await db.query(db.em(), "SELECT 1 AS one"), [{ one: 1 }]);
    await toxiproxy.addToxic("pg", "blackhole", { type: "timeout", attributes: { timeout: 0 } });
    // The connection in the pool: its query is never answered (query_timeout).
    const first = await within(10_000, db.query(db.em(), "SELECT 1"));
    assert.equal(first.outcome, "failed", `a query on the swallowed link ${first.outcome} (${first.ms} ms)`);
    assert.ok(first.ms < 4_000, `it failed after ${first.ms} ms`);
    assertTransient(first.error);
    // Its place is free again: a new connection is tried, and never set up (connect_timeout).
    const second = await within(
      10_000,
      db.em().transactional((em) => db.query(em, "SELECT 1")),
    );
    assert.equal(second.outcome, "failed", `a transaction on the swallowed link ${second.outcome} (${second.ms} ms)`);
    assert.ok(second.ms < 4_000, `it failed after ${second.ms} ms`);
    assertTransient(second.error);
    await toxiproxy.reset();
    const healed = await within(5_000, db.query(db.em(), "SELECT 1"));
    assert.equal(healed.outcome, "ok", `once the link is back, a query ${healed.outcome}`);
  });
});

describe("the server's bounds", () => {
  test("a statement running past statement_timeout is cancelled", { timeout: 30_000 }, async () => {
    const fresh = await freshDatabase();
    const db = await openDatabase({ url: via(fresh.url, { statement_timeout: "500" }), schema: "bounds_test", entities: [], migrations: [] });
    try {
      const slow = await within(10_000, db.query(db.em(), "SELECT pg_sleep(5)"));
      assert.equal(slow.outcome, "failed", `a 5 s statement ${slow.outcome} (${slow.ms} ms)`);
      assert.ok(slow.ms < 3_000, `it was cancelled after ${slow.ms} ms`);
      assertTransient(slow.error);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });

  test("a session left idle inside a transaction is ended and its locks freed", { timeout: 30_000 }, async () => {
    const fresh = await freshDatabase();
    const url = via(fresh.url, { idle_in_transaction_session_timeout: "500" });
    const db = await openDatabase({ url, schema: "bounds_test", entities: [], migrations: [] });
    const other = new pg.Client({ connectionString: fresh.url });
    await other.connect();
    try {
      await other.query("CREATE TABLE bounds_test.counter (n int); INSERT INTO bounds_test.counter VALUES (0)");
      // A holder that stops talking inside its transaction, with the row locked (a client gone quiet).
      const holder = db.em().transactional(async (em) => {
        await db.query(em, "UPDATE bounds_test.counter SET n = n + 1");
        await new Promise((r) => setTimeout(r, 5_000));
      });
      const holderEnded = within(15_000, holder);
      await new Promise((r) => setTimeout(r, 200));
      const blocked = await within(10_000, other.query("UPDATE bounds_test.counter SET n = n + 10"));
      assert.equal(blocked.outcome, "ok", `the other writer ${blocked.outcome} (${blocked.ms} ms)`);
      assert.ok(blocked.ms < 3_000, `it waited ${blocked.ms} ms for the lock`);
      const ended = await holderEnded;
      assert.equal(ended.outcome, "failed", "the holder's transaction is gone");
      assertTransient(ended.error);
    } finally {
      await other.end();
      await db.close();
      await fresh.drop();
    }
  });
});

/**
 * A TCP relay to PostgreSQL whose open connections can be frozen: nothing passes either way and
 * nothing is closed, while new connections pass (a dropped NAT entry, a server moved elsewhere: the
 * old connections are dead for good, a new one works).
 */
async function freezableRelay(target: URL): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const frozen: net.Socket[] = [];
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop: what each side sends goes nowhere, and no side learns anything.
        client.removeAllListeners("data").on("data", () => {});
        upstream.removeAllListeners("data").on("data", () => {});
        frozen.push(client, upstream);
      }
      pairs.clear();
    },
    async close() {
      for (const s of frozen) s.destroy();
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test("a LISTEN session that stops answering is found out and re-opened, and says notifications may have been missed", { timeout: 60_000 }, async () => {
  const fresh = await freshDatabase();
  const relay = await freezableRelay(new URL(fresh.url));
  const direct = await openDatabase({ url: fresh.url, schema: "silent_listen_test", entities: [], migrations: [] });
  const db = await openDatabase({ url: via(fresh.url, BOUNDS, relay.port), schema: "silent_listen_test", entities: [], migrations: [] });
  const received: (string | null)[] = [];
  const arrived = async (value: string | null, ms: number) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) if (received.includes(value)) return true;
    return false;
  };
  try {
    await db.listen("wake", (payload) => received.push(payload));
    await direct.query(direct.em(), `SELECT pg_notify('wake', 'before')`);
    assert.ok(await arrived("before", 5_000), "a notification before the freeze");
    relay.freeze();
    // The frozen session answers nothing; the ping (every 500 ms, 1.5 s to answer) finds it out.
    assert.ok(await arrived(null, 10_000), `the lost session was re-opened (received: ${JSON.stringify(received)})`);
    await direct.query(direct.em(), `SELECT pg_notify('wake', 'after')`);
    assert.ok(await arrived("after", 5_000), "a notification on the new session");
  } finally {
    await db.close();
    await direct.close();
    await relay.close();
    await fresh.drop();
  }
});
