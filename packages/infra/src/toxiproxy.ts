/**
 * Toxiproxy between the services and what they use: one TCP proxy per link, with faults added and
 * removed through its HTTP API while traffic flows (latency, a connection that stalls then closes,
 * a link that swallows everything, a link that is down). Built from its Go module into the cache
 * once (go-tools.ts), run on a free loopback port.
 *
 *   tsx packages/infra/src/toxiproxy.ts start|install   (start prints TOXIPROXY_URL)
 */
import { freePort, isMain, log, serviceDir, serviceGuard, spawnServer, waitFor } from './cache.js';
import { serviceCli } from './cli.js';
import { ensureGoTool, GO_TOOLS } from './go-tools.js';
import * as path from 'node:path';

const C = 'toxiproxy';

/** A toxic as Toxiproxy's API takes it: `latency` {latency, jitter} ms, `timeout` {timeout} ms (0: never closes), … */
export interface Toxic {
  type: 'latency' | 'timeout' | 'bandwidth' | 'slow_close' | 'reset_peer' | 'limit_data';
  stream?: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

export interface ToxiproxyHandle {
  /** the API, e.g. http://127.0.0.1:PORT */
  url: string;
  /** A proxy listening on 127.0.0.1:`listenPort` (a free one when omitted) to `upstream` (host:port); returns its port. */
  create(name: string, upstream: string, listenPort?: number): Promise<number>;
  /** Points the proxy at another upstream (a restarted process on a new port); open connections are closed. */
  retarget(name: string, upstream: string): Promise<void>;
  /** Down: open connections are closed and new ones refused. Up: accepted again. */
  setEnabled(name: string, enabled: boolean): Promise<void>;
  /** Adds `toxic` under `toxicName`, in both directions unless it names one. */
  addToxic(proxy: string, toxicName: string, toxic: Toxic): Promise<void>;
  /** Every proxy enabled, every toxic removed. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function api(url: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`toxiproxy ${method} ${route}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export async function ensureToxiproxyInstalled(): Promise<string> {
  return ensureGoTool('toxiproxy');
}

export async function startToxiproxy(): Promise<ToxiproxyHandle> {
  const bin = await ensureToxiproxyInstalled();
  const dir = serviceDir(C);
  const guard = serviceGuard(C, dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  try {
    const proc = spawnServer({ name: C, command: bin, args: ['-host', '127.0.0.1', '-port', String(port)], logFile: path.join(dir, 'toxiproxy.log'), cwd: dir });
    guard.proc = proc;
    await waitFor(async () => (await fetch(`${url}/version`)).ok, { timeoutMs: 30_000, what: `Toxiproxy API (${url})`, component: C, proc });
  } catch (e) {
    await guard.fail();
    throw e;
  }
  log(C, `Toxiproxy ${GO_TOOLS.toxiproxy.version} ready: ${url}`);
  return {
    url,
    async create(name, upstream, listenPort) {
      const created = (await api(url, 'POST', '/proxies', { name, upstream, listen: `127.0.0.1:${listenPort ?? 0}`, enabled: true })) as { listen: string };
      return Number(created.listen.split(':').pop());
    },
    async retarget(name, upstream) {
      await api(url, 'POST', `/proxies/${name}`, { upstream });
    },
    async setEnabled(name, enabled) {
      await api(url, 'POST', `/proxies/${name}`, { enabled });
    },
    async addToxic(proxy, toxicName, toxic) {
      for (const stream of toxic.stream ? [toxic.stream] : (['upstream', 'downstream'] as const)) {
        await api(url, 'POST', `/proxies/${proxy}/toxics`, { name: `${toxicName}-${stream}`, type: toxic.type, stream, toxicity: 1, attributes: toxic.attributes });
      }
    },
    async reset() {
      await api(url, 'POST', '/reset');
    },
    stop: () => guard.shutdown(),
  };
}

if (isMain(import.meta.url)) {
  await serviceCli(C, {
    install: async () => void (await ensureToxiproxyInstalled()),
    start: async () => {
      const toxiproxy = await startToxiproxy();
      return { env: { TOXIPROXY_URL: toxiproxy.url }, stop: toxiproxy.stop };
    },
  });
}
