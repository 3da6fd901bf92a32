import type http2 from "node:http2";
import { Http2SessionManager } from "@connectrpc/connect-node";

/**
 * connect-node's HTTP/2 connection manager, minus one crash: a connection that receives GOAWAY with
 * no call open is destroyed with an error that Node raises only once its socket has closed; when a
 * call arrives in between, the manager moves to a new connection and stops listening to the old
 * one, and that error becomes an uncaught exception (connectrpc/connect-es#1768, still in 2.3.0).
 * Every replica that drains sends exactly that GOAWAY, so a rolling update could take its callers
 * down with it. Calls on a connection still learn of its errors through their own streams.
 */
export class GoawaySafeSessionManager extends Http2SessionManager {
  readonly #guarded = new WeakSet<http2.Http2Session>();

  override async request(...args: Parameters<Http2SessionManager["request"]>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !this.#guarded.has(session)) {
      this.#guarded.add(session);
      session.on("error", () => {});
    }
    return stream;
  }
}
