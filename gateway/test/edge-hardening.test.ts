// The public port's edges, on PostgreSQL: /metrics only on a port of its own; requests naming a host
// the install does not answer to refused (DNS rebinding against a local install), for RPCs, pages and
// the live socket; the web app's Content-Security-Policy without inline styles or scripts, its files in the
// coding the browser accepts most, with validators for revalidation (304).
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { freshDatabase } from "@taskmesh/testing";
import { startMesh, type TestMesh } from "./fixtures.js";

/** A raw request with the Host header of our choosing (fetch does not let one set it, and decodes bodies). */
function request(url: string, options: { method?: string; host: string; path: string; headers?: Record<string, string>; body?: string }) {
  const { port } = new URL(url);
  return new Promise<{ status: number; body: string; bytes: Buffer; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path, headers: { ...options.headers, host: options.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, body: bytes.toString(), bytes, headers: res.headers });
      });
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("the public port's edges", () => {
  let mesh: TestMesh;
  let drop: () => Promise<void>;
  const webDir = mkdtempSync(path.join(tmpdir(), "taskmesh-web-"));
  // A bundle with the compressed copies the build writes beside it.
  const script = Buffer.from(`console.log(${JSON.stringify("taskmesh ".repeat(400))});\n`);

  beforeAll(async () => {
    writeFileSync(path.join(webDir, "index.html"), "<!doctype html><title>taskmesh</title>");
    mkdirSync(path.join(webDir, "assets"));
    writeFileSync(path.join(webDir, "assets", "index-1a2b3c.js"), script);
    writeFileSync(path.join(webDir, "assets", "index-1a2b3c.js.br"), brotliCompressSync(script));
    writeFileSync(path.join(webDir, "assets", "index-1a2b3c.js.gz"), gzipSync(script));
    const db = await freshDatabase();
    drop = db.drop;
    mesh = await startMesh({ databaseUrl: db.url, gateway: { metricsPort: 0, allowedHosts: ["tasks.example.com"], webDir } });
  });
  afterAll(async () => {
    await mesh.stop();
    await drop();
    rmSync(webDir, { recursive: true, force: true });
  });

  test("/metrics is served on the metrics port only", async () => {
    await mesh.user("metrics");
    const scraped = await fetch(`http://127.0.0.1:${mesh.gateway.metrics!.port}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /rpc_server_duration_seconds_count\{[^}]*SignUp/);
    const onApi = await fetch(`${mesh.url}/metrics`);
    assert.equal(onApi.status, 404);
    const text = await onApi.text();
    assert.doesNotMatch(text, /rpc_server_duration_seconds|process_cpu/);
    assert.match(text, /METRICS_PORT/);
  });

  test("a Host the install does not answer to is refused (421) for RPCs, pages and the live socket; its names, IPs and configured hosts are served", async () => {
    const rpc = (host: string) =>
      request(mesh.url, { method: "POST", host, path: "/taskmesh.auth.v1.AuthService/SignIn", headers: { "content-type": "application/json" }, body: '{"email":"a@example.com","password":"x"}' });
    for (const host of ["attacker.example", "attacker.example:8080", "localhost.attacker.example", "127.0.0.1.nip.io"]) {
      const res = await rpc(host);
      assert.equal(res.status, 421, host);
      assert.match(res.body, /TASKMESH_ALLOWED_HOSTS/);
      assert.equal((await request(mesh.url, { host, path: "/" })).status, 421, `${host}: the page`);
    }
    const port = new URL(mesh.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "app.localhost", "TASKS.example.com", "10.0.0.5"]) {
      assert.equal((await rpc(host)).status, 401, `${host}: answered (wrong password)`);
      assert.equal((await request(mesh.url, { host, path: "/" })).status, 200, `${host}: the page`);
    }

    const upgrade = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1",
          port,
          path: "/live",
          headers: { host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
        });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(res.statusCode!);
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.end();
      });
    assert.equal(await upgrade("attacker.example"), 421);
    assert.equal(await upgrade(`localhost:${port}`), 101);
  });

  test("the web app's files go in the coding the browser accepts most, Brotli before gzip when it accepts both alike", async () => {
    const get = (acceptEncoding?: string, method = "GET") =>
      request(mesh.url, { method, host: "localhost", path: "/assets/index-1a2b3c.js", headers: acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding } });
    const cases: [string | undefined, string | undefined][] = [
      ["gzip, deflate, br, zstd", "br"],
      ["gzip", "gzip"],
      ["br;q=0.5, gzip", "gzip"],
      ["GZIP;q=0.8, *;q=0.1", "gzip"],
      ["*", "br"],
      [undefined, undefined],
      ["identity", undefined],
      ["br;q=0, gzip;q=0", undefined],
      ["compress", undefined],
    ];
    for (const [accept, coding] of cases) {
      const res = await get(accept);
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], coding, `Accept-Encoding: ${accept}`);
      assert.equal(res.headers.vary, "accept-encoding");
      assert.equal(Number(res.headers["content-length"]), res.bytes.length);
      const decoded = coding === "br" ? brotliDecompressSync(res.bytes) : coding === "gzip" ? gunzipSync(res.bytes) : res.bytes;
      assert.ok(decoded.equals(script), `Accept-Encoding: ${accept}: the script, decoded`);
    }
    assert.ok((await get("br")).bytes.length * 4 < script.length, "the Brotli copy is the smaller one");
    const head = await get("gzip, br", "HEAD");
    assert.equal(head.headers["content-encoding"], "br");
    assert.equal(Number(head.headers["content-length"]), brotliCompressSync(script).length);
    assert.equal(head.bytes.length, 0);
    // Without a compressed copy (the page is under the build's 1 KiB), the file as it is.
    const page = await request(mesh.url, { host: "localhost", path: "/", headers: { "accept-encoding": "br, gzip" } });
    assert.equal(page.headers["content-encoding"], undefined);
    assert.match(page.body, /<title>taskmesh<\/title>/);
  });

  test("the web app's files carry validators: a browser revalidating gets 304 Not Modified, each coding its own", async () => {
    const get = (file: string, headers: Record<string, string> = {}) => request(mesh.url, { host: "localhost", path: file, headers });
    const page = await get("/");
    assert.equal(page.status, 200);
    assert.equal(page.headers["cache-control"], "no-cache");
    const etag = page.headers.etag!;
    assert.match(etag, /^(W\/)?"[^"]+"$/);
    assert.ok(!Number.isNaN(Date.parse(page.headers["last-modified"]!)));
    // What a browser sends when it revalidates the page it keeps.
    const again = await get("/", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers["cache-control"], "no-cache");
    assert.equal((await get("/", { "if-modified-since": page.headers["last-modified"]! })).status, 304);
    assert.equal((await get("/", { "if-none-match": '"something-else"' })).status, 200);
    assert.equal((await get("/", { "if-none-match": etag, "cache-control": "no-cache" })).status, 200, "a reload asks for the page itself");
    // The Brotli copy and the file as it is are different representations, with different tags.
    const br = await get("/assets/index-1a2b3c.js", { "accept-encoding": "br" });
    const plain = await get("/assets/index-1a2b3c.js");
    assert.notEqual(br.headers.etag, plain.headers.etag);
    const notModified = await get("/assets/index-1a2b3c.js", { "accept-encoding": "br", "if-none-match": br.headers.etag! });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.vary, "accept-encoding");
    assert.equal((await get("/assets/index-1a2b3c.js", { "if-none-match": br.headers.etag! })).status, 200, "a tag of the Brotli copy does not validate the file as it is");
  });

  test("the web app's policy allows no inline script or style and no framing", async () => {
    const res = await fetch(`${mesh.url}/`);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
  });
});
