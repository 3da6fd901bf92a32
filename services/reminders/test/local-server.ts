// The HTTP servers the reminder tests deliver to (webhook receivers, a push service): on 127.0.0.1,
// each request recorded with its body, and the TCP connections counted, since a refused delivery
// must not even connect.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** The request's path and query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface LocalServer {
  /** http://127.0.0.1:<port> */
  base: string;
  port: number;
  connections: number;
  requests: Received[];
  close(): Promise<void>;
}

/** Answers 204: what a receiver that accepts everything says. */
const accept = (res: http.ServerResponse) => res.writeHead(204).end();

/**
 * A server answering each request, once its body is read, with `answer` (given the request and how
 * many came so far, this one included); an answer that never ends the response leaves the caller waiting.
 */
export async function startLocalServer(answer: (res: http.ServerResponse, req: Received, n: number) => void = accept): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      local.requests.push(received);
      answer(res, received, local.requests.length);
    });
  });
  server.on("connection", () => local.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const local: LocalServer = {
    base: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    requests: [],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return local;
}
