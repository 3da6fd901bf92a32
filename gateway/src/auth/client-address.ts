import { BlockList, isIP } from "node:net";

/**
 * Which peers are the operator's reverse proxies (TASKMESH_TRUSTED_PROXIES: comma-separated CIDRs
 * or addresses, e.g. `10.0.0.0/8, fd00::/8, 127.0.0.1`). Only a request arriving from one of them
 * has its X-Forwarded-For read; from anyone else the header is the client's own say-so and ignored.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix, ...rest] = entry.split("/");
      const family = isIP(address ?? "");
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
      if (!family || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
        throw new Error(`TASKMESH_TRUSTED_PROXIES: "${entry}" is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)`);
      }
      this.#list.addSubnet(address!, bits, family === 6 ? "ipv6" : "ipv4");
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const plain = normalize(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 6 ? "ipv6" : "ipv4");
  }
}

/** "::ffff:1.2.3.4" → "1.2.3.4"; "[::1]" → "::1"; zone ids dropped. */
function normalize(address: string): string {
  let a = address
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  return a;
}

/**
 * The client's address: the TCP peer, or when the peer is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (entries to its left could be forged by
 * the client).
 */
export function clientAddressOf(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string {
  const socket = peer ? normalize(peer) : "unknown";
  if (trusted.size === 0 || !forwardedFor || !trusted.has(socket)) return socket;
  const hops = forwardedFor
    .split(",")
    .map((h) => normalize(h))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return socket; // garbage in the chain: fall back to what we know
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? socket;
}

/**
 * The key rate limits count an address under: IPv4 as is, IPv6 by its /64 (one host usually holds
 * a whole /64, so per-address counting would be trivially evaded).
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

function expandIpv6(address: string): string[] | undefined {
  const [head, tail, ...rest] = address.toLowerCase().split("::");
  if (rest.length > 0) return undefined;
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  if (left.some((g) => g.includes(".")) || right.some((g) => g.includes("."))) return undefined;
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  const groups = [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, ""));
  return groups.length === 8 ? groups : undefined;
}
