// The contract every Scheduler backend passes (built-in on PostgreSQL, Dapr Jobs): run it with
// `schedulerContract(backend)` from a *.test.ts file.
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import type { DueJob, Scheduler } from "../src/scheduler/scheduler.js";

/** One job store, shared by every scheduler (replica) opened on it. */
export interface JobStore {
  /** A scheduler on this store, not started. */
  open(): Promise<Scheduler>;
  /** Releases the store (schedulers are stopped by then). */
  drop(): Promise<void>;
}

export interface SchedulerBackend {
  name: string;
  fresh(): Promise<JobStore>;
}

interface Delivery extends DueJob {
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Records every delivery, and how often each (id, dueAt) was handled successfully. */
function recorder(behaviour: (job: DueJob) => Promise<void> = async () => {}) {
  const deliveries: Delivery[] = [];
  const resolved = new Map<string, number>();
  return {
    deliveries,
    resolved,
    handler: async (job: DueJob) => {
      deliveries.push({ ...job, at: Date.now() });
      await behaviour(job);
      const key = `${job.id}@${job.dueAt.toISOString()}`;
      resolved.set(key, (resolved.get(key) ?? 0) + 1);
    },
  };
}

/** A scheduler opened on the store and started, its deliveries recorded by a recorder(behaviour). */
async function startRecorded(open: () => Promise<Scheduler>, behaviour?: (job: DueJob) => Promise<void>) {
  const scheduler = await open();
  const rec = recorder(behaviour);
  await scheduler.start(rec.handler);
  return { scheduler, rec };
}

export function schedulerContract(backend: SchedulerBackend): void {
  describe(`scheduler contract: ${backend.name}`, () => {
    async function withStore(fn: (open: () => Promise<Scheduler>) => Promise<void>): Promise<void> {
      const store = await backend.fresh();
      const opened: Scheduler[] = [];
      try {
        await fn(async () => {
          const s = await store.open();
          opened.push(s);
          return s;
        });
      } finally {
        for (const s of opened) await s.stop();
        await store.drop();
      }
    }

    test("a job fires at its time, never before, once", async () => {
      await withStore(async (open) => {
        const { scheduler, rec } = await startRecorded(open);
        const base = Date.now();
        // Ids shaped as the reminder engine makes them (slashes; reminder ids are the client's).
        const jobs = [300, 500, 800, 1_200].map((ms, i) => ({ id: `reminder/task-${i}/r #${i}?`, dueAt: new Date(base + ms) }));
        await scheduler.schedule(jobs);
        await until("4 deliveries", () => rec.deliveries.length >= 4);
        await sleep(300);
        assert.equal(rec.deliveries.length, 4, "each job once");
        for (const d of rec.deliveries) {
          assert.ok(d.at >= d.dueAt.getTime(), `${d.id} fired ${d.dueAt.getTime() - d.at} ms early`);
          assert.equal(d.attempt, 1);
        }
      });
    });

    test("50 jobs due within 100 ms all fire (none dropped)", async () => {
      await withStore(async (open) => {
        const { scheduler, rec } = await startRecorded(open);
        const base = Date.now() + 400;
        const jobs = Array.from({ length: 50 }, (_, i) => ({ id: `burst-${i}`, dueAt: new Date(base + i * 2) }));
        // Armed one by one, as reminders are, each later than the one before.
        for (const job of jobs) await scheduler.schedule([job]);
        await until("50 deliveries", () => new Set(rec.deliveries.map((d) => d.id)).size === 50);
        await sleep(300);
        assert.equal(rec.deliveries.length, 50);
        for (const d of rec.deliveries) assert.ok(d.at >= d.dueAt.getTime(), `${d.id} early`);
      });
    });

    test("re-scheduling moves a job; cancel disarms it", async () => {
      await withStore(async (open) => {
        const { scheduler, rec } = await startRecorded(open);
        const base = Date.now();
        await scheduler.schedule([
          { id: "moved", dueAt: new Date(base + 300) },
          { id: "delivery/cancelled", dueAt: new Date(base + 300) },
        ]);
        await scheduler.schedule([{ id: "moved", dueAt: new Date(base + 900) }]);
        await scheduler.cancel(["delivery/cancelled", "never-existed"]);
        await until("the moved job", () => rec.deliveries.length >= 1);
        await sleep(500);
        assert.deepEqual(
          rec.deliveries.map((d) => d.id),
          ["moved"],
        );
        assert.ok(rec.deliveries[0]!.at >= base + 900, "at its new time");
        assert.equal(rec.deliveries[0]!.dueAt.getTime(), base + 900);
      });
    });

    test("jobs that fell due while no scheduler ran fire when one starts", async () => {
      await withStore(async (open) => {
        const before = await open();
        const base = Date.now();
        await before.schedule(Array.from({ length: 20 }, (_, i) => ({ id: `down-${i}`, dueAt: new Date(base + i * 10) })));
        await sleep(400);
        const { rec } = await startRecorded(open);
        await until("20 caught-up deliveries", () => rec.deliveries.length >= 20);
        await sleep(200);
        assert.equal(rec.deliveries.length, 20);
      });
    });

    test("a failing handler is delivered again (with a higher attempt), then done", async () => {
      await withStore(async (open) => {
        const { scheduler, rec } = await startRecorded(open, async (job) => {
          if (job.attempt === 1) throw new Error("downstream unavailable");
        });
        await scheduler.schedule([{ id: "flaky", dueAt: new Date(Date.now() + 100) }]);
        await until("the retry", () => rec.deliveries.length >= 2);
        await sleep(1_000);
        assert.deepEqual(
          rec.deliveries.map((d) => d.attempt),
          [1, 2],
        );
      });
    });

    test("stopped with handlers in flight and restarted: nothing lost, nothing handled twice", async () => {
      await withStore(async (open) => {
        const first = await open();
        // Some handlers fail on their first delivery (as after a crash mid-way): those jobs come back.
        const rec = recorder(async (job) => {
          await sleep(150);
          if (job.attempt === 1 && Number(job.id.split("-")[1]) % 3 === 0) throw new Error("crashed after the effect");
        });
        await first.start(rec.handler);
        const base = Date.now() + 200;
        const jobs = Array.from({ length: 30 }, (_, i) => ({ id: `restart-${i}`, dueAt: new Date(base + i * 5) }));
        await first.schedule(jobs);
        await until("some handlers in flight", () => rec.deliveries.length >= 3);
        await first.stop();
        const second = await open();
        await second.start(rec.handler);
        await until("every job handled", () => rec.resolved.size === 30, 30_000);
        await sleep(500);
        assert.ok(
          [...rec.resolved.values()].every((n) => n === 1),
          "a job handled successfully never comes back",
        );
        assert.equal(rec.deliveries.filter((d) => d.attempt > 1).length, 10, "the failed ones, once more each");
        for (const d of rec.deliveries) assert.ok(d.at >= d.dueAt.getTime(), `${d.id} early`);
      });
    });

    test("two replicas on one store share the jobs and never deliver one twice", async () => {
      await withStore(async (open) => {
        const [a, b] = [await open(), await open()];
        const rec = recorder(async () => {
          await sleep(5);
        });
        const by = new Map<string, string[]>();
        await a.start(async (job) => {
          by.set(job.id, [...(by.get(job.id) ?? []), "a"]);
          await rec.handler(job);
        });
        await b.start(async (job) => {
          by.set(job.id, [...(by.get(job.id) ?? []), "b"]);
          await rec.handler(job);
        });
        const base = Date.now() + 300;
        await a.schedule(Array.from({ length: 100 }, (_, i) => ({ id: `shared-${i}`, dueAt: new Date(base + i * 2) })));
        await until("100 deliveries", () => by.size === 100);
        await sleep(500);
        const twice = [...by].filter(([, who]) => who.length > 1);
        assert.deepEqual(twice, [], "no job delivered twice");
      });
    });

    test("a job scheduled through another replica wakes a sleeping one at its time", async () => {
      await withStore(async (open) => {
        const { rec: sleeper } = await startRecorded(open);
        const other = await open();
        const dueAt = new Date(Date.now() + 500);
        await other.schedule([{ id: "from-elsewhere", dueAt }]);
        await until("the delivery", () => sleeper.deliveries.length === 1, 10_000);
        assert.ok(sleeper.deliveries[0]!.at >= dueAt.getTime());
      });
    });
  });
}
