// Where a webhook may point. A reminder webhook is a URL a user types and the server then POSTs to,
// so without a policy any user could make the server call its own network: the cloud metadata
// endpoint, Redis on 10.0.0.1:6379, an admin port on 127.0.0.1. The policy is applied when a URL is
// saved (a clear error for the user) and again when each delivery connects, on the addresses the
// connection actually uses: DNS is resolved here and the socket is pinned to the checked answer,
// so a name that resolves to a public address when saved and to 127.0.0.1 later is still refused.
import dns from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { flag, optional, piece, text, withDefault } from "@taskmesh/kit";
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Resolves a host name to every address it has (the connection is made to one of these). */
export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface WebhookTargetOptions {
  /**
   * Comma separated, like Gitea's webhook ALLOWED_HOST_LIST: `external` (public internet addresses;
   * the default), `private` (RFC 1918, 100.64.0.0/10, fc00::/7), `loopback` (127.0.0.0/8, ::1),
   * `*` (any address), an address or CIDR (`192.168.1.20`, `10.8.0.0/16`), or a host name
   * with a dot (`homeassistant.lan`, `*.home.arpa`), allowed whatever it resolves to.
   */
  allowedHosts?: string;
  /** Plain http:// URLs; otherwise only https://. */
  allowHttp?: boolean;
  /** DNS, replaceable in tests; default: the system resolver (getaddrinfo, so /etc/hosts too). */
  resolve?: ResolveHost;
}

/** A URL or address the policy does not allow: permanent, retrying cannot help. */
export class WebhookTargetRefused extends Error {
  constructor(
    message: string,
    /** `scheme`, `url` or `host`. */
    readonly rule: "scheme" | "url" | "host",
  ) {
    super(message);
    this.name = "WebhookTargetRefused";
  }
}

export const ALLOWED_HOSTS_SETTING = "TASKMESH_WEBHOOK_ALLOWED_HOSTS";
export const ALLOW_HTTP_SETTING = "TASKMESH_WEBHOOK_ALLOW_HTTP";

/**
 * TASKMESH_WEBHOOK_ALLOWED_HOSTS and TASKMESH_WEBHOOK_ALLOW_HTTP, whose default is false when
 * NODE_ENV=production, as in the container image, and true otherwise, so a laptop can post to a
 * local test receiver.
 */
export const webhookSettings = piece(
  {
    [ALLOWED_HOSTS_SETTING]: withDefault(text, "external", "where webhooks and push endpoints may point: `external`, `private`, `loopback`, `*`, addresses, CIDRs, host names (comma separated)"),
    [ALLOW_HTTP_SETTING]: optional(flag, "whether webhooks may use plain http:// (default: false with NODE_ENV=production, true otherwise)"),
    NODE_ENV: optional(text, "`production` in the container image: webhooks then need https unless TASKMESH_WEBHOOK_ALLOW_HTTP says otherwise"),
  },
  (v, report): WebhookTargetOptions => {
    const options = { allowedHosts: v[ALLOWED_HOSTS_SETTING], allowHttp: v[ALLOW_HTTP_SETTING] ?? v.NODE_ENV !== "production" };
    try {
      new WebhookTargetPolicy(options); // a mistyped setting stops the start, not every delivery
    } catch (err) {
      report(ALLOWED_HOSTS_SETTING, (err as Error).message.replace(`${ALLOWED_HOSTS_SETTING}: `, ""));
    }
    return options;
  },
);

type Category = "external" | "private" | "loopback" | "forbidden";

/** Where the major clouds serve instance credentials; refused unless an entry names the address. */
const METADATA = [
  "169.254.169.254", // AWS, GCP, Azure, DigitalOcean, OpenStack, …
  "169.254.170.2", // AWS ECS task metadata
  "169.254.170.23", // AWS EKS pod identity
  "fd00:ec2::254", // AWS over IPv6
  "fd00:ec2::23", // AWS EKS pod identity over IPv6
  "100.100.100.200", // Alibaba Cloud
  "192.0.0.192", // Oracle Cloud
].map((a) => ipaddr.parse(a));

const NAT64 = ipaddr.parseCIDR("64:ff9b::/96");

/** The IPv4 address an IPv6 address stands for, when the kernel or a NAT64 gateway would reach that IPv4 address. */
function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = addr.parts;
  const last32 = () => new ipaddr.IPv4([p[6]! >> 8, p[6]! & 0xff, p[7]! >> 8, p[7]! & 0xff]);
  const range = addr.range();
  if (range === "ipv4Mapped" || range === "rfc6145") return last32();
  if (addr.match(NAT64)) return last32();
  // IPv4-compatible (::a.b.c.d, deprecated), but not :: and ::1 themselves.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)) return last32();
  return undefined;
}

function describeRange(range: string): string {
  const names: Record<string, string> = {
    unicast: "a public address",
    private: "a private network address (RFC 1918)",
    carrierGradeNat: "a carrier-grade NAT address (100.64.0.0/10)",
    uniqueLocal: "a unique local address (fc00::/7)",
    loopback: "a loopback address",
    linkLocal: "a link-local address",
    unspecified: "the unspecified address",
    multicast: "a multicast address",
    broadcast: "the broadcast address",
    reserved: "a reserved address",
    rfc6052: "a local-use NAT64 address",
  };
  return names[range] ?? `a special-purpose address (${range})`;
}

/** The category an address falls in, and how to say so; IPv6 forms of an IPv4 address count as that address. */
function classify(addr: Address): { category: Category; label: string } {
  if (addr.kind() === "ipv6") {
    const inner = embeddedIPv4(addr as ipaddr.IPv6);
    if (inner) {
      const c = classify(inner);
      return { category: c.category, label: `${inner.toString()}, ${c.label}` };
    }
  }
  const range = addr.range();
  const category: Category =
    range === "unicast" ? "external" : range === "private" || range === "carrierGradeNat" || range === "uniqueLocal" ? "private" : range === "loopback" ? "loopback" : "forbidden";
  return { category, label: describeRange(range) };
}

const HOST_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

const normalName = (host: string) => host.toLowerCase().replace(/\.$/, "");

/** The hostname of a parsed URL without IPv6 brackets. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

const systemResolve: ResolveHost = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export class WebhookTargetPolicy {
  readonly allowHttp: boolean;
  readonly #categories = new Set<Category>();
  #any = false;
  readonly #cidrs: [Address, number][] = [];
  readonly #names: string[] = [];
  readonly #resolve: ResolveHost;
  /** What is allowed, in words, for error messages. */
  readonly allowed: string;

  constructor(options: WebhookTargetOptions = {}) {
    this.allowHttp = options.allowHttp ?? false;
    this.#resolve = options.resolve ?? systemResolve;
    const words: string[] = [];
    const entries = (options.allowedHosts ?? "external")
      .split(",")
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean);
    for (const entry of entries.length ? entries : ["external"]) {
      if (entry === "external" || entry === "private" || entry === "loopback") {
        this.#categories.add(entry);
        words.push({ external: "public internet addresses", private: "private network addresses", loopback: "loopback addresses" }[entry]);
      } else if (entry === "*") {
        this.#any = true;
        words.push("any address but cloud metadata endpoints");
      } else if (isIP(entry)) {
        const addr = ipaddr.parse(entry);
        this.#cidrs.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
        words.push(entry);
      } else if (entry.includes("/") && isIP(entry.slice(0, entry.indexOf("/"))) && ipaddr.isValidCIDR(entry)) {
        this.#cidrs.push(ipaddr.parseCIDR(entry));
        words.push(entry);
      } else if (HOST_NAME.test(normalName(entry)) && normalName(entry).includes(".")) {
        // A dot is required so that a mistyped keyword ("extrenal", "lan") stops the start
        // instead of quietly allowing a host of that name.
        this.#names.push(normalName(entry));
        words.push(entry);
      } else {
        throw new Error(`${ALLOWED_HOSTS_SETTING}: "${entry}" is not external, private, loopback, *, an IP address, a CIDR range or a host name with a dot`);
      }
    }
    this.allowed = words.join(", ");
  }

  /** Why this address may not be connected to, or undefined when it may. */
  addressRefusal(address: string): string | undefined {
    let addr: Address;
    try {
      addr = ipaddr.parse(address);
    } catch {
      return `${address} is not an IP address`;
    }
    const inner = addr.kind() === "ipv6" ? embeddedIPv4(addr as ipaddr.IPv6) : undefined;
    const forms: Address[] = inner ? [addr, inner] : [addr];
    const listed = this.#cidrs.some(([net, bits]) => forms.some((f) => f.kind() === net.kind() && f.match(net, bits)));
    if (listed) return undefined;
    if (forms.some((f) => METADATA.some((m) => m.kind() === f.kind() && f.match(m, f.kind() === "ipv4" ? 32 : 128)))) {
      return `${address} is a cloud metadata address`;
    }
    if (this.#any) return undefined;
    const { category, label } = classify(addr);
    return this.#categories.has(category) ? undefined : `${address} is ${label}`;
  }

  #nameAllowed(hostname: string): boolean {
    const name = normalName(hostname);
    return this.#names.some((n) => (n.startsWith("*.") ? name.endsWith(n.slice(1)) : name === n));
  }

  /**
   * The URL parsed, its scheme and (for an address or a `localhost` name) its host checked; throws
   * WebhookTargetRefused. Other names are checked on their addresses, by `check` or `lookup`.
   * The WHATWG parser has already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1.
   */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookTargetRefused(`"${raw}" is not a URL`, "url");
    }
    if (url.protocol !== "https:" && !(this.allowHttp && url.protocol === "http:")) {
      throw new WebhookTargetRefused(
        this.allowHttp ? "the webhook URL must start with https:// or http://" : "the webhook URL must start with https:// (this server sends webhooks over TLS only)",
        "scheme",
      );
    }
    const host = bareHost(url);
    if (isIP(host)) {
      const reason = this.addressRefusal(host);
      if (reason) throw this.#refused(reason);
    } else if (!this.#nameAllowed(host)) {
      // RFC 6761: localhost names are loopback without asking DNS.
      const name = normalName(host);
      if (name === "localhost" || name.endsWith(".localhost")) {
        const reason = this.addressRefusal("127.0.0.1");
        if (reason) throw this.#refused(`${host} is a loopback address`);
      }
    }
    return url;
  }

  #refused(reason: string): WebhookTargetRefused {
    return new WebhookTargetRefused(`the webhook URL may point only to ${this.allowed}: ${reason} (the server's operator can allow local network targets with ${ALLOWED_HOSTS_SETTING})`, "host");
  }

  /** The host's addresses, each checked; throws WebhookTargetRefused when any one is not allowed. */
  async resolveChecked(hostname: string): Promise<{ address: string; family: number }[]> {
    const addresses = await this.#resolve(hostname);
    if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" });
    if (this.#nameAllowed(hostname)) return addresses;
    for (const { address } of addresses) {
      const reason = this.addressRefusal(address);
      // One bad address refuses the name: which one a connection picks is not ours to choose.
      if (reason) throw this.#refused(`${hostname} resolves to ${reason.replace(`${address} is `, `${address}, `)}`);
    }
    return addresses;
  }

  /**
   * The save-time check: the URL, and the name's addresses as they are now. A name that does not
   * resolve (yet) is accepted: it cannot reach anything, and every delivery checks again.
   */
  async check(raw: string, timeoutMs = 3_000): Promise<void> {
    const url = this.checkUrl(raw);
    const host = bareHost(url);
    if (isIP(host) || this.#nameAllowed(host)) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("DNS timeout")), timeoutMs);
    });
    try {
      await Promise.race([this.resolveChecked(host), timeout]);
    } catch (err) {
      if (err instanceof WebhookTargetRefused) throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * For net/http/tls `lookup`: resolves and checks, and hands the connection only the checked
   * addresses, so it cannot go anywhere a second DNS answer would send it.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolveChecked(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === "IPv4" ? 4 : options.family === 6 || options.family === "IPv6" ? 6 : 0;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: "ENOTFOUND" }), "", 0);
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}
