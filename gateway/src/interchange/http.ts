// Small helpers for the plain-HTTP endpoints beside the RPCs: JSON answers and bounded bodies.
import { Code, ConnectError } from "@connectrpc/connect";
import { writeHead, type HttpRoute } from "@taskmesh/kit";

export type NodeRequest = Parameters<HttpRoute>[0];
export type NodeResponse = Parameters<HttpRoute>[1];

export function sendJson(res: NodeResponse, status: number, body: unknown): void {
  writeHead(res, status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

export function sendError(res: NodeResponse, status: number, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { error: message, ...extra });
}

/** An RPC's error as the HTTP status the Connect protocol gives it. */
export function sendConnectError(res: NodeResponse, err: unknown): void {
  const error = ConnectError.from(err);
  const status: Partial<Record<Code, number>> = {
    [Code.Unauthenticated]: 401,
    [Code.PermissionDenied]: 403,
    [Code.NotFound]: 404,
    [Code.InvalidArgument]: 400,
    [Code.ResourceExhausted]: 429,
    [Code.Unavailable]: 503,
    [Code.DeadlineExceeded]: 504,
  };
  sendError(res, status[error.code] ?? 500, error.rawMessage, { code: Code[error.code] });
}

export function requestHeaders(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

export class BodyTooLarge extends Error {}

/** The body as text; BodyTooLarge past `maxBytes` (read no further). */
export async function readBody(req: NodeRequest, maxBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
