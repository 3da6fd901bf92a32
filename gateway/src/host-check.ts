import { writeHead, type HttpRoute } from "@taskmesh/kit";
import type http from "node:http";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";

/** Host names a request may name besides IP addresses and localhost; "any" turns the check off. */
export type AllowedHosts = readonly string[] | "any";

/**
 * Whether a request's Host may be served. A page on a site whose name an attacker points at
 * 127.0.0.1 (DNS rebinding) talks to a local install as same-origin, but its requests name the
 * attacker's host: only this machine's names, IP addresses and the configured hosts are answered.
 * No Host at all is a non-browser client (browsers always send one).
 */
export function hostAllowed(host: string | undefined, allowed: AllowedHosts): boolean {
  if (allowed === "any" || host === undefined || host === "") return true;
  const name = hostName(host).toLowerCase();
  if (isIP(name) !== 0 || name === "localhost" || name.endsWith(".localhost")) return true;
  return allowed.some((h) => h.toLowerCase() === name);
}

function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") > 0 ? host.indexOf("]") : undefined);
  return host.replace(/:\d*$/, "").replace(/\.$/, "");
}

const refusal = (host: string) => `this server does not answer to the host name "${host}": add it to TASKMESH_ALLOWED_HOSTS\n`;

function requestHost(req: http.IncomingMessage): string | undefined {
  const headers = req.headers as Record<string, string | string[] | undefined>;
  const value = headers.host ?? headers[":authority"];
  return Array.isArray(value) ? value[0] : value;
}

/** An HTTP route tried before every other (RPC included): 421 for a host not allowed. */
export function hostCheckRoute(allowed: AllowedHosts): HttpRoute {
  return (req, res) => {
    const host = requestHost(req as http.IncomingMessage);
    if (hostAllowed(host, allowed)) return false;
    writeHead(res, 421, { "content-type": "text/plain; charset=utf-8" });
    res.end(refusal(host!));
    return true;
  };
}

/** The same check for WebSocket upgrades. */
export function hostCheckedUpgrade(allowed: AllowedHosts, upgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = requestHost(req);
    if (hostAllowed(host, allowed)) return upgrade(req, socket, head);
    const body = refusal(host!);
    socket.end(`HTTP/1.1 421 Misdirected Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
}
