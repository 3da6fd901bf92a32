// The import, export and calendar-feed endpoints: plain HTTP (a file goes up, a file or a calendar
// comes down), authenticated like every API call except the feed itself, which a calendar app
// fetches by its secret URL alone. The file formats (@taskmesh/interchange: its CSV and iCalendar
// libraries) are loaded by the first import, export or feed, not at start: most days see none.
import { createHash } from "node:crypto";
import fresh from "fresh";
import type { HttpRoute, Logger } from "@taskmesh/kit";
import { writeHead } from "@taskmesh/kit";
import type { ImportFormat, ImportPlan } from "@taskmesh/interchange";
import type { Authenticator } from "../auth/index.js";
import { checkScope, type Scope } from "../auth/scopes.js";
import type { CalendarFeedStore } from "../calendar/feed-store.js";
import { feedContent } from "../calendar/feed-content.js";
import type { Upstream } from "../forward.js";
import { callerFor } from "./caller.js";
import { collectExport } from "./exporter.js";
import { BodyTooLarge, readBody, requestHeaders, sendConnectError, sendError, sendJson, type NodeRequest, type NodeResponse } from "./http.js";
import { runImport } from "./importer.js";

/** Largest import file: a Todoist or Taskwarrior export of tens of thousands of tasks fits. */
export const DEFAULT_MAX_IMPORT_BYTES = 5 * 1024 * 1024;

export interface InterchangeOptions {
  authenticator: Authenticator;
  feeds: CalendarFeedStore;
  upstreams: readonly Upstream[];
  logger: Logger;
  maxImportBytes?: number;
}

const FEED_PATH = /^\/calendar\/(tm_cal_[A-Za-z0-9_-]{16,128})\.ics$/;
const FEED_ID_PATH = /^\/api\/calendar-feeds\/([0-9a-fA-F-]{36})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function interchangeRoutes(options: InterchangeOptions): HttpRoute {
  const maxImportBytes = options.maxImportBytes ?? DEFAULT_MAX_IMPORT_BYTES;

  async function signedIn(req: NodeRequest, needed: Scope[]) {
    const headers = requestHeaders(req);
    const identity = await options.authenticator.fromHeaders(headers);
    for (const scope of needed) checkScope(identity.scopes, scope, new URL(req.url ?? "/", "http://x").pathname);
    return callerFor(options.upstreams, identity, headers);
  }

  async function importFile(req: NodeRequest, res: NodeResponse, url: URL) {
    const caller = await signedIn(req, ["read", "write"]);
    const { IMPORT_FORMATS, ImportFormatError, readImportFile } = await import("@taskmesh/interchange");
    const format = url.searchParams.get("format") || undefined;
    if (format && !IMPORT_FORMATS.includes(format as ImportFormat)) return sendError(res, 400, `format must be one of ${IMPORT_FORMATS.join(", ")}`, { field: "format" });
    let text: string;
    try {
      text = await readBody(req, maxImportBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendError(res, 413, `the file is larger than ${maxImportBytes / 1024 / 1024} MiB`);
      throw err;
    }
    let plan: ImportPlan;
    try {
      plan = readImportFile(text, { format: format as ImportFormat | undefined, fileName: url.searchParams.get("filename") ?? undefined });
    } catch (err) {
      if (err instanceof ImportFormatError) return sendError(res, 400, err.message, { where: err.where ?? null, imported: 0 });
      throw err;
    }
    sendJson(res, 200, await runImport(plan, caller));
  }

  async function exportFile(req: NodeRequest, res: NodeResponse, url: URL) {
    const caller = await signedIn(req, ["read"]);
    const format = url.searchParams.get("format") ?? "json";
    if (format !== "json" && format !== "csv") return sendError(res, 400, "format must be json or csv", { field: "format" });
    const { exportCsv, exportJson } = await import("@taskmesh/interchange");
    const content = await collectExport(caller);
    const day = content.exportedAt.toISOString().slice(0, 10);
    writeHead(res, 200, {
      "content-type": format === "json" ? "application/json; charset=utf-8" : "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="taskmesh-${day}.${format}"`,
      "cache-control": "no-store",
    });
    res.end(format === "json" ? exportJson(content) : exportCsv(content));
  }

  async function feeds(req: NodeRequest, res: NodeResponse, path: string) {
    const caller = await signedIn(req, req.method === "GET" ? ["read"] : ["read", "write"]);
    const userId = caller.identity.userId;
    const idPath = FEED_ID_PATH.exec(path);
    if (idPath && req.method === "DELETE") {
      const revoked = await options.feeds.revoke(userId, idPath[1]!, new Date());
      return revoked ? sendJson(res, 200, {}) : sendError(res, 404, "no such calendar feed");
    }
    if (path !== "/api/calendar-feeds") return sendError(res, 404, "not found");
    if (req.method === "GET") return sendJson(res, 200, { feeds: await options.feeds.list(userId) });
    if (req.method !== "POST") return sendError(res, 405, "use GET, POST or DELETE");
    let projectId: string | null = null;
    try {
      const body = JSON.parse((await readBody(req, 4096)) || "{}") as { projectId?: unknown };
      if (body.projectId !== undefined && body.projectId !== "") {
        if (typeof body.projectId !== "string" || !UUID.test(body.projectId)) return sendError(res, 400, "projectId must be a project's id", { field: "projectId" });
        projectId = body.projectId;
      }
    } catch {
      return sendError(res, 400, 'the body must be JSON: {} or {"projectId": "…"}');
    }
    // Only a project the user may see gets a feed (GetProject checks it).
    if (projectId) await caller.projects.getProject({ id: projectId });
    const { row, secret } = await options.feeds.regenerate(userId, projectId, new Date());
    sendJson(res, 200, { feed: row, path: `/calendar/${secret}.ics` });
  }

  async function serveFeed(req: NodeRequest, res: NodeResponse, secret: string) {
    const owner = await options.feeds.owner(secret);
    const notFound = () => sendError(res, 404, "no such calendar feed (revoked or regenerated?)");
    if (!owner) return notFound();
    const caller = callerFor(options.upstreams, { userId: owner.userId, timeZone: owner.timeZone, email: owner.email, kind: "api-token", scopes: ["read"] });
    const body = await feedContent(caller, owner.projectId);
    if (body === undefined) return notFound();
    const headers = {
      "cache-control": "private, max-age=300",
      // A calendar polling the feed is told "304 Not Modified" while nothing in it changed (RFC 9110).
      etag: `"${createHash("sha256").update(body).digest("base64url")}"`,
      // The URL is the credential: keep it out of other sites' Referer headers.
      "referrer-policy": "no-referrer",
    };
    // If-None-Match alone, as RFC 9110 evaluates it at the origin: a request's Cache-Control: no-cache
    // (which fetch() adds to any conditional request) is for caches on the way, not for this answer.
    if (fresh({ "if-none-match": req.headers["if-none-match"] }, headers)) {
      writeHead(res, 304, headers);
      res.end();
      return;
    }
    writeHead(res, 200, { ...headers, "content-type": "text/calendar; charset=utf-8", "content-disposition": 'inline; filename="taskmesh.ics"' });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  }

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const path = url.pathname;
    const feed = FEED_PATH.exec(path);
    const handled = feed || path === "/api/import" || path === "/api/export" || path.startsWith("/api/calendar-feeds");
    if (!handled) return false;
    try {
      if (feed && (req.method === "GET" || req.method === "HEAD")) await serveFeed(req, res, feed[1]!);
      else if (path === "/api/import" && req.method === "POST") await importFile(req, res, url);
      else if (path === "/api/export" && req.method === "GET") await exportFile(req, res, url);
      else if (path.startsWith("/api/calendar-feeds")) await feeds(req, res, path);
      else sendError(res, 405, "method not allowed");
    } catch (err) {
      if (res.headersSent) {
        options.logger.warn({ err, path }, "interchange request failed after its answer began");
        res.end();
      } else sendConnectError(res, err);
    }
    return true;
  };
}
