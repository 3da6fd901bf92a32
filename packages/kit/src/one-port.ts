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
export function createOnePortServer(handler: Handler): {
  server: net.Server;
  h1: http.Server;
  h2: http2.Http2Server;
  /** Every accepted connection still open, so a drain can end the ones its protocol server kept. */
  sockets: Set<net.Socket>;
  /** The connections handed to the HTTP/2 server: their session ends them, after its last frames. */
  http2Sockets: WeakSet<net.Socket>;
} {
  const sockets = new Set<net.Socket>();
  const http2Sockets = new WeakSet<net.Socket>();
  const h1 = http.createServer(handler as http.RequestListener);
  const h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  // Long-lived streams (WatchTasks, reflection) must not be cut by Node's default timeouts.
  h1.requestTimeout = 0;
  h1.keepAliveTimeout = 65_000;
  // h1 never listens itself, but Node only tracks its connections (closeIdleConnections,
  // closeAllConnections, used when draining) once it has seen 'listening'.
  h1.emit("listening");
  // Nagle would hold small gRPC frames back for delayed ACKs (tens of ms); http.createServer sets
  // noDelay itself, a plain net server must ask for it.
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk.toString("latin1", 0, H2_PREFACE.length) === H2_PREFACE) {
        // The session reads the socket natively from here on, and first takes what is buffered in
        // it (the sniffed chunk): Node feeds a new session a socket's readable buffer.
        http2Sockets.add(socket);
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  return { server, h1, h2, sockets, http2Sockets };
}
