// `npm start` killed with kill -9 in the middle of writes: its PostgreSQL server goes down with it
// (nothing left running), and after a restart on the same data folder every write that was
// acknowledged is there, once.
import { test } from "vitest";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../../..");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(probe)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function start(dataDir: string, port: number): Promise<ChildProcess> {
  const app = spawn(process.execPath, ["--import", "tsx", "apps/embedded/src/main.ts"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), TASKMESH_DATA_DIR: dataDir, LOG_LEVEL: "error" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await until("the app ready", async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
  return app;
}

async function call<T>(port: number, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

test("kill -9 under writes: the database server stops with the app, and every acknowledged task is there once after a restart", { timeout: 180_000 }, async () => {
  const parent = mkdtempSync(path.join(tmpdir(), "taskmesh-kill-"));
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, "data");
  const port = await freePort();
  try {
    let app = await start(dataDir, port);
    const { accessToken } = await call<{ accessToken: string }>(port, "taskmesh.auth.v1.AuthService/SignUp", {
      email: "kill@example.com",
      password: "correct horse battery staple",
      timeZone: "Europe/Berlin",
    });
    const { secret: token } = await call<{ secret: string }>(port, "taskmesh.auth.v1.AuthService/CreateApiToken", { name: "kill test" }, accessToken);

    const acknowledged = new Map<string, string>(); // request id → task id
    let stop = false;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const requestId = randomUUID();
        try {
          const { task } = await call<{ task: { id: string } }>(port, "taskmesh.tasks.v1.TaskService/CreateTask", { title: `t ${requestId}`, requestId }, token);
          acknowledged.set(requestId, task.id);
        } catch {
          // the app died under this call: not acknowledged, may or may not be stored
        }
      }
    });
    await until("200 acknowledged writes", () => acknowledged.size >= 200);
    const postmasterPid = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    app.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    await until("the database server to stop with the app", () => !alive(postmasterPid), 30_000);

    app = await start(dataDir, port);
    try {
      const stored = new Map<string, number>();
      let pageToken = "";
      do {
        const page = await call<{ tasks: { id: string; title: string }[]; nextPageToken?: string }>(
          port,
          "taskmesh.tasks.v1.TaskService/ListTasks",
          { query: "status:all", pageSize: 500, pageToken },
          token,
        );
        for (const t of page.tasks) stored.set(t.title, (stored.get(t.title) ?? 0) + 1);
        pageToken = page.nextPageToken ?? "";
      } while (pageToken);
      for (const requestId of acknowledged.keys()) assert.equal(stored.get(`t ${requestId}`), 1, `acknowledged task ${requestId} stored once`);
      assert.ok(
        [...stored.values()].every((n) => n === 1),
        "no task stored twice",
      );
    } finally {
      app.kill("SIGTERM");
      await new Promise((resolve) => app.once("exit", resolve));
    }
    assert.ok(!existsSync(path.join(dataDir, "postgres", "postmaster.pid")), "a clean stop leaves no server behind");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
