import { writeHead, type HttpRoute } from "@taskmesh/kit";
import { etag } from "etag";
import fresh from "fresh";
import Negotiator from "negotiator";
import { createReadStream, existsSync, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};
/**
 * Sent with every page and file of the web app. The app loads only its own scripts and talks only to
 * its own origin (Connect and the live WebSocket), so anything else is refused: injected markup cannot
 * run or send data away, and no other site can frame the app to trick a click.
 */
const csp = (styleSrc: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    `style-src ${styleSrc}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
const SECURITY_HEADERS = {
  // React sets style properties through the DOM, which style-src does not govern: no inline styles needed.
  "content-security-policy": csp("'self'"),
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
} as const;
// The page shown when the web app is not built is fixed text with a <style> block of its own.
const NOT_BUILT_HEADERS = { ...SECURITY_HEADERS, "content-security-policy": csp("'unsafe-inline'") } as const;
// Vite puts content-hashed bundles under /assets/: they never change, so browsers keep them.
const HASHED = /^\/assets\//;
// The build writes a Brotli (.br) and a gzip (.gz) copy beside each text file over 1 KiB
// (web/vite.config.ts): a browser that accepts one gets it, a quarter of the size for the app's
// script, without compressing on each request. Brotli first when the client accepts both alike.
const COMPRESSED = [
  { coding: "br", suffix: ".br" },
  { coding: "gzip", suffix: ".gz" },
] as const;
const CODINGS = [...COMPRESSED.map((c) => c.coding), "identity"];
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt"]);

/**
 * The web app (web/dist): files as they are, and index.html for any other GET that is not an API
 * path, so client-side routes load the app. Without a build, a page saying how to make one.
 */
export function webApp(dir: string, apiPrefixes: readonly string[]): HttpRoute {
  const root = path.resolve(dir);
  const index = path.join(root, "index.html");
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let urlPath: string;
    try {
      urlPath = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    } catch {
      writeHead(res, 400, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
      res.end("malformed URL encoding\n");
      return true;
    }
    if (apiPrefixes.some((p) => urlPath.startsWith(p))) return false;
    if (!existsSync(index)) {
      writeHead(res, 503, { ...NOT_BUILT_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(notBuiltPage(root));
      return true;
    }
    const file = path.join(root, path.normalize(urlPath));
    const inside = file.startsWith(root + path.sep);
    const found = inside ? await stat(file).catch(() => undefined) : undefined;
    if (found?.isFile()) {
      await serve(req, res, file, found, HASHED.test(urlPath) ? "public, max-age=31536000, immutable" : "no-cache");
      return true;
    }
    // A missing file with an extension is a broken link, not a client-side route.
    if (path.extname(urlPath)) {
      writeHead(res, 404, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
      res.end(`not found: ${urlPath}\n`);
      return true;
    }
    await serve(req, res, index, await stat(index), "no-cache");
    return true;
  };
}

async function serve(req: Parameters<HttpRoute>[0], res: Parameters<HttpRoute>[1], file: string, stats: Stats, cache: string): Promise<void> {
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, "cache-control": cache };
  const content: Record<string, string> = { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" };
  let body = { file, stats };
  if (COMPRESSIBLE.has(path.extname(file))) {
    // A cache in between must keep one copy per coding.
    headers.vary = "accept-encoding";
    const variant = await compressedVariant(req, file);
    if (variant) {
      content["content-encoding"] = variant.coding;
      body = variant;
    }
  }
  // Validators of what is sent (each coding has its own), so a browser revalidating a no-cache
  // file (index.html, on every visit) gets 304 Not Modified instead of the file again.
  headers.etag = etag(body.stats);
  headers["last-modified"] = body.stats.mtime.toUTCString();
  if (fresh(req.headers, { etag: headers.etag, "last-modified": headers["last-modified"] })) {
    writeHead(res, 304, headers);
    res.end();
    return;
  }
  writeHead(res, 200, { ...headers, ...content, "content-length": body.stats.size });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(body.file).pipe(res as NodeJS.WritableStream);
}

/** The build's compressed copy the client accepts most (RFC 9110, 12.5.3), if there is one. */
async function compressedVariant(req: Parameters<HttpRoute>[0], file: string): Promise<{ coding: string; file: string; stats: Stats } | undefined> {
  const accepted = new Negotiator(req).encodings(CODINGS, { preferred: CODINGS });
  for (const coding of accepted) {
    const known = COMPRESSED.find((c) => c.coding === coding);
    if (!known) return undefined;
    const found = await stat(file + known.suffix).catch(() => undefined);
    if (found?.isFile()) return { coding, file: file + known.suffix, stats: found };
  }
  return undefined;
}

function notBuiltPage(root: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>taskmesh</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}code,pre{background:#f4f6fa;border-radius:4px;padding:.1rem .3rem}</style>
</head><body><h1>taskmesh is running</h1>
<p>The API answers on this port, but the web app has not been built (no <code>${escapeHtml(root)}/index.html</code>). Build it and reload:</p>
<pre>npm run build -w web</pre>
<p>Scripts can use the API now: sign up with <code>taskmesh.auth.v1.AuthService/SignUp</code>, create an API token, and send
<code>authorization: Bearer &lt;token&gt;</code> (see the README). Health: <a href="/healthz">/healthz</a></p>
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
