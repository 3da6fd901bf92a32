// Clients in other languages, generated from proto/ with the templates beside this folder into a
// temporary directory (generated code is not checked in: each consumer picks its own package path,
// and what needs proving is that today's contracts generate and work): a Go client (connect-go,
// Connect protocol over HTTP/1.1) built with `go build`, and a Python client (grpcio, gRPC over h2c).
// Each signs up through the gateway of the embedded app, creates a task, lists it and gets it back,
// and prints the answers as JSON, checked here.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createLogger } from "@taskmesh/kit";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";
import { which, ensurePythonVenv, pythonInterpreter } from "@taskmesh/testing/infra";

const exec = promisify(execFile);
const CLIENTS = path.resolve(import.meta.dirname, "..");
const ROOT = path.resolve(CLIENTS, "..");
const BUF = path.join(ROOT, "node_modules", ".bin", "buf");
const PASSWORD = "clients-secret";

const protocGenGo = process.env.TASKMESH_TEST_PROTOC_GEN_GO;
const protocGenConnectGo = process.env.TASKMESH_TEST_PROTOC_GEN_CONNECT_GO;
const go = which("go");
const goSkip =
  !protocGenGo || !protocGenConnectGo
    ? "TASKMESH_TEST_PROTOC_GEN_GO / TASKMESH_TEST_PROTOC_GEN_CONNECT_GO are not set: run the suites with `npm test`, which builds the plugins"
    : !go && "Go is not installed";
const pythonSkip = spawnSync(pythonInterpreter(), ["--version"]).status !== 0 && `${pythonInterpreter()} is not installed (TASKMESH_PYTHON names another)`;

/** What both example programs print: the Protobuf JSON mapping of the answers. */
interface Printed {
  user: { id: string; email: string };
  created: JsonTask;
  listed: JsonTask[];
  got: JsonTask;
}
interface JsonTask {
  id: string;
  title: string;
  status: string;
  priority: string;
  tags: string[];
  version: string;
}

/** `buf generate` with a client template into `out`, with `binDirs` first on PATH (plugins, python3). */
async function generate(template: string, out: string, binDirs: string[]): Promise<void> {
  await exec(BUF, ["generate", "--template", path.join("clients", template), "-o", out], {
    cwd: ROOT,
    env: { ...process.env, PATH: [...binDirs, process.env.PATH].join(path.delimiter) },
  });
}

function checkPrinted(printed: Printed, email: string, title: string, tag: string): void {
  assert.equal(printed.user.email, email);
  assert.ok(printed.user.id);
  const { created } = printed;
  assert.equal(created.title, title);
  assert.equal(created.status, "TASK_STATUS_OPEN");
  assert.equal(created.priority, "PRIORITY_HIGH");
  assert.deepEqual(created.tags, [tag]);
  assert.equal(created.version, "1");
  assert.deepEqual(
    printed.listed.map((t) => t.id),
    [created.id],
    "a new account lists its one task, no one else's",
  );
  assert.deepEqual(printed.got, created);
}

describe("clients in other languages, through the gateway", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-clients-data-"));
  const work = mkdtempSync(path.join(tmpdir(), "taskmesh-clients-"));
  let app: EmbeddedApp;

  beforeAll(async () => {
    if (goSkip && pythonSkip) return;
    app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("clients-test"));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test("Go over the Connect protocol: generated with protoc-gen-go and protoc-gen-connect-go, built, signs up, creates, lists, gets", { timeout: 15 * 60_000 }, async (ctx) => {
    if (goSkip) ctx.skip(goSkip);
    const out = path.join(work, "go");
    await generate("buf.gen.go.yaml", out, [path.dirname(protocGenGo!), path.dirname(protocGenConnectGo!)]);
    const module = path.join(out, "clients", "go");
    for (const file of ["go.mod", "go.sum", "main.go"]) cpSync(path.join(CLIENTS, "go", file), path.join(module, file));
    const binary = path.join(out, "taskmesh-go-example");
    // -trimpath: the build cache is keyed without the temporary directory, so later runs reuse it
    await exec(go!, ["build", "-trimpath", "-o", binary, "."], { cwd: module, env: { ...process.env, CGO_ENABLED: "0" } });

    const email = "go-client@example.com";
    const title = "Written in Go";
    const { stdout } = await exec(binary, ["-url", app.server.url, "-email", email, "-password", PASSWORD, "-title", title]);
    const printed = JSON.parse(stdout) as Printed & { contentType: string };
    assert.equal(printed.contentType, "application/proto", "a Connect unary answer, binary Protobuf");
    checkPrinted(printed, email, title, "go");
  });

  test("Python over gRPC (h2c): generated with grpcio-tools, signs up, creates, lists, gets", { timeout: 10 * 60_000 }, async (ctx) => {
    if (pythonSkip) ctx.skip(pythonSkip);
    const python = await ensurePythonVenv(path.join(CLIENTS, "python", "requirements.txt"));
    const out = path.join(work, "python");
    await generate("buf.gen.python.yaml", out, [path.dirname(python)]);
    const script = path.join(out, "clients", "python", "example.py");
    cpSync(path.join(CLIENTS, "python", "example.py"), script);

    const email = "python-client@example.com";
    const title = "Written in Python";
    const target = new URL(app.server.url).host;
    const { stdout } = await exec(python, [script, "--target", target, "--email", email, "--password", PASSWORD, "--title", title]);
    checkPrinted(JSON.parse(stdout) as Printed, email, title, "python");
  });
});
