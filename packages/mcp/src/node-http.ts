import type http from "node:http";
import type http2 from "node:http2";
import { writeHead } from "@taskmesh/kit";

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export function headersOf(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/** The body as text, or undefined when it is over `max` bytes. */
export async function readText(req: NodeRequest, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function json(res: NodeResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  writeHead(res, status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Where this server is reached, as the client sees it (behind a TLS proxy: X-Forwarded-Proto). */
export function originOf(req: NodeRequest): string {
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = (typeof forwarded === "string" && forwarded.split(",")[0]!.trim()) || ("encrypted" in req.socket ? "https" : "http");
  const host = req.headers.host ?? req.headers[":authority"] ?? "localhost";
  return `${proto}://${host}`;
}
