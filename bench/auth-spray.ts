// `npm run bench -- auth-spray [--no-queue]`: does a spray of sign-ins slow down reads? The embedded
// app runs as a child process (node + tsx on the sources, its own PostgreSQL from benchDatabase());
// one user lists 50 tasks at c=1 (ListTasks, Connect JSON), first alone, then while sign-ins with
// random e-mails arrive at c=8 and at c=32. Each spray request carries its own X-Forwarded-For and
// the app trusts 127.0.0.1 as its proxy, so the spray looks like many clients (the per-address
// limit alone would stop a one-address spray at once): what holds reads up is the global limit and
// the bounded hashing queue. Prints ListTasks p50/p99 and the spray's outcomes (401 = hashed and
// refused, RESOURCE_EXHAUSTED = turned away before hashing). --no-queue: hashing concurrency 64
// with a queue of 10,000, the behaviour before the queue (the global limit still applies).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort, spawnServer, waitFor } from "@taskmesh/infra/cache";
import { benchDatabase } from "./lib.js";

const root = path.resolve(import.meta.dirname, "..");
const noQueue = process.argv.includes("--no-queue");
const PHASE_MS = 15_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function rpc(url: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/${method}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, json };
}

const db = await benchDatabase();
const dataDir = mkdtempSync(path.join(tmpdir(), "bench-auth-spray-"));
const port = await freePort();
const proc = spawnServer({
  name: "embedded",
  command: process.execPath,
  args: ["--import", "tsx", "apps/embedded/src/main.ts"],
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: db.url,
    TASKMESH_DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    TASKMESH_TRUSTED_PROXIES: "127.0.0.1/32,::1/128",
    ...(noQueue ? { TASKMESH_PASSWORD_HASH_CONCURRENCY: "64", TASKMESH_PASSWORD_HASH_QUEUE: "10000" } : {}),
  },
  logFile: path.join(dataDir, "app.log"),
  stopSignal: "SIGTERM",
});
const url = `http://127.0.0.1:${port}`;
try {
  await waitFor(async () => (await fetch(`${url}/readyz`)).ok, { what: "embedded app", timeoutMs: 120_000, proc });
  const { json: signedUp } = await rpc(url, "taskmesh.auth.v1.AuthService/SignUp", { email: "reader@example.com", password: "correct horse battery staple" });
  const auth = { authorization: `Bearer ${signedUp.accessToken as string}` };
  for (let i = 0; i < 50; i++) await rpc(url, "taskmesh.tasks.v1.TaskService/CreateTask", { title: `Task ${i}`, tags: ["bench"], dueDate: "2027-01-15" }, auth);

  const reads = async (until: () => boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    while (until()) {
      const t0 = performance.now();
      const r = await rpc(url, "taskmesh.tasks.v1.TaskService/ListTasks", { pageSize: 50 }, auth);
      latencies.push(performance.now() - t0);
      if (r.status !== 200) errors++;
    }
    return { latencies, errors };
  };

  const phase = async (label: string, concurrency: number) => {
    const end = Date.now() + PHASE_MS;
    const outcomes = new Map<string, number>();
    let n = 0;
    const spray = Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = n++;
        const r = await rpc(
          url,
          "taskmesh.auth.v1.AuthService/SignIn",
          { email: `spray-${i}-${Math.random().toString(36).slice(2)}@example.com`, password: "guess guess guess" },
          { "x-forwarded-for": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
        ).catch(() => ({ status: 0, json: { code: "network error" } }));
        const key = String(r.json.code ?? r.status);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    });
    const [read] = await Promise.all([reads(() => Date.now() < end), ...spray]);
    const spraySummary = concurrency === 0 ? "" : `  sign-ins ${n}: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`;
    console.log(
      `${label.padEnd(28)} ListTasks ×${read.latencies.length}  p50 ${pct(read.latencies, 50).toFixed(1)} ms  p99 ${pct(read.latencies, 99).toFixed(1)} ms` +
        `${read.errors ? `  (${read.errors} errors)` : ""}${spraySummary}`,
    );
  };

  console.log(`auth-spray${noQueue ? " --no-queue (hash concurrency 64, queue 10,000)" : ""}: ${PHASE_MS / 1000} s per phase, node ${process.version}`);
  await phase("no spray", 0);
  await phase("spray c=8", 8);
  await new Promise((r) => setTimeout(r, 61_000)); // the global limit's window passes between sprays
  await phase("spray c=32", 32);
} finally {
  await proc.stop();
  await db.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
}
