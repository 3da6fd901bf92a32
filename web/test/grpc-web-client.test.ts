// The official grpc-web client (Google's `grpc-web` runtime, what protoc-gen-grpc-web's code calls) in
// Chromium against the app's gateway: in its default text mode (application/grpc-web-text, base64)
// and in binary mode. Its messages are the bytes protobuf-es makes here, so no generated code of
// its own is needed; the page is the app's, so the calls are same-origin as a hosted client's.
import { test } from "vitest";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import {
  CreateTaskRequestSchema,
  CreateTaskResponseSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  ListTasksResponseSchema,
  TaskService,
  WatchTasksRequestSchema,
  WatchTasksResponseSchema,
} from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { appInBrowser } from "./support/suite.js";
import { PASSWORD } from "./support/session.js";

const suite = appInBrowser();

const library = readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve("grpc-web")), "index.esm.js"), "utf8")
  .replace(/^export \{[^}]*\};?$/m, "")
  .replace(/^\/\/# sourceMappingURL=.*$/m, "");

// The page's functions: a unary call (its answer's bytes, or the error's code and message) and a
// server stream whose messages collect in `watched`. Installed through DevTools, which the page's
// Content-Security-Policy does not govern.
const install = `(() => {
${library}
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const url = (method) => location.origin + "/taskmesh.tasks.v1.TaskService/" + method;
const descriptor = (method, type) => new MethodDescriptor("/taskmesh.tasks.v1.TaskService/" + method, type, Object, Object, (req) => req, (res) => res);
window.grpcWebCall = (format, method, request, token) =>
  new GrpcWebClientBase({ format }).unaryCall(url(method), bytes(request), { authorization: "Bearer " + token }, descriptor(method, MethodType.UNARY))
    .then((res) => ({ bytes: b64(res) }), (err) => ({ code: err.code, message: err.message }));
window.grpcWebWatch = (request, token) => {
  window.watched = [];
  window.watch = new GrpcWebClientBase({ format: "text" }).serverStreaming(url("WatchTasks"), bytes(request), { authorization: "Bearer " + token }, descriptor("WatchTasks", MethodType.SERVER_STREAMING));
  window.watch.on("data", (res) => window.watched.push(b64(res)));
  window.watch.on("error", (err) => window.watched.push("error " + err.code + ": " + err.message));
};
})()`;

const base64 = <S extends DescMessage>(schema: S, init: MessageInitShape<S>) => Buffer.from(toBinary(schema, create(schema, init))).toString("base64");

test("the official grpc-web client, in its default text mode and in binary mode: calls, an error's status, a live server stream", async () => {
  const { context, page } = await suite.page();
  const transport = createConnectTransport({ baseUrl: suite.app.url, httpVersion: "1.1" });
  const { accessToken: token } = await createClient(AuthService, transport).signUp({ email: `grpc-web-${randomUUID()}@example.com`, password: PASSWORD, timeZone: "Europe/Berlin" });
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/taskmesh.tasks.v1.TaskService/")) sent.push(`${r.url().split("/").pop()} ${r.headers()["content-type"]}`);
  });
  await page.evaluate(install);
  const call = <S extends DescMessage>(format: "text" | "binary", method: string, schema: S, init: MessageInitShape<S>) =>
    page.evaluate<{ bytes?: string; code?: number; message?: string }>(`grpcWebCall(${JSON.stringify(format)}, ${JSON.stringify(method)}, "${base64(schema, init)}", "${token}")`);

  const created = await call("text", "CreateTask", CreateTaskRequestSchema, { title: "Sent through grpc-web", tags: ["web"] });
  assert.ok(created.bytes, `CreateTask failed: ${JSON.stringify(created)}`);
  assert.equal(fromBinary(CreateTaskResponseSchema, Buffer.from(created.bytes, "base64")).task?.title, "Sent through grpc-web");

  const missing = await call("text", "GetTask", GetTaskRequestSchema, { id: randomUUID() });
  assert.equal(missing.code, 5, `NOT_FOUND expected: ${JSON.stringify(missing)}`);
  assert.match(missing.message ?? "", /not found/);
  const blank = await call("text", "CreateTask", CreateTaskRequestSchema, { title: "" });
  assert.equal(blank.code, 3, `INVALID_ARGUMENT expected: ${JSON.stringify(blank)}`);
  assert.match(blank.message ?? "", /title/);

  // A live stream: caught up at once, then a task made elsewhere arrives while the stream stays open.
  await page.evaluate(`grpcWebWatch("${base64(WatchTasksRequestSchema, {})}", "${token}")`);
  // Polled from here: waitForFunction would evaluate its text in the page, which its CSP refuses.
  const watched = async (count: number) => {
    let all: string[] = [];
    for (const deadline = Date.now() + 10_000; all.length < count && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
      all = await page.evaluate<string[]>("window.watched");
    }
    assert.ok(all.length >= count, `${all.length} of ${count} messages of the stream within 10 s`);
    for (const m of all) assert.doesNotMatch(m, /^error/);
    return all.map((m) => fromBinary(WatchTasksResponseSchema, Buffer.from(m, "base64")));
  };
  assert.equal((await watched(1))[0]?.change.case, "caughtUp");
  await createClient(TaskService, transport).createTask({ title: "Made on another device" }, { headers: { authorization: `Bearer ${token}` } });
  const [, change] = await watched(2);
  assert.equal(change?.change.case === "upserted" && change.change.value.title, "Made on another device");
  await page.evaluate("window.watch.cancel()");

  const listed = await call("binary", "ListTasks", ListTasksRequestSchema, {});
  assert.ok(listed.bytes, `ListTasks failed: ${JSON.stringify(listed)}`);
  const titles = fromBinary(ListTasksResponseSchema, Buffer.from(listed.bytes, "base64")).tasks.map((t) => t.title);
  assert.deepEqual(titles.sort(), ["Made on another device", "Sent through grpc-web"]);

  assert.ok(sent.includes("CreateTask application/grpc-web-text"), sent.join("\n"));
  assert.ok(sent.includes("WatchTasks application/grpc-web-text"), sent.join("\n"));
  assert.ok(sent.includes("ListTasks application/grpc-web+proto"), sent.join("\n"));
  await context.close();
});
