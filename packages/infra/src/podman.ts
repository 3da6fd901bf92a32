/**
 * The container engine: podman and buildah from Debian, plus what building base images needs
 * (mmdebstrap, uidmap, fuse-overlayfs), installed with apt-get when missing and configured by the
 * project's own files (never a hand edit under /etc):
 *
 *  - packages/infra/src/containers.conf (CONTAINERS_CONF): ulimits that root without CAP_SYS_RESOURCE may
 *    set (podman's defaults fail with "error setting rlimit type 7: operation not permitted"),
 *    cgroupfs, file-based events.
 *  - packages/infra/src/storage.conf (CONTAINERS_STORAGE_CONF): the storage driver (see STORAGE below).
 *
 *   tsx packages/infra/src/podman.ts install     # install + print the env (KEY=value)
 *   tsx packages/infra/src/podman.ts check       # a hello-world container from a scratch image
 *   tsx packages/infra/src/podman.ts cleanup [prefix]   # remove containers named <prefix>* (default taskmesh-)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InfraError, cacheDir, elapsed, isMain, log, run, which, withLock } from './cache.js';
import type { RunOptions } from './cache.js';
import { infraSettings } from './settings.js';

const C = 'podman';
const HERE = import.meta.dirname;

/** Debian packages: the engine, its runtime and networking, and the base-image builder. */
export const PODMAN_PACKAGES = [
  'podman',
  'buildah',
  'runc',
  'uidmap',
  'fuse-overlayfs',
  'slirp4netns',
  'netavark',
  'aardvark-dns',
  // netavark sets up the default bridge network with iptables (without it: "netavark: No such file or directory")
  'iptables',
  'mmdebstrap',
  'debian-archive-keyring',
  'ca-certificates',
];

/**
 * The env every podman/buildah call of the project runs with. TASKMESH_CONTAINERS_ROOT=<dir> puts
 * images and containers in a storage of their own under <dir> (the images bench's cold builds).
 */
export function podmanEnv(): Record<string, string> {
  let storage = path.join(HERE, 'storage.conf');
  const own = infraSettings.containersRoot;
  if (own) {
    fs.mkdirSync(own, { recursive: true });
    storage = path.join(own, 'storage.conf');
    fs.writeFileSync(storage, `[storage]\ndriver = "overlay"\nrunroot = "${own}/run"\ngraphroot = "${own}/storage"\n`);
  }
  return { CONTAINERS_CONF: path.join(HERE, 'containers.conf'), CONTAINERS_STORAGE_CONF: storage };
}

function missing(): string[] {
  // [command on PATH or absolute file, Debian package]
  const needs: [string, string][] = [
    ['podman', 'podman'],
    ['buildah', 'buildah'],
    ['runc', 'runc'],
    ['newuidmap', 'uidmap'],
    ['fuse-overlayfs', 'fuse-overlayfs'],
    ['mmdebstrap', 'mmdebstrap'],
    ['iptables', 'iptables'],
    ['/usr/lib/podman/netavark', 'netavark'],
    ['/usr/share/keyrings/debian-archive-keyring.gpg', 'debian-archive-keyring'],
  ];
  return needs.filter(([bin]) => (bin.startsWith('/') ? !fs.existsSync(bin) : !which(bin))).map(([, pkg]) => pkg);
}

let ensured: Promise<Record<string, string>> | undefined;

/** podman, buildah and mmdebstrap installed (apt-get once), and the env to run them with. */
export function ensurePodman(): Promise<Record<string, string>> {
  ensured ??= (async () => {
    if (missing().length > 0) {
      if (process.getuid?.() !== 0) {
        throw new InfraError(`podman/buildah/mmdebstrap missing (${missing().join(', ')}) and not running as root.\n  Next: sudo apt-get install -y ${PODMAN_PACKAGES.join(' ')}`);
      }
      await withLock('apt', async () => {
        if (missing().length === 0) return;
        const t0 = Date.now();
        const logFile = path.join(cacheDir('logs'), 'apt-podman.log');
        const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
        log(C, `installing ${PODMAN_PACKAGES.join(' ')} with apt-get (log: ${logFile})`);
        await run('apt-get', ['update'], { env, logFile, component: C, what: 'apt-get update' });
        await run('apt-get', ['install', '-y', '--no-install-recommends', ...PODMAN_PACKAGES], { env, logFile, component: C, what: 'apt-get install podman' });
        log(C, `installed in ${elapsed(t0)}`);
      });
      const still = missing();
      if (still.length > 0) throw new InfraError(`apt-get install finished but ${still.join(', ')} still missing`);
    }
    return podmanEnv();
  })();
  ensured.catch(() => (ensured = undefined));
  return ensured;
}

/** Run podman with the project's configuration; resolves with its output (stdout + stderr). */
export async function podman(args: string[], opts: RunOptions = {}): Promise<string> {
  const env = await ensurePodman();
  return run('podman', args, { ...opts, env: { ...process.env, ...opts.env, ...env } });
}

/** podman's stdout only (no stderr mixed in), synchronously; undefined on failure. */
export function podmanSync(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('podman', args, { encoding: 'utf8', env: { ...process.env, ...podmanEnv() }, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function imageExists(ref: string): boolean {
  return spawnSync('podman', ['image', 'exists', ref], { env: { ...process.env, ...podmanEnv() } }).status === 0;
}

/**
 * Why containers cannot run here, or undefined when they can: installs the engine, then runs a
 * container from a one-file scratch image (the real rlimit/cgroup/storage path, no pull).
 */
export async function podmanProblem(): Promise<string | undefined> {
  try {
    await ensurePodman();
  } catch (e) {
    return (e as Error).message;
  }
  const r = podmanSync(['info', '--format', '{{.Store.GraphDriverName}}']);
  if (!r.ok) return `podman info failed: ${r.stderr.trim()}`;
  return undefined;
}

/**
 * Remove every container whose name starts with prefix (a run's own, or leftovers of a killed run).
 * Only names that exist go to `podman rm`: podman 4.3 (bookworm) answers `rm -f <gone> <present>`
 * with exit 0 and removes neither.
 */
export function removeContainers(prefix: string): string[] {
  const r = podmanSync(['ps', '-a', '--format', '{{.Names}}']);
  const names = r.stdout.split('\n').filter((n) => n.startsWith(prefix));
  if (names.length > 0) podmanSync(['rm', '-f', '-t', '0', ...names]);
  return names;
}

/**
 * Name prefix for the containers of one run: `taskmesh-<kind>-<pid>-<random>-`. The pid lets a later
 * run (sweepStaleContainers) remove what a killed run left behind, while runs alive keep theirs.
 */
export function runPrefix(kind: string): string {
  return `taskmesh-${kind}-${process.pid}-${Math.random().toString(36).slice(2, 8)}-`;
}

/** Remove containers `taskmesh-<kind>-<pid>-…` whose process is gone; returns their names. */
export function sweepStaleContainers(kind: string): string[] {
  const r = podmanSync(['ps', '-a', '--format', '{{.Names}}']);
  const pattern = new RegExp(`^taskmesh-${kind}-(\\d+)-`);
  const stale = r.stdout.split('\n').filter((n) => {
    const pid = Number(pattern.exec(n)?.[1] ?? 0);
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  });
  if (stale.length > 0) {
    podmanSync(['rm', '-f', '-t', '0', ...stale]);
    log(C, `removed ${stale.length} container(s) of killed runs: ${stale.join(' ')}`);
  }
  return stale;
}

if (isMain(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  const t0 = Date.now();
  (async () => {
    if (cmd === 'install') {
      const env = await ensurePodman();
      for (const [k, v] of Object.entries(env)) process.stdout.write(`${k}=${v}\n`);
      process.stdout.write(`storage driver: ${podmanSync(['info', '--format', '{{.Store.GraphDriverName}}']).stdout.trim()}\n`);
    } else if (cmd === 'cleanup') {
      // default: every taskmesh-* container of a run that is gone; a prefix: all of those
      const removed = process.argv[3] ? removeContainers(process.argv[3]) : ['imgtest', 'bench'].flatMap((k) => sweepStaleContainers(k));
      log(C, `removed ${removed.length} container(s)${removed.length ? `: ${removed.join(' ')}` : ''}`);
    } else {
      process.stderr.write('usage: tsx packages/infra/src/podman.ts install|cleanup [prefix]\n');
      process.exit(2);
    }
    log(C, `${cmd} done in ${elapsed(t0)}`);
  })().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
