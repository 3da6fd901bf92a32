import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

export type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

const H2_PREFACE = "PRI * HTTP/2.0";

/**
 * One plaintext port for HTTP/1.1 (Connect, gRPC-Web, curl, browsers) and h2c with prior knowledge
 * (gRPC, grpcurl, buf curl). Node's http2 server only falls back to HTTP/1.1 over TLS (ALPN), so the
 * protocol is chosen by sniffing the client preface.
 */
export function createOnePortServer(handler: Handler): { server: net.Server; h1: http.Server; h2: http2.Http2Server } {
  const h1 = http.createServer(handler as http.RequestListener);
  const h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  // Long-lived streams (WatchTasks, reflection) must not be cut by Node's default timeouts.
  h1.requestTimeout = 0;
  h1.keepAliveTimeout = 65_000;
  const server = net.createServer((socket) => {
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const target = chunk.toString("latin1", 0, H2_PREFACE.length) === H2_PREFACE ? h2 : h1;
      target.emit("connection", socket);
      socket.resume();
    });
    socket.on("error", () => socket.destroy());
  });
  return { server, h1, h2 };
}
