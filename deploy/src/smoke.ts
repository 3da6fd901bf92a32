// Smoke test of a deployed release through its gateway (deploy workflows): ready, sign up a fresh
// account, create a task, read it back through the search. Exits non-zero with the failing step,
// which makes deploy-cloud roll the release back.
//
//   tsx deploy/src/smoke.ts https://taskmesh.example.com
import { randomUUID } from "node:crypto";

const base = (process.argv[2] ?? "").replace(/\/$/, "");
if (!base) {
  console.error("usage: tsx deploy/src/smoke.ts <gateway base URL>");
  process.exit(2);
}

async function call<T>(path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function waitReady(deadline: number): Promise<void> {
  for (;;) {
    const status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`/readyz: ${status}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

await waitReady(Date.now() + 120_000);
const email = `smoke-${randomUUID()}@example.com`;
const { accessToken } = await call<{ accessToken: string }>("/taskmesh.auth.v1.AuthService/SignUp", { email, password: randomUUID(), timeZone: "UTC" });
const title = `smoke ${new Date().toISOString()}`;
const { task } = await call<{ task: { id: string } }>("/taskmesh.tasks.v1.TaskService/CreateTask", { title, requestId: randomUUID() }, accessToken);
const { tasks } = await call<{ tasks?: { id: string }[] }>("/taskmesh.tasks.v1.TaskService/ListTasks", { query: "" }, accessToken);
if (!tasks?.some((t) => t.id === task.id)) throw new Error(`ListTasks does not return the task just created (${task.id})`);
console.log(`smoke test passed against ${base}: signed up, created and listed task ${task.id}`);
