/**
 * Shared helpers for the test-infrastructure harness (Node built-ins only).
 *
 *  - cache directory (outside the clone, survives fresh CI checkouts)
 *  - download() with retries, temp-file + rename, optional SHA-1 verification
 *  - Maven Central URL helpers
 *  - freePort()/freePorts(), waitFor()
 *  - withLock(): cross-process lock so two runs don't populate the same cache entry
 *  - spawnServer(): long-running server in its own process group, output to a log file,
 *    whole group killed on stop() and on parent exit / SIGINT / SIGTERM
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { infraSettings } from './settings.js';

// ---------------------------------------------------------------------------
// logging

/** Short progress line on stderr, e.g. `[infra:kafka] started in 4.1s`. */
export function log(component: string, msg: string): void {
  process.stderr.write(`[infra:${component}] ${msg}\n`);
}

export class InfraError extends Error {
  override name = 'InfraError';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function elapsed(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)}s`;
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------------------
// cache + temp dirs

/** `${TASKMESH_CACHE:-$HOME/.cache/taskmesh}[/...sub]`, created if missing. */
export function cacheDir(...sub: string[]): string {
  const root = infraSettings.cacheRoot;
  const dir = path.join(root, ...sub);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

let runDirPath: string | undefined;

/**
 * Per-process temp dir holding every service's data dir and log file
 * (`$TASKMESH_RUN_DIR` or `$TMPDIR/taskmesh-run-XXXXXX`). Removed on exit if empty.
 */
export function runDir(): string {
  if (runDirPath) return runDirPath;
  const fromEnv = infraSettings.runDir;
  if (fromEnv) {
    fs.mkdirSync(fromEnv, { recursive: true });
    runDirPath = fromEnv;
  } else {
    sweepStaleRunDirs();
    runDirPath = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmesh-run-'));
    fs.chmodSync(runDirPath, 0o755); // the postgres user must be able to traverse it
    const created = runDirPath;
    fs.writeFileSync(path.join(created, '.owner-pid'), String(process.pid));
    process.on('exit', () => {
      try {
        fs.rmSync(path.join(created, '.owner-pid'), { force: true });
        fs.rmdirSync(created); // only succeeds when empty (logs of failed services are kept)
      } catch {
        /* not empty or already gone */
      }
    });
  }
  return runDirPath;
}

/** Remove run dirs left behind by SIGKILLed processes (their .owner-pid is dead). */
function sweepStaleRunDirs(): void {
  try {
    for (const e of fs.readdirSync(os.tmpdir())) {
      if (!e.startsWith('taskmesh-run-')) continue;
      const d = path.join(os.tmpdir(), e);
      try {
        const pid = Number(fs.readFileSync(path.join(d, '.owner-pid'), 'utf8'));
        if (pid > 0 && !pidAlive(pid)) rmrf(d);
      } catch {
        /* no pid file (kept logs of a finished run) or not ours */
      }
    }
  } catch {
    /* best effort */
  }
}

/** Fresh directory `<runDir>/<name>-XXXXXX` for one service instance. */
export function serviceDir(name: string): string {
  return fs.mkdtempSync(path.join(runDir(), `${name}-`));
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

/** true when TASKMESH_KEEP_INFRA=1: stop() keeps data dirs and logs for debugging. */
export function keepDirs(): boolean {
  return infraSettings.keepInfra;
}

// ---------------------------------------------------------------------------
// cross-process lock (mkdir based)

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run fn while holding `<cache>/.lock-<name>`; stale locks (dead pid) are broken. */
export async function withLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  const dir = path.join(cacheDir(), `.lock-${name}`);
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let stale = false;
      try {
        const pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'));
        stale = Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
      } catch {
        // no pid file yet: stale only if the dir is old
        try {
          stale = Date.now() - fs.statSync(dir).mtimeMs > 30_000;
        } catch {
          /* vanished: retry */
        }
      }
      if (stale) {
        rmrf(dir);
        continue;
      }
      if (Date.now() > deadline) {
        throw new InfraError(`timed out waiting for lock ${dir}; if no other taskmesh process is running, delete it and retry`);
      }
      if (!announced) {
        log('cache', `waiting for another process to finish "${name}" (lock ${dir})`);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmrf(dir);
  }
}

// ---------------------------------------------------------------------------
// downloads

export interface DownloadOptions {
  /** expected SHA-1 hex; verified before the file is moved into place */
  sha1?: string;
  retries?: number;
  /** component name for progress lines */
  what?: string;
}

export function sha1File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha1');
    fs.createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export async function fetchText(url: string, retries = 3): Promise<string> {
  let lastErr: unknown;
  for (let attempt = 1; attempt <= retries; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new InfraError(`HTTP ${res.status} for ${url}`);
      return await res.text();
    } catch (e) {
      lastErr = e;
      if (e instanceof InfraError && /HTTP 404/.test(e.message)) break;
      if (attempt < retries) await sleep(1000 * attempt);
    }
  }
  throw new InfraError(`could not fetch ${url}: ${String(lastErr)}. Check network access to the registry (proxy / firewall) and retry.`);
}

/**
 * Download url to dest (idempotent: returns immediately if dest exists).
 * Streams to `dest.part-<random>`, verifies sha1 when given, then renames atomically.
 */
export async function download(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  if (fs.existsSync(dest)) return dest;
  const what = opts.what ?? 'download';
  const retries = opts.retries ?? 4;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const name = path.basename(dest);
  let lastErr: unknown;
  for (let attempt = 1; attempt <= retries; attempt++) {
    const tmp = `${dest}.part-${randomBytes(4).toString('hex')}`;
    try {
      const t0 = Date.now();
      const res = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
      if (!res.ok || !res.body) throw new InfraError(`HTTP ${res.status} for ${url}`);
      const total = Number(res.headers.get('content-length') ?? 0);
      log(what, `downloading ${name}${total ? ` (${mib(total)})` : ''}${attempt > 1 ? ` [attempt ${attempt}]` : ''}`);
      const hash = createHash('sha1');
      const out = fs.createWriteStream(tmp);
      let got = 0;
      let lastReport = Date.now();
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        got += value.length;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
        if (Date.now() - lastReport > 3000) {
          lastReport = Date.now();
          log(what, `  ${name}: ${mib(got)}${total ? ` / ${mib(total)} (${Math.round((got / total) * 100)}%)` : ''}`);
        }
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (total && got !== total) throw new InfraError(`truncated download of ${url}: ${got}/${total} bytes`);
      const digest = hash.digest('hex');
      if (opts.sha1 && digest !== opts.sha1.toLowerCase()) {
        throw new InfraError(`SHA-1 mismatch for ${url}: expected ${opts.sha1}, got ${digest}`);
      }
      fs.renameSync(tmp, dest);
      log(what, `  ${name}: ${mib(got)} in ${elapsed(t0)}${opts.sha1 ? ', sha1 ok' : ''}`);
      return dest;
    } catch (e) {
      lastErr = e;
      rmrf(tmp);
      if (e instanceof InfraError && /HTTP 404/.test(e.message)) break;
      if (attempt < retries) {
        log(what, `  ${name}: ${String((e as Error).message ?? e)}; retrying`);
        await sleep(1000 * 2 ** (attempt - 1));
      }
    }
  }
  throw new InfraError(
    `download failed: ${url}\n  ${String((lastErr as Error)?.message ?? lastErr)}\n` +
      `  Next: check that ${new URL(url).host} is reachable (curl -I ${url}), then rerun; partial files are discarded.`,
  );
}

export const MAVEN_CENTRAL = infraSettings.mavenRepo;

export function mavenUrl(group: string, artifact: string, version: string, file: string): string {
  return `${MAVEN_CENTRAL}/${group.replace(/\./g, '/')}/${artifact}/${version}/${file}`;
}

/** Download a Maven Central file into dest, verifying the published .sha1. */
export async function mavenDownload(url: string, dest: string, what: string): Promise<string> {
  if (fs.existsSync(dest)) return dest;
  const sha1 = (await fetchText(`${url}.sha1`)).trim().split(/\s+/)[0];
  if (!sha1 || !/^[0-9a-f]{40}$/i.test(sha1)) throw new InfraError(`unexpected .sha1 content for ${url}`);
  return download(url, dest, { sha1, what });
}

// ---------------------------------------------------------------------------
// ports + polling

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

// Ports handed out to be bound later (by a server started next, a container, Toxiproxy) come from
// below the kernel's ephemeral range: a port from listen(0) is an ephemeral one, which an outgoing
// connection made meanwhile (any client of Kafka, PostgreSQL, the registry) may take before its
// user binds it: "address already in use" at start-up.
function ephemeralRangeStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}
// 20000-29999: clear of the cluster's fixed ports (10248-10259, 12379-12381, 16443, 18080) and
// of Kubernetes' NodePort range (30000-32767).
const HANDED_OUT = { low: 20000, high: 29999 };

/**
 * A port handed out stays reserved this long for every process of this user: its taker binds it
 * only once what it starts first is up (a minute or more on a loaded machine), and another test
 * picking the same free port meanwhile would bind it first.
 */
const RESERVED_MS = 5 * 60_000;

/** Reserves `port` for this process unless another took it within RESERVED_MS (a file per port, created exclusively). */
function reservePort(port: number): boolean {
  const dir = path.join(os.tmpdir(), `taskmesh-ports-${os.userInfo().uid}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, String(port));
  try {
    if (Date.now() - fs.statSync(file).mtimeMs < RESERVED_MS) return false;
    fs.rmSync(file, { force: true });
  } catch {
    // not reserved yet
  }
  try {
    fs.closeSync(fs.openSync(file, 'wx'));
    return true;
  } catch {
    return false;
  }
}

/**
 * n distinct free ports below the ephemeral range (all held open simultaneously while picking, so they
 * differ), none handed out to another process in the last RESERVED_MS.
 */
export async function freePorts(n: number): Promise<number[]> {
  const low = HANDED_OUT.low;
  const high = Math.min(HANDED_OUT.high, ephemeralRangeStart() - 1);
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 20 * (high - low)) throw new InfraError(`no free port left in ${low}-${high}: stop what holds them, or wait ${RESERVED_MS / 60_000} min`);
      const port = low + Math.floor(Math.random() * (high - low + 1));
      if (ports.includes(port) || !reservePort(port)) continue;
      const srv = net.createServer();
      const bound = await new Promise<boolean>((resolve) => {
        srv.once('error', () => resolve(false));
        srv.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (!bound) continue;
      servers.push(srv);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export interface WaitForOptions {
  timeoutMs: number;
  /** human readable, used in progress and error messages */
  what: string;
  intervalMs?: number;
  /** component name for progress lines */
  component?: string;
  /** abort early (with its log tail) when this server process dies */
  proc?: ServerProcess;
}

/**
 * Poll fn until it returns a truthy value (returned) or throws InfraError on timeout.
 * Exceptions from fn count as "not ready yet".
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: WaitForOptions): Promise<T> {
  const t0 = Date.now();
  const interval = opts.intervalMs ?? 200;
  let lastErr: unknown;
  let nextReport = t0 + 10_000;
  for (;;) {
    if (opts.proc?.exited) {
      throw new InfraError(
        `${opts.what}: process "${opts.proc.name}" exited (${opts.proc.exitDescription()}) before becoming ready.\n` + `  log: ${opts.proc.logFile}\n${indent(opts.proc.logTail(25))}`,
      );
    }
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() - t0 > opts.timeoutMs) {
      const tail = opts.proc ? `\n  log: ${opts.proc.logFile}\n${indent(opts.proc.logTail(25))}` : '';
      throw new InfraError(`timed out after ${elapsed(t0)} waiting for ${opts.what}${lastErr ? ` (last error: ${String((lastErr as Error).message ?? lastErr)})` : ''}${tail}`);
    }
    if (Date.now() > nextReport) {
      log(opts.component ?? 'wait', `still waiting for ${opts.what} (${elapsed(t0)})`);
      nextReport = Date.now() + 10_000;
    }
    await sleep(interval);
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    | ${l}`)
    .join('\n');
}

// ---------------------------------------------------------------------------
// one-shot commands

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** append output here instead of buffering it */
  logFile?: string;
  /** component for the heartbeat line printed every 10s while running */
  component?: string;
  what?: string;
  input?: string;
}

/** Run a command to completion; rejects with the output tail on non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const so: SpawnOptions = {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    };
    if (opts.uid !== undefined) so.uid = opts.uid;
    if (opts.gid !== undefined) so.gid = opts.gid;
    const child = spawn(cmd, args, so);
    let out = '';
    const logFd = opts.logFile ? fs.openSync(opts.logFile, 'a') : undefined;
    const onData = (c: Buffer) => {
      if (logFd !== undefined) fs.writeSync(logFd, c);
      out += c.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // A command may exit without reading its input (or before it is written): EPIPE is not an error of ours.
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
    const heartbeat = opts.component ? setInterval(() => log(opts.component!, `  … ${opts.what ?? cmd} still running (${elapsed(t0)})`), 10_000) : undefined;
    child.on('error', (e) => {
      if (heartbeat) clearInterval(heartbeat);
      if (logFd !== undefined) fs.closeSync(logFd);
      reject(new InfraError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (heartbeat) clearInterval(heartbeat);
      if (logFd !== undefined) fs.closeSync(logFd);
      if (code === 0) resolve(out);
      else {
        const tail = out.trim().split('\n').slice(-25).join('\n');
        reject(new InfraError(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})${opts.logFile ? `; full log: ${opts.logFile}` : ''}\n${indent(tail)}`));
      }
    });
  });
}

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

// ---------------------------------------------------------------------------
// java

let javaInfo: { bin: string; major: number; id: string } | undefined;

/** java from $JAVA_HOME or PATH and its major version; InfraError if absent or older than minMajor. */
export function java(minMajor: number, forWhat: string): string {
  if (!javaInfo) {
    const home = infraSettings.javaHome;
    const bin = home && fs.existsSync(path.join(home, 'bin', 'java')) ? path.join(home, 'bin', 'java') : which('java');
    if (!bin) {
      throw new InfraError(`java not found (needed for ${forWhat}). Install a JDK ${minMajor}+ (e.g. apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME.`);
    }
    const r = spawnSync(bin, ['-version'], { encoding: 'utf8' });
    const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
    let major = m ? Number(m[1]) : 0;
    if (major === 1 && m?.[2]) major = Number(m[2]);
    javaInfo = { bin, major, id: createHash('sha1').update(`${bin}\n${r.stderr}${r.stdout}`).digest('hex').slice(0, 10) };
  }
  if (javaInfo.major < minMajor) {
    throw new InfraError(`${forWhat} needs Java ${minMajor}+, but ${javaInfo.bin} is Java ${javaInfo.major}. Set JAVA_HOME to a JDK ${minMajor}+.`);
  }
  return javaInfo.bin;
}

/**
 * Dynamic AppCDS archive per (key, JVM build), cached under <cache>/cds: roughly halves JVM
 * startup of Kafka/Quarkus. The first run records the archive at JVM exit (graceful stop only);
 * later runs map it. Disable with TASKMESH_NO_CDS=1. Call afterExit(becameReady) once the JVM has exited.
 */
export function appCds(key: string): { args: string[]; afterExit: (keep: boolean) => void } {
  const none = { args: [], afterExit: () => {} };
  if (infraSettings.noCds || !javaInfo || javaInfo.major < 13) return none;
  const archive = path.join(cacheDir('cds'), `${key}-java${javaInfo.major}-${javaInfo.id}.jsa`);
  if (fs.existsSync(archive)) return { args: [`-XX:SharedArchiveFile=${archive}`, '-Xshare:auto'], afterExit: () => {} };
  const tmp = `${archive}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  const unregister = onCleanup({ async: async () => rmrf(tmp), sync: () => rmrf(tmp) });
  return {
    args: [`-XX:ArchiveClassesAtExit=${tmp}`],
    afterExit: (keep: boolean) => {
      unregister();
      try {
        // keep only archives of runs that got ready (a JVM that crashed at boot records too little)
        if (keep && fs.statSync(tmp).size > 0 && !fs.existsSync(archive)) {
          fs.renameSync(tmp, archive);
          log('cache', `recorded class-data-sharing archive ${path.basename(archive)} (faster JVM starts from now on)`);
        }
      } catch {
        /* JVM was killed before dumping: try again next time */
      }
      rmrf(tmp);
    },
  };
}

// ---------------------------------------------------------------------------
// cleanup registry (parent exit / SIGINT / SIGTERM)

interface CleanupEntry {
  /** graceful, used on SIGINT/SIGTERM */
  async: () => Promise<void>;
  /** must be synchronous: used from process.on('exit') */
  sync: () => void;
}

const cleanups = new Set<CleanupEntry>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const c of [...cleanups]) {
      try {
        c.sync();
      } catch {
        /* best effort */
      }
    }
    cleanups.clear();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      process.removeListener(sig, handler);
      const pending = [...cleanups];
      if (pending.length) log('infra', `${sig}: stopping ${pending.length} service(s)…`);
      const hardStop = setTimeout(() => {
        for (const c of pending) c.sync();
        finish();
      }, 15_000);
      const finish = (): void => {
        clearTimeout(hardStop);
        // if nobody else handles the signal, exit like the default action would (but run 'exit' hooks)
        if (process.listenerCount(sig) === 0) process.exit(128 + (os.constants.signals[sig] ?? 1));
      };
      void Promise.allSettled(pending.map((c) => c.async())).then(finish);
    };
    process.on(sig, handler);
  }
}

/** Register cleanup actions; returns an unregister function. */
export function onCleanup(entry: CleanupEntry): () => void {
  installHandlers();
  cleanups.add(entry);
  return () => {
    cleanups.delete(entry);
  };
}

// ---------------------------------------------------------------------------
// long-running server processes

export interface SpawnServerOptions {
  name: string;
  command: string;
  args: string[];
  /** stdout+stderr are appended here */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** run as this uid/gid (supplementary groups are dropped by libuv) */
  uid?: number;
  gid?: number;
  /** signal for a graceful stop (default SIGTERM) */
  stopSignal?: NodeJS.Signals;
  /** how long stop() waits before SIGKILLing the process group (default 20s) */
  stopTimeoutMs?: number;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: boolean;
  readonly exitPromise: Promise<void>;
  exitDescription(): string;
  logTail(lines?: number): string;
  /** graceful stop signal, wait, then SIGKILL the whole process group */
  stop(opts?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;
  /** immediate SIGKILL of the whole process group (synchronous) */
  kill(): void;
}

const hasSetprivPdeathsig = ((): boolean => {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--pdeathsig');
})();

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* ESRCH: already gone */
  }
}

/**
 * Spawn a long-running server in its own process group (detached), output appended to logFile.
 * On Linux it is wrapped in `setpriv --pdeathsig KILL` so it dies even if this Node process is SIGKILLed.
 * The group is killed on stop(), on process exit and on SIGINT/SIGTERM/SIGHUP.
 */
export function spawnServer(opts: SpawnServerOptions): ServerProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} ${opts.command} ${opts.args.join(' ')}\n`);
  const [cmd, args] = hasSetprivPdeathsig ? ['setpriv', ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args]] : [opts.command, opts.args];
  const so: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true,
  };
  if (opts.uid !== undefined) so.uid = opts.uid;
  if (opts.gid !== undefined) so.gid = opts.gid;
  let child: ChildProcess;
  try {
    child = spawn(cmd, args as string[], so);
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new InfraError(`failed to spawn ${opts.command} (is it installed and executable?)`);
  }
  const pid = child.pid;
  // don't keep the event loop alive just for the server: a process that forgets stop() still exits
  // (and the 'exit' handler SIGKILLs the group)
  child.unref();
  let exited = false;
  let exitInfo = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.on('error', (e) => {
      exited = true;
      exitInfo = `spawn error: ${e.message}`;
      resolve();
    });
  });

  const kill = (): void => {
    killGroup(pid, 'SIGKILL');
  };
  const unregister = onCleanup({ async: () => stop(), sync: kill });

  async function stop(o: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<void> {
    child.ref();
    if (!exited) {
      try {
        process.kill(pid, o.signal ?? opts.stopSignal ?? 'SIGTERM');
      } catch {
        /* gone */
      }
      const timeout = o.timeoutMs ?? opts.stopTimeoutMs ?? 20_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([exitPromise.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout)))]);
      clearTimeout(timer);
      if (timedOut) log(opts.name, `did not stop within ${timeout / 1000}s, killing process group ${pid}`);
    }
    killGroup(pid, 'SIGKILL'); // sweep leftovers of the group
    await exitPromise;
    unregister();
  }

  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    get exited() {
      return exited;
    },
    exitPromise,
    exitDescription: () => exitInfo || 'running',
    logTail: (lines = 30) => {
      try {
        const text = fs.readFileSync(opts.logFile, 'utf8');
        return text.trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
    stop,
    kill,
  };
}

// ---------------------------------------------------------------------------
// service lifecycle: one cleanup entry per service instance (process + its temp dir)

export interface ServiceGuard {
  /** the current server process (replaced on restart) */
  proc: ServerProcess | undefined;
  /** stop the process, delete the dir (unless TASKMESH_KEEP_INFRA=1); idempotent */
  shutdown(): Promise<void>;
  /** start failed: stop the process, keep the dir for inspection */
  fail(): Promise<void>;
}

export function serviceGuard(component: string, dir: string): ServiceGuard {
  let finished = false;
  const guard: ServiceGuard = {
    proc: undefined,
    async shutdown() {
      if (finished) return;
      finished = true;
      const ts = Date.now();
      await guard.proc?.stop();
      unregister();
      if (keepDirs()) log(component, `kept ${dir}`);
      else rmrf(dir);
      log(component, `stopped in ${elapsed(ts)}`);
    },
    async fail() {
      if (finished) return;
      finished = true;
      await guard.proc?.stop();
      unregister();
      log(component, `start failed; data dir and log kept at ${dir}`);
    },
  };
  const unregister = onCleanup({
    async: () => guard.shutdown(),
    sync: () => {
      guard.proc?.kill();
      if (!keepDirs()) rmrf(dir);
    },
  });
  return guard;
}

// ---------------------------------------------------------------------------
// CLI helpers

/** Block until SIGINT/SIGTERM (the cleanup registry stops the services). */
export function waitForever(): Promise<never> {
  // keep the event loop alive; the signal handlers installed by onCleanup() do the rest
  setInterval(() => {}, 1 << 30);
  return new Promise<never>(() => {});
}

/** true when `import.meta.url` is the module run by `tsx <file>`. */
export function isMain(metaUrl: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(new URL(metaUrl).pathname);
  } catch {
    return false;
  }
}
