// A single-node Kubernetes built from the package registries (issue 14, phase 1):
//
//  - kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl from the
//    Go module k8s.io/kubernetes at KUBERNETES_VERSION, in one `go build` of a generated module (the
//    module zip has no staging/, so its `=> ./staging/...` replace directives become replaces to the
//    published k8s.io/* modules at v0.<minor>.<patch>), into <cache>/kubernetes/<version>/;
//  - etcd from the Go module go.etcd.io/etcd/server/v3 at the version kubeadm of that release pins;
//  - a pause image (a static Go binary that sleeps until SIGINT/SIGTERM and reaps children) written
//    as an OCI archive by hand, containerd's sandbox_image;
//  - Debian's containerd, runc and CNI plugins (bridge, host-local, portmap) installed with apt-get.
//
// `up` writes everything of a cluster under one run dir (certificates, kubeconfigs, containerd's own
// config/root/state/socket, etcd's data, the kubelet's root dir, logs, pid files), starts the
// components as detached processes and returns once the node is Ready; `down` stops them and removes
// the run dir; `status` prints their health and `kubectl get nodes,pods -A`.
//
//   npm run cluster -- up|down|status|build|kubectl …
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, elapsed, InfraError, log, pidAlive, rmrf, run, sleep, waitFor, which, withLock } from './cache.js';
import { infraSettings } from './settings.js';

const C = 'cluster';

export const KUBERNETES_VERSION = 'v1.34.2';
/** k8s.io/kubernetes's staging modules are published as v0.<minor>.<patch>. */
const STAGING_VERSION = KUBERNETES_VERSION.replace(/^v1\./, 'v0.');
/** kubeadm v1.34.2's DefaultEtcdVersion (cmd/kubeadm/app/constants): the etcd this apiserver is tested with. */
export const ETCD_VERSION = 'v3.6.5';
export const K8S_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'] as const;
export type K8sCommand = (typeof K8S_COMMANDS)[number];

/** Image containerd runs every pod sandbox from (built here, never pulled). */
export const PAUSE_IMAGE = 'localhost/taskmesh/pause:3.10.1';

/** Debian packages the node needs: [command or file, package]. */
const NODE_PACKAGES: [string, string][] = [
  ['containerd', 'containerd'],
  ['ctr', 'containerd'],
  ['runc', 'runc'],
  ['/usr/lib/cni/bridge', 'containernetworking-plugins'],
  ['iptables', 'iptables'],
  ['conntrack', 'conntrack'],
  ['openssl', 'openssl'],
];

// ---------------------------------------------------------------------------
// builds

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false' };
}

export function requireGo(what: string): string {
  const go = which('go');
  if (!go) throw new InfraError(`building ${what} needs Go 1.24+ (https://go.dev/dl/); install it and run again`);
  return go;
}

/** `go mod download -json <module>@<version>` → the module's read-only source dir. */
export async function moduleDir(go: string, mod: string, cwd: string): Promise<string> {
  const out = await run(go, ['mod', 'download', '-json', mod], { env: goEnv(), cwd });
  const info = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new InfraError(`go mod download ${mod} gave no module dir: ${info.Error ?? 'unknown error'}`);
  return info.Dir;
}

/** A writable copy of a module's source as `dir`/src (the module cache's is read-only), to build it as the main module or patch it. */
export async function moduleCopy(go: string, mod: string, dir: string): Promise<string> {
  const src = path.join(dir, 'src');
  rmrf(src);
  await run('cp', ['-R', await moduleDir(go, mod, dir), src]);
  await run('chmod', ['-R', 'u+w', src]);
  return src;
}

/** `go build`, its full output in logFile. */
export async function goBuild(go: string, args: string[], cwd: string, logFile: string): Promise<void> {
  await run(go, ['build', '-trimpath', ...args], { env: goEnv(), cwd, logFile });
}

/** What buildOnceWithGo builds, and where. */
export interface GoBuildEntry<T> {
  /** The cache folder: the build works and logs (build.log) there. */
  dir: string;
  /** The cross-process lock's name. */
  lock: string;
  /** What is built, as the log lines name it ("etcd v3.6.6"). */
  what: string;
  /** How long the first build takes, for the log ("a few minutes"); omitted, the log says nothing of it. */
  takes?: string;
  /** The log lines' component. */
  component?: string;
  /** The file that exists once the entry is built: one the build writes last. Omitted: a `.complete` marker, written after `build`. */
  done?: string;
  /** What the entry is to its caller (paths in `dir`), returned once it is built. */
  result: T;
  /** The lock's timeout: the build's longest time on a slow machine. */
  timeoutMs?: number;
}

/**
 * A cache entry built from the Go module proxy once per machine: returned at once when built;
 * otherwise built under a lock (a run waiting on another's build takes its result), between a line
 * naming the log file and one with the time it took.
 */
export async function buildOnceWithGo<T>(entry: GoBuildEntry<T>, build: (go: string, logFile: string) => Promise<void>): Promise<T> {
  const { dir, what, component = C } = entry;
  const done = entry.done ?? path.join(dir, '.complete');
  if (fs.existsSync(done)) return entry.result;
  const go = requireGo(what);
  return withLock(
    entry.lock,
    async () => {
      if (fs.existsSync(done)) return entry.result;
      const t0 = Date.now();
      const logFile = path.join(dir, 'build.log');
      log(component, `building ${what} from the Go module proxy (first run only${entry.takes ? `; ${entry.takes}` : ''}). Log: ${logFile}`);
      const progress = setInterval(() => log(component, `  still building ${what}… (${elapsed(t0)}; log: ${logFile})`), 30_000);
      try {
        await build(go, logFile);
      } finally {
        clearInterval(progress);
      }
      if (!entry.done) fs.writeFileSync(done, `${new Date().toISOString()} built in ${elapsed(t0)}\n`);
      log(component, `${what} built in ${elapsed(t0)}: ${dir}`);
      return entry.result;
    },
    entry.timeoutMs,
  );
}

function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`, `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`);
  }
  return flags.join(' ');
}

/**
 * The generated go.mod: requires k8s.io/kubernetes and replaces every module its go.mod takes from
 * ./staging with the published module at STAGING_VERSION.
 */
export function kubernetesGoMod(upstreamGoMod: string): string {
  const staging = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]!);
  if (staging.length < 10) throw new InfraError(`k8s.io/kubernetes ${KUBERNETES_VERSION}: expected its go.mod to replace the staging modules, found ${staging.length}`);
  const goLine = /^go\s+(\S+)/m.exec(upstreamGoMod)?.[1] ?? '1.24.0';
  const godebug = /^godebug\s+.+$/m.exec(upstreamGoMod)?.[0];
  return [
    'module taskmesh.local/kubernetes-build',
    '',
    `go ${goLine}`,
    ...(godebug ? ['', godebug] : []),
    '',
    `require k8s.io/kubernetes ${KUBERNETES_VERSION}`,
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} ${STAGING_VERSION}`),
    ')',
    '',
  ].join('\n');
}

export interface KubernetesBinaries {
  dir: string;
  bin: Record<K8sCommand, string>;
  etcd: string;
  /** OCI archive of PAUSE_IMAGE */
  pauseArchive: string;
  /** OCI archive of COREDNS_IMAGE */
  corednsArchive: string;
  localPath: LocalPathProvisioner;
}

function k8sBinaries(dir: string): Record<K8sCommand, string> {
  return Object.fromEntries(K8S_COMMANDS.map((c) => [c, path.join(dir, c)])) as Record<K8sCommand, string>;
}

/** The six Kubernetes commands, built once per version and machine (~20–40 min on 2 cores). */
export async function ensureKubernetesBinaries(): Promise<Record<K8sCommand, string>> {
  const dir = cacheDir('kubernetes', KUBERNETES_VERSION);
  const entry = {
    dir,
    lock: `kubernetes-${KUBERNETES_VERSION}`,
    what: `Kubernetes ${KUBERNETES_VERSION} (${K8S_COMMANDS.join(', ')})`,
    takes: '20-40 min on 2 cores',
    result: k8sBinaries(dir),
    timeoutMs: 90 * 60_000,
  };
  return buildOnceWithGo(entry, async (go, logFile) => {
    const mod = path.join(dir, 'mod');
    fs.mkdirSync(mod, { recursive: true });
    if (!fs.existsSync(path.join(mod, 'go.mod'))) fs.writeFileSync(path.join(mod, 'go.mod'), 'module taskmesh.local/kubernetes-build\n\ngo 1.24.0\n');
    const upstream = await moduleDir(go, `k8s.io/kubernetes@${KUBERNETES_VERSION}`, mod);
    fs.writeFileSync(path.join(mod, 'go.mod'), kubernetesGoMod(fs.readFileSync(path.join(upstream, 'go.mod'), 'utf8')));
    const out = path.join(dir, 'bin.partial');
    rmrf(out);
    fs.mkdirSync(out);
    log(C, `go build -o ${out}/ ${K8S_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`).join(' ')} (one invocation: shared packages compile once)`);
    await goBuild(go, ['-ldflags', versionLdflags(), '-o', `${out}/`, ...K8S_COMMANDS.map((c) => `k8s.io/kubernetes/cmd/${c}`)], mod, logFile);
    for (const c of K8S_COMMANDS) fs.renameSync(path.join(out, c), path.join(dir, c));
    rmrf(out);
  });
}

/** etcd from go.etcd.io/etcd/server/v3 (its go.mod's relative replaces become the published v3 modules). */
export async function ensureEtcd(): Promise<string> {
  const dir = cacheDir('kubernetes', `etcd-${ETCD_VERSION}`);
  const bin = path.join(dir, 'etcd');
  return buildOnceWithGo({ dir, lock: `etcd-${ETCD_VERSION}`, what: `etcd ${ETCD_VERSION}`, takes: 'a few minutes', result: bin }, async (go, logFile) => {
    const mod = path.join(dir, 'mod');
    fs.mkdirSync(mod, { recursive: true });
    const sub = ['api/v3', 'client/pkg/v3', 'client/v3', 'pkg/v3'];
    fs.writeFileSync(
      path.join(mod, 'go.mod'),
      [
        'module taskmesh.local/etcd-build',
        '',
        'go 1.23.0',
        '',
        `require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}`,
        '',
        'replace (',
        ...sub.map((s) => `\tgo.etcd.io/etcd/${s} => go.etcd.io/etcd/${s} ${ETCD_VERSION}`),
        ')',
        '',
      ].join('\n'),
    );
    await goBuild(go, ['-ldflags', '-s -w', '-o', `${bin}.partial`, 'go.etcd.io/etcd/server/v3'], mod, logFile);
    fs.renameSync(`${bin}.partial`, bin);
  });
}

const PAUSE_GO = `// pause: the process of every pod sandbox. Sleeps until SIGINT/SIGTERM, reaps orphaned children
// (it is PID 1 of the pod's PID namespace when the namespace is shared). The Go twin of
// k8s.io/kubernetes/build/pause/linux/pause.c.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "-V") {
		fmt.Println("pause (taskmesh, Go)")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\\n", s)
		os.Exit(0)
	}
}
`;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A one-layer OCI image archive, written without a container engine: `rootfs` (a directory) becomes
 * the layer; `ctr images import` reads the name from the index's io.containerd.image.name annotation.
 */
export async function writeOciArchive(rootfs: string, archive: string, image: { name: string; entrypoint: string[]; user: string; env?: string[] }): Promise<void> {
  const work = `${archive}.work`;
  rmrf(work);
  const blobs = path.join(work, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const layerTar = path.join(work, 'layer.tar');
  await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const blob = (data: Buffer | string): { digest: string; size: number } => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const h = sha256(buf);
    fs.writeFileSync(path.join(blobs, h), buf);
    return { digest: `sha256:${h}`, size: buf.length };
  };
  const layerDesc = blob(fs.readFileSync(layerTar));
  fs.rmSync(layerTar);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = blob(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Entrypoint: image.entrypoint, User: image.user, ...(image.env ? { Env: image.env } : {}) },
      rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
      history: [{ created_by: 'taskmesh packages/infra/src/kubernetes.ts writeOciArchive()' }],
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerDesc }],
    }),
  );
  fs.writeFileSync(path.join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(work, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture: arch, os: 'linux' },
          annotations: { 'io.containerd.image.name': image.name, 'org.opencontainers.image.ref.name': image.name.split(':').pop()! },
        },
      ],
    }),
  );
  await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', work, '-cf', `${archive}.partial`, 'oci-layout', 'index.json', 'blobs']);
  fs.renameSync(`${archive}.partial`, archive);
  rmrf(work);
}

/** PAUSE_IMAGE as an OCI archive: the Go pause binary, alone in its layer. */
export async function ensurePauseImage(): Promise<string> {
  const recipe = sha256(PAUSE_GO + PAUSE_IMAGE + process.arch).slice(0, 10);
  const dir = cacheDir('kubernetes', `pause-${recipe}`);
  const archive = path.join(dir, 'pause.oci.tar');
  if (fs.existsSync(archive)) return archive;
  const go = requireGo('the pause image');
  return withLock(`pause-${recipe}`, async () => {
    if (fs.existsSync(archive)) return archive;
    const work = path.join(dir, 'work');
    rmrf(work);
    fs.mkdirSync(path.join(work, 'src'), { recursive: true });
    fs.mkdirSync(path.join(work, 'rootfs'));
    fs.writeFileSync(path.join(work, 'src', 'go.mod'), 'module taskmesh.local/pause\n\ngo 1.24\n');
    fs.writeFileSync(path.join(work, 'src', 'main.go'), PAUSE_GO);
    await run(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', path.join(work, 'rootfs', 'pause'), '.'], { env: goEnv(), cwd: path.join(work, 'src') });
    await writeOciArchive(path.join(work, 'rootfs'), archive, { name: PAUSE_IMAGE, entrypoint: ['/pause'], user: '65535:65535' });
    rmrf(work);
    log(C, `pause image ${PAUSE_IMAGE}: ${archive}`);
    return archive;
  });
}

/** kubeadm v1.34.2's CoreDNSVersion. */
export const COREDNS_VERSION = 'v1.12.1';
export const COREDNS_IMAGE = `localhost/taskmesh/coredns:${COREDNS_VERSION}`;
/** Plugins left out of the build: cloud DNS backends and tracing/monitoring SDKs nothing here uses. */
const COREDNS_DROPPED = ['azure', 'clouddns', 'route53', 'etcd', 'dnstap', 'geoip', 'trace', 'sign'];

/**
 * CoreDNS from github.com/coredns/coredns (the version kubeadm pins), without the plugins above,
 * and its image: the binary, /etc/passwd-less, one layer, user 65532.
 */
export async function ensureCoreDNS(): Promise<string> {
  const flavour = sha256(COREDNS_DROPPED.join(',')).slice(0, 8);
  const dir = cacheDir('kubernetes', `coredns-${COREDNS_VERSION}-${flavour}`);
  const archive = path.join(dir, 'coredns.oci.tar');
  const entry = { dir, lock: `coredns-${COREDNS_VERSION}-${flavour}`, what: `CoreDNS ${COREDNS_VERSION}`, takes: 'a few minutes', done: archive, result: archive };
  return buildOnceWithGo(entry, async (go, logFile) => {
    const src = await moduleCopy(go, `github.com/coredns/coredns@${COREDNS_VERSION}`, dir);
    const zplugin = path.join(src, 'core', 'plugin', 'zplugin.go');
    const dropped = new RegExp(`^\\s*_ "github.com/coredns/coredns/plugin/(${COREDNS_DROPPED.join('|')})"\\n`, 'gm');
    fs.writeFileSync(zplugin, fs.readFileSync(zplugin, 'utf8').replace(dropped, ''));
    const rootfs = path.join(dir, 'rootfs');
    rmrf(rootfs);
    fs.mkdirSync(rootfs);
    const ldflags = `-s -w -X github.com/coredns/coredns/coremain.GitCommit=${COREDNS_VERSION}`;
    await goBuild(go, ['-ldflags', ldflags, '-o', path.join(rootfs, 'coredns'), '.'], src, logFile);
    await writeOciArchive(rootfs, archive, { name: COREDNS_IMAGE, entrypoint: ['/coredns'], user: '65532:65532' });
    rmrf(src);
    rmrf(rootfs);
  });
}

/** rancher/local-path-provisioner: the default StorageClass (PVCs of StatefulSets: Dapr scheduler, Kafka, PostgreSQL). */
export const LOCAL_PATH_VERSION = 'v0.0.30';
export const LOCAL_PATH_IMAGE = `localhost/taskmesh/local-path-provisioner:${LOCAL_PATH_VERSION}`;
/** The provisioner's helper pods (mkdir/rm of volume dirs): Debian's busybox-static, one layer. */
export const BUSYBOX_IMAGE = 'localhost/taskmesh/busybox:bookworm';

export interface LocalPathProvisioner {
  archive: string;
  busyboxArchive: string;
  /** deploy/local-path-storage.yaml of the module */
  manifest: string;
}

/** local-path-provisioner from its Go module (`go install`, no replace directives) and busybox from apt, as OCI archives. */
export async function ensureLocalPathProvisioner(): Promise<LocalPathProvisioner> {
  const dir = cacheDir('kubernetes', `local-path-provisioner-${LOCAL_PATH_VERSION}`);
  const result = { archive: path.join(dir, 'local-path-provisioner.oci.tar'), busyboxArchive: path.join(dir, 'busybox.oci.tar'), manifest: path.join(dir, 'local-path-storage.yaml') };
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return result;
  const go = requireGo('local-path-provisioner');
  return withLock(`local-path-provisioner-${LOCAL_PATH_VERSION}`, async () => {
    if (fs.existsSync(done)) return result;
    const t0 = Date.now();
    const mod = `github.com/rancher/local-path-provisioner@${LOCAL_PATH_VERSION}`;
    log(C, `building ${mod} and a busybox image (first run only)`);
    const rootfs = path.join(dir, 'rootfs');
    rmrf(rootfs);
    fs.mkdirSync(rootfs);
    await run(go, ['install', '-trimpath', '-ldflags', '-s -w', mod], { env: { ...goEnv(), GOBIN: rootfs, GOFLAGS: '-buildvcs=false' }, logFile: path.join(dir, 'build.log') });
    await writeOciArchive(rootfs, result.archive, { name: LOCAL_PATH_IMAGE, entrypoint: ['/local-path-provisioner'], user: '0:0', env: ['PATH=/'] });
    fs.copyFileSync(path.join(await moduleDir(go, mod, dir), 'deploy', 'local-path-storage.yaml'), result.manifest);
    rmrf(rootfs);
    // busybox-static from Debian: /bin/busybox and the applets the helper scripts use
    const work = path.join(dir, 'busybox');
    rmrf(work);
    fs.mkdirSync(work);
    await run('apt-get', ['download', 'busybox-static'], { cwd: work }).catch(async () => {
      await run('apt-get', ['update'], { cwd: work, component: C, what: 'apt-get update' }); // no package lists yet
      return run('apt-get', ['download', 'busybox-static'], { cwd: work });
    });
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new InfraError('apt-get download busybox-static gave no .deb');
    await run('dpkg-deb', ['-x', path.join(work, deb), path.join(work, 'x')]);
    const bbRoot = path.join(work, 'rootfs');
    fs.mkdirSync(path.join(bbRoot, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(work, 'x', 'bin', 'busybox'), path.join(bbRoot, 'bin', 'busybox'));
    fs.chmodSync(path.join(bbRoot, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'mkdir', 'rm', 'chmod', 'ls', 'cat', 'sleep', 'test']) fs.symlinkSync('busybox', path.join(bbRoot, 'bin', applet));
    fs.mkdirSync(path.join(bbRoot, 'tmp'), { mode: 0o1777 });
    await writeOciArchive(bbRoot, result.busyboxArchive, { name: BUSYBOX_IMAGE, entrypoint: ['/bin/sh'], user: '0:0', env: ['PATH=/bin'] });
    rmrf(work);
    fs.writeFileSync(done, `${new Date().toISOString()} built in ${elapsed(t0)}\n`);
    log(C, `local-path-provisioner ${LOCAL_PATH_VERSION} and busybox built in ${elapsed(t0)}`);
    return result;
  });
}

/**
 * The module's deploy/local-path-storage.yaml with our images, volumes under the cluster's run dir
 * (removed by down), and its StorageClass made the default.
 */
export function localPathManifest(upstream: string, volumesDir: string): string {
  const out = upstream
    .replace(/image: rancher\/local-path-provisioner:\S+/, `image: ${LOCAL_PATH_IMAGE}`)
    .replace(/image: busybox\b/, `image: ${BUSYBOX_IMAGE}`)
    .replace('"/opt/local-path-provisioner"', JSON.stringify(volumesDir))
    .replace(/(kind: StorageClass\nmetadata:\n {2}name: local-path\n)/, '$1  annotations:\n    storageclass.kubernetes.io/is-default-class: "true"\n');
  for (const want of [LOCAL_PATH_IMAGE, BUSYBOX_IMAGE, volumesDir, 'is-default-class']) {
    if (!out.includes(want)) throw new InfraError(`local-path-storage.yaml ${LOCAL_PATH_VERSION}: could not set ${want} (the upstream manifest changed)`);
  }
  return out;
}

/** Everything `up` runs, built into the cache (sequentially: each build takes both cores). */
export async function ensureClusterBinaries(): Promise<KubernetesBinaries> {
  const bin = await ensureKubernetesBinaries();
  const etcd = await ensureEtcd();
  const pauseArchive = await ensurePauseImage();
  const corednsArchive = await ensureCoreDNS();
  const localPath = await ensureLocalPathProvisioner();
  return { dir: cacheDir('kubernetes', KUBERNETES_VERSION), bin, etcd, pauseArchive, corednsArchive, localPath };
}

/** containerd, runc, the CNI plugins, iptables, conntrack and openssl from apt-get when missing. */
export async function ensureNodePackages(): Promise<void> {
  const missing = [...new Set(NODE_PACKAGES.filter(([b]) => (b.startsWith('/') ? !fs.existsSync(b) : !which(b))).map(([, p]) => p))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new InfraError(`missing ${missing.join(', ')} and not running as root.\n  Next: sudo apt-get install -y ${missing.join(' ')}`);
  await withLock('apt-get', async () => {
    const t0 = Date.now();
    log(C, `apt-get install ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const logFile = path.join(cacheDir('logs'), 'apt-get.log');
    await run('apt-get', ['update'], { env, logFile, component: C, what: 'apt-get update' });
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, logFile, component: C, what: 'apt-get install' });
    log(C, `installed in ${elapsed(t0)}`);
  });
}

// ---------------------------------------------------------------------------
// the cluster's files

/** Fixed ports (the cluster outlives the `up` process, so `status`/`down` must find it). */
export const PORTS = {
  apiserver: infraSettings.clusterApiserverPort,
  etcdClient: 12379,
  etcdPeer: 12380,
  etcdMetrics: 12381,
  controllerManager: 10257,
  scheduler: 10259,
  kubelet: 10250,
  kubeletHealthz: 10248,
  proxyHealthz: 10256,
  proxyMetrics: 10249,
};
export const NODE_NAME = 'taskmesh-node';
export const POD_CIDR = '10.244.0.0/24';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_IP = '10.96.0.1';
export const CLUSTER_DNS = '10.96.0.10';
/** The pods' bridge (not cni0/podman0: other CNI users on the machine keep theirs). */
const BRIDGE = 'tmk0';

/** `${TASKMESH_CLUSTER_DIR:-$TMPDIR/taskmesh-cluster}`: every file of the running cluster. */
export function clusterDir(): string {
  return infraSettings.clusterDir;
}

export function clusterPaths(dir = clusterDir()) {
  return {
    dir,
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    pids: path.join(dir, 'pids'),
    kubeconfig: path.join(dir, 'admin.kubeconfig'),
    containerdDir: path.join(dir, 'containerd'),
    containerdSock: path.join(dir, 'containerd', 'containerd.sock'),
    cniConf: path.join(dir, 'cni', 'net.d'),
    etcdData: path.join(dir, 'etcd'),
    kubeletRoot: path.join(dir, 'kubelet'),
    config: path.join(dir, 'config'),
  };
}

/** The node's IPv4 address: the source of the default route. */
export function nodeIp(): string {
  const r = spawnSync('ip', ['-4', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' });
  const m = /\bsrc\s+(\d+\.\d+\.\d+\.\d+)/.exec(r.stdout ?? '');
  if (m) return m[1]!;
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|podman|cni|tmk|veth|docker)/.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new InfraError('no IPv4 address for the node (no default route and no non-loopback interface)');
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new InfraError(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

interface CertSpec {
  name: string;
  subject: string;
  /** serverAuth certificates get these SANs */
  sans?: string[];
  usage: 'client' | 'server' | 'both';
  /** signing CA (default ca) */
  ca?: string;
}

/** A CA, the service-account key pair (RSA) and a certificate per component (openssl, ECDSA P-256: fast to make). */
export function writePki(pki: string, ip: string): void {
  fs.mkdirSync(pki, { recursive: true, mode: 0o700 });
  if (fs.existsSync(path.join(pki, '.complete'))) return;
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=taskmesh-kubernetes-ca'], pki);
  // the aggregation layer's own CA (kubeadm's front-proxy-ca): the apiserver proxies to extension apiservers with its client cert
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'front-proxy-ca.key',
      '-out',
      'front-proxy-ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=taskmesh-front-proxy-ca',
    ],
    pki,
  );
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], pki);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], pki);
  const hostSans = ['DNS:localhost', 'IP:127.0.0.1', `IP:${ip}`];
  const certs: CertSpec[] = [
    {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      usage: 'server',
      sans: [...hostSans, `IP:${SERVICE_IP}`, 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'],
    },
    { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'client' },
    { name: 'admin', subject: '/O=system:masters/CN=kubernetes-admin', usage: 'client' },
    { name: 'controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'client' },
    { name: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'client' },
    { name: 'kube-proxy', subject: '/CN=system:kube-proxy', usage: 'client' },
    { name: 'kubelet-client', subject: `/O=system:nodes/CN=system:node:${NODE_NAME}`, usage: 'client' },
    { name: 'kubelet-server', subject: `/CN=${NODE_NAME}`, usage: 'server', sans: [...hostSans, `DNS:${NODE_NAME}`] },
    { name: 'front-proxy-client', subject: '/CN=front-proxy-client', usage: 'client', ca: 'front-proxy-ca' },
  ];
  for (const c of certs) {
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${c.usage === 'client' ? 'clientAuth' : c.usage === 'server' ? 'serverAuth' : 'serverAuth,clientAuth'}`,
      ...(c.sans ? [`subjectAltName=${c.sans.join(',')}`] : []),
    ];
    fs.writeFileSync(path.join(pki, `${c.name}.ext`), `${ext.join('\n')}\n`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${c.name}.key`, '-out', `${c.name}.csr`, '-subj', c.subject], pki);
    openssl(
      ['x509', '-req', '-in', `${c.name}.csr`, '-CA', `${c.ca ?? 'ca'}.crt`, '-CAkey', `${c.ca ?? 'ca'}.key`, '-CAcreateserial', '-days', '825', '-out', `${c.name}.crt`, '-extfile', `${c.name}.ext`],
      pki,
    );
    fs.rmSync(path.join(pki, `${c.name}.csr`));
    fs.rmSync(path.join(pki, `${c.name}.ext`));
  }
  fs.writeFileSync(path.join(pki, '.complete'), '');
}

function kubeconfig(pki: string, user: string, server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: taskmesh
  cluster:
    certificate-authority: ${path.join(pki, 'ca.crt')}
    server: ${server}
users:
- name: ${user}
  user:
    client-certificate: ${path.join(pki, `${user}.crt`)}
    client-key: ${path.join(pki, `${user}.key`)}
contexts:
- name: taskmesh
  context:
    cluster: taskmesh
    user: ${user}
    namespace: default
current-context: taskmesh
`;
}

/** Rewrites a file only when its content changes: kube-proxy exits when its config file is written. */
function writeIfChanged(file: string, content: string, opts?: { mode: number }): void {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return;
  } catch {
    /* new file */
  }
  fs.writeFileSync(file, content, opts);
}

export function writeConfigs(p: ReturnType<typeof clusterPaths>, ip: string): void {
  for (const d of [p.config, p.logs, p.pids, p.containerdDir, p.cniConf, p.kubeletRoot]) fs.mkdirSync(d, { recursive: true });
  const local = `https://127.0.0.1:${PORTS.apiserver}`;
  writeIfChanged(p.kubeconfig, kubeconfig(p.pki, 'admin', local), { mode: 0o600 });
  for (const u of ['controller-manager', 'scheduler', 'kube-proxy', 'kubelet-client']) {
    writeIfChanged(path.join(p.config, `${u}.kubeconfig`), kubeconfig(p.pki, u, local), { mode: 0o600 });
  }

  const cd = p.containerdDir;
  writeIfChanged(
    path.join(p.config, 'containerd.toml'),
    `# taskmesh's own containerd: own root, state and socket (a system containerd, if any, is untouched)
version = 2
root = "${cd}/root"
state = "${cd}/state"
oom_score = 0

[grpc]
  address = "${p.containerdSock}"

[ttrpc]
  address = "${p.containerdSock}.ttrpc"

[debug]
  address = "${cd}/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "${cd}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # root lacks CAP_SYS_RESOURCE here: without this runc fails "can't get final child's PID from pipe: EOF"
  restrict_oom_score_adj = true
  # pods' network namespaces in our state dir, not /var/run/netns
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${which('runc') ?? '/usr/sbin/runc'}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${p.cniConf}"
`,
  );

  writeIfChanged(
    path.join(p.cniConf, '10-taskmesh.conflist'),
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'taskmesh',
        plugins: [
          {
            type: 'bridge',
            bridge: BRIDGE,
            isGateway: true,
            // no per-pod NAT chains: nothing outside the node is reachable from here anyway, and
            // kube-proxy masquerades Service traffic itself
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(p.dir, 'cni', 'ipam') },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );

  writeIfChanged(
    path.join(p.config, 'kubelet.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# this VM: cgroup v1 (hybrid), no systemd
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${p.containerdSock}
address: 0.0.0.0
port: ${PORTS.kubelet}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${PORTS.kubeletHealthz}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${path.join(p.pki, 'ca.crt')}}
authorization: {mode: Webhook}
tlsCertFile: ${path.join(p.pki, 'kubelet-server.crt')}
tlsPrivateKeyFile: ${path.join(p.pki, 'kubelet-server.key')}
clusterDomain: cluster.local
clusterDNS: [${CLUSTER_DNS}]
resolvConf: /etc/resolv.conf
failSwapOn: false
podLogsDir: ${path.join(p.dir, 'pod-logs')}
volumePluginDir: ${path.join(p.kubeletRoot, 'volume-plugins')}
serializeImagePulls: false
# a shared development machine: never evict for disk, never garbage-collect the imported images
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
`,
  );

  writeIfChanged(
    path.join(p.config, 'kube-proxy.yaml'),
    `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: ${path.join(p.config, 'kube-proxy.kubeconfig')}
hostnameOverride: ${NODE_NAME}
clusterCIDR: ${CLUSTER_CIDR}
bindAddress: ${ip}
healthzBindAddress: 127.0.0.1:${PORTS.proxyHealthz}
metricsBindAddress: 127.0.0.1:${PORTS.proxyMetrics}
# leave the kernel's conntrack table size alone (a shared machine)
conntrack:
  maxPerCore: 0
  min: 0
`,
  );
}

// ---------------------------------------------------------------------------
// processes

interface Component {
  name: string;
  command: string;
  args: string[];
  /** resolves truthy when healthy */
  healthy: () => Promise<boolean>;
  /** TCP ports it listens on (checked free before it starts) */
  ports?: number[];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

function pidFile(p: ReturnType<typeof clusterPaths>, name: string): string {
  return path.join(p.pids, `${name}.pid`);
}

function readPid(p: ReturnType<typeof clusterPaths>, name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(p, name), 'utf8'));
    return pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Start a component detached (own session, log file, pid file): it outlives `up`. */
function startDetached(p: ReturnType<typeof clusterPaths>, c: Component): number {
  const logFile = path.join(p.logs, `${c.name}.log`);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} ${c.command} ${c.args.join(' ')}\n`);
  const child = spawn(c.command, c.args, { stdio: ['ignore', fd, fd], detached: true, cwd: p.dir });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new InfraError(`cannot start ${c.command}`);
  child.unref();
  fs.writeFileSync(pidFile(p, c.name), String(child.pid));
  return child.pid;
}

function logTail(p: ReturnType<typeof clusterPaths>, name: string, n = 25): string {
  try {
    return fs
      .readFileSync(path.join(p.logs, `${name}.log`), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-n)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no log)';
  }
}

async function startComponent(p: ReturnType<typeof clusterPaths>, c: Component, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  const existing = readPid(p, c.name);
  if (existing && (await c.healthy().catch(() => false))) {
    log(C, `${c.name} already running (pid ${existing})`);
    return;
  }
  if (existing) await stopPid(c.name, existing, 10_000);
  for (const port of c.ports ?? []) {
    if (!(await portFree(port))) {
      throw new InfraError(`${c.name} needs port ${port}, which another process holds (ss -ltnp 'sport = :${port}'); stop it, or the other cluster (npm run cluster -- down)`);
    }
  }
  const pid = startDetached(p, c);
  try {
    await waitFor(
      async () => {
        if (!pidAlive(pid)) throw new InfraError('exited');
        return c.healthy();
      },
      { timeoutMs, what: c.name, component: C },
    );
  } catch (e) {
    const dead = !pidAlive(pid);
    throw new InfraError(`${c.name} ${dead ? 'exited' : 'did not become healthy'} (${(e as Error).message}); log ${path.join(p.logs, `${c.name}.log`)}:\n${logTail(p, c.name)}`);
  }
  log(C, `${c.name} up in ${elapsed(t0)} (pid ${pid})`);
}

async function stopPid(name: string, pid: number, timeoutMs: number): Promise<void> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    log(C, `${name} did not stop within ${timeoutMs / 1000}s: SIGKILL`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    while (pidAlive(pid)) await sleep(50);
  }
}

function httpsGet(url: string, pki: string, client = 'admin'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: fs.readFileSync(path.join(pki, 'ca.crt')),
        cert: fs.readFileSync(path.join(pki, `${client}.crt`)),
        key: fs.readFileSync(path.join(pki, `${client}.key`)),
        timeout: 3000,
        rejectUnauthorized: false, // controller-manager and scheduler serve self-signed certificates
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return res.ok;
}

function socketAnswers(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(sock, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function components(b: KubernetesBinaries, p: ReturnType<typeof clusterPaths>, ip: string): Component[] {
  const pki = (f: string) => path.join(p.pki, f);
  const cfg = (f: string) => path.join(p.config, f);
  const authFlags = (kc: string) => [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`];
  // The control plane's own binaries: each answers `check` over TLS on its secure port.
  const controlPlane = (name: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler', port: number, check: string, args: string[]): Component => ({
    name,
    command: b.bin[name],
    args: [...args, '--profiling=false', '--v=1'],
    healthy: async () => (await httpsGet(`https://127.0.0.1:${port}/${check}`, p.pki)).status === 200,
    ports: [port],
  });
  // The controller manager and the scheduler: on loopback, as the API server's clients, and alone.
  const apiClient = (name: 'kube-controller-manager' | 'kube-scheduler', port: number, kubeconfig: string, args: string[]): Component =>
    controlPlane(name, port, 'healthz', [...authFlags(cfg(kubeconfig)), '--bind-address=127.0.0.1', `--secure-port=${port}`, ...args, '--leader-elect=false']);
  return [
    {
      name: 'containerd',
      command: which('containerd') ?? '/usr/bin/containerd',
      args: ['--config', cfg('containerd.toml')],
      healthy: async () => (await socketAnswers(p.containerdSock)) && spawnSync('ctr', ['--address', p.containerdSock, 'version'], { timeout: 5000 }).status === 0,
    },
    {
      name: 'etcd',
      command: b.etcd,
      args: [
        '--name=taskmesh',
        `--data-dir=${p.etcdData}`,
        `--listen-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
        `--initial-cluster=taskmesh=http://127.0.0.1:${PORTS.etcdPeer}`,
        `--listen-metrics-urls=http://127.0.0.1:${PORTS.etcdMetrics}`,
        // a throw-away development cluster: no fsync (etcd's own flag for tests)
        '--unsafe-no-fsync',
        '--quota-backend-bytes=2147483648',
        '--log-level=warn',
      ],
      healthy: () => httpOk(`http://127.0.0.1:${PORTS.etcdMetrics}/health`),
      ports: [PORTS.etcdClient, PORTS.etcdPeer, PORTS.etcdMetrics],
    },
    controlPlane('kube-apiserver', PORTS.apiserver, 'readyz', [
      `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`,
      `--secure-port=${PORTS.apiserver}`,
      `--advertise-address=${ip}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--client-ca-file=${pki('ca.crt')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
      `--kubelet-certificate-authority=${pki('ca.crt')}`,
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      '--authorization-mode=Node,RBAC',
      `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
      `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
    ]),
    apiClient('kube-controller-manager', PORTS.controllerManager, 'controller-manager.kubeconfig', [
      `--cluster-signing-cert-file=${pki('ca.crt')}`,
      `--cluster-signing-key-file=${pki('ca.key')}`,
      `--root-ca-file=${pki('ca.crt')}`,
      `--service-account-private-key-file=${pki('sa.key')}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--cluster-cidr=${CLUSTER_CIDR}`,
      // the node's pod range is the CNI config's (host-local), not allocated
      '--allocate-node-cidrs=false',
    ]),
    apiClient('kube-scheduler', PORTS.scheduler, 'scheduler.kubeconfig', []),
    {
      name: 'kubelet',
      command: b.bin.kubelet,
      args: [`--config=${cfg('kubelet.yaml')}`, `--kubeconfig=${cfg('kubelet-client.kubeconfig')}`, `--root-dir=${p.kubeletRoot}`, `--hostname-override=${NODE_NAME}`, `--node-ip=${ip}`, '--v=1'],
      healthy: () => httpOk(`http://127.0.0.1:${PORTS.kubeletHealthz}/healthz`),
      ports: [PORTS.kubelet, PORTS.kubeletHealthz],
    },
    {
      name: 'kube-proxy',
      command: b.bin['kube-proxy'],
      args: [`--config=${cfg('kube-proxy.yaml')}`, '--v=1'],
      healthy: () => httpOk(`http://127.0.0.1:${PORTS.proxyHealthz}/healthz`),
      ports: [PORTS.proxyHealthz, PORTS.proxyMetrics],
    },
  ];
}

/** Stop order: the reverse of the start order. */
const COMPONENT_NAMES = ['containerd', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];

/** The cached kubectl (built by ensureKubernetesBinaries()). */
export function kubectlBin(): string {
  return path.join(cacheDir('kubernetes', KUBERNETES_VERSION), 'kubectl');
}

export function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): { status: number; out: string } {
  // Node's default 1 MiB of output is less than a long run's event ids read back through `kubectl exec`.
  const r = spawnSync(kubectlBin(), [`--kubeconfig=${clusterPaths().kubeconfig}`, ...args], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** kubectl without blocking the event loop, for the long waits (rollouts) that run beside other work; rejects with its output. */
export function kubectlAsync(args: string[], what: string): Promise<string> {
  return run(kubectlBin(), [`--kubeconfig=${clusterPaths().kubeconfig}`, ...args], { component: C, what });
}

export function must(r: { status: number; out: string }, what: string): string {
  if (r.status !== 0) throw new InfraError(`${what} failed:\n${r.out}`);
  return r.out;
}

export function ctr(p: ReturnType<typeof clusterPaths>, args: string[], timeoutMs = 10 * 60_000): { status: number; out: string } {
  const r = spawnSync('ctr', ctrArgs(p, args), { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** ctr without blocking the event loop (an image import takes tens of seconds); rejects with its output. */
export function ctrAsync(p: ReturnType<typeof clusterPaths>, args: string[], what: string): Promise<string> {
  return run('ctr', ctrArgs(p, args), { component: C, what });
}

function ctrArgs(p: ReturnType<typeof clusterPaths>, args: string[]): string[] {
  return ['--address', p.containerdSock, '-n', 'k8s.io', ...args];
}

/** The project's images in podman's storage, for `ctr images import`. */
async function podmanImages(): Promise<{ env: NodeJS.ProcessEnv; refs: string[] } | undefined> {
  const pattern = infraSettings.clusterImages;
  if (!pattern || !which('podman')) return undefined;
  const { podmanEnv } = await import('./podman.js');
  const env = { ...process.env, ...podmanEnv() };
  const r = spawnSync('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8', env });
  if (r.status !== 0) return undefined;
  const refs = [...new Set(r.stdout.split('\n').filter((l) => pattern.test(l) && !l.endsWith(':<none>')))].sort();
  return refs.length ? { env, refs } : undefined;
}

/** The node's own images (pause for every pod, CoreDNS, the local-path provisioner and its helper). */
function importNodeImages(p: ReturnType<typeof clusterPaths>, b: KubernetesBinaries): void {
  const have = new Set(ctr(p, ['images', 'ls', '-q']).out.split('\n').filter(Boolean));
  for (const [name, archive] of [
    [PAUSE_IMAGE, b.pauseArchive],
    [COREDNS_IMAGE, b.corednsArchive],
    [LOCAL_PATH_IMAGE, b.localPath.archive],
    [BUSYBOX_IMAGE, b.localPath.busyboxArchive],
  ] as const) {
    if (have.has(name)) continue;
    const r = ctr(p, ['images', 'import', archive]);
    if (r.status !== 0) throw new InfraError(`ctr images import ${archive} failed:\n${r.out}`);
  }
}

/** The project's images in podman's storage (TASKMESH_CLUSTER_IMAGES) that the node lacks. */
async function importPodmanImages(p: ReturnType<typeof clusterPaths>): Promise<void> {
  const t0 = Date.now();
  const have = new Set(ctr(p, ['images', 'ls', '-q']).out.split('\n').filter(Boolean));
  const imgs = await podmanImages();
  const wanted = imgs?.refs.filter((r) => !have.has(r)) ?? [];
  if (!imgs || !wanted.length) return;
  log(C, `importing ${wanted.length} image(s) from podman: ${wanted.join(', ')}`);
  const archive = path.join(p.dir, 'images.tar');
  await run('podman', ['save', '--format', 'docker-archive', '--multi-image-archive', '-o', archive, ...wanted], { env: imgs.env, component: C, what: 'podman save' });
  try {
    await ctrAsync(p, ['images', 'import', archive], 'ctr images import');
  } finally {
    rmrf(archive);
  }
  log(C, `${wanted.length} image(s) from podman imported in ${elapsed(t0)}`);
}

function corednsReady(): boolean {
  const r = kubectl(
    [
      '-n',
      'kube-system',
      'get',
      'pods',
      '-l',
      'k8s-app=kube-dns',
      '-o',
      'jsonpath={range .items[*]}{.metadata.deletionTimestamp}{"/"}{.status.containerStatuses[0].ready}{"/"}{.status.containerStatuses[0].restartCount}{"\\n"}{end}',
    ],
    { timeoutMs: 10_000 },
  );
  const pods = r.out
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('2')); // skip terminating pods
  return r.status === 0 && pods.length > 0 && pods.every((l) => l.startsWith('/true/'));
}

function nodeReady(): boolean {
  const r = kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { timeoutMs: 10_000 });
  return r.status === 0 && r.out.trim() === 'True';
}

/** The kube-dns add-on: CoreDNS's RBAC, Corefile, Deployment and the Service at CLUSTER_DNS (kubeadm's, trimmed). */
export function corednsManifest(): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: system:coredns}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system:coredns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:coredns}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        prometheus :9153
        forward . /etc/resolv.conf {
            max_concurrent 1000
        }
        cache 30
        loop
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      # port 53 as uid 65532: the image has no file capability (upstream's setcap), so the pod lowers
      # the unprivileged port floor in its own network namespace (a safe, namespaced sysctl)
      securityContext:
        runAsUser: 65532
        runAsNonRoot: true
        sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
      dnsPolicy: Default
      tolerations: [{key: CriticalAddonsOnly, operator: Exists}, {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
      containers:
      - name: coredns
        image: ${COREDNS_IMAGE}
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        resources: {limits: {memory: 170Mi}, requests: {cpu: 50m, memory: 70Mi}}
        volumeMounts: [{name: config-volume, mountPath: /etc/coredns, readOnly: true}]
        ports:
        - {containerPort: 53, name: dns, protocol: UDP}
        - {containerPort: 53, name: dns-tcp, protocol: TCP}
        - {containerPort: 9153, name: metrics, protocol: TCP}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
          readOnlyRootFilesystem: true
        livenessProbe: {httpGet: {path: /health, port: 8080}, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 1}
      volumes:
      - name: config-volume
        configMap: {name: coredns, items: [{key: Corefile, path: Corefile}]}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: ${CLUSTER_DNS}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
`;
}

// ---------------------------------------------------------------------------
// up / down / status

export interface ClusterInfo {
  dir: string;
  kubeconfig: string;
  kubectl: string;
  nodeIp: string;
}

function info(p: ReturnType<typeof clusterPaths>, ip: string): ClusterInfo {
  return { dir: p.dir, kubeconfig: p.kubeconfig, kubectl: kubectlBin(), nodeIp: ip };
}

export async function clusterUp(): Promise<ClusterInfo> {
  if (process.getuid?.() !== 0) throw new InfraError('the cluster runs containerd, the kubelet and kube-proxy: run as root');
  const t0 = Date.now();
  await ensureNodePackages();
  const b = await ensureClusterBinaries();
  const p = clusterPaths();
  const ip = nodeIp();
  fs.mkdirSync(p.dir, { recursive: true });
  const tUp = Date.now();
  writePki(p.pki, ip);
  writeConfigs(p, ip);
  const all = components(b, p, ip);
  const by = (n: string) => all.find((c) => c.name === n)!;
  await startComponent(p, by('containerd'));
  importNodeImages(p, b);
  // The project's images load while the control plane starts: no pod started here needs them.
  const podmanImport = importPodmanImages(p);
  podmanImport.catch(() => {}); // awaited below, after the control plane, whose failure comes first
  await startComponent(p, by('etcd'));
  await startComponent(p, by('kube-apiserver'));
  await Promise.all(['kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'].map((n) => startComponent(p, by(n))));
  const tReady = Date.now();
  await waitFor(() => nodeReady(), { timeoutMs: 180_000, what: `node ${NODE_NAME} Ready`, component: C, intervalMs: 1000 });
  log(C, `node ${NODE_NAME} Ready after ${elapsed(tReady)}`);
  const tDns = Date.now();
  must(kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: corednsManifest() }), 'kubectl apply CoreDNS');
  must(kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=180s'], { timeoutMs: 200_000 }), 'CoreDNS rollout');
  // rollout status can pass before a new pod has been seen failing: wait for a Ready pod of the current template
  await waitFor(() => corednsReady(), { timeoutMs: 120_000, what: 'CoreDNS pod Ready', component: C, intervalMs: 1000 });
  log(C, `CoreDNS ready in ${elapsed(tDns)} (kube-dns ${CLUSTER_DNS})`);
  const tStorage = Date.now();
  const manifest = localPathManifest(fs.readFileSync(b.localPath.manifest, 'utf8'), path.join(p.dir, 'volumes'));
  must(kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: manifest }), 'kubectl apply local-path-provisioner');
  must(kubectl(['-n', 'local-path-storage', 'rollout', 'status', 'deployment/local-path-provisioner', '--timeout=180s'], { timeoutMs: 200_000 }), 'local-path-provisioner rollout');
  log(C, `local-path-provisioner ready in ${elapsed(tStorage)} (default StorageClass local-path, volumes in ${path.join(p.dir, 'volumes')})`);
  await podmanImport;
  log(C, `cluster up in ${elapsed(tUp)} (total with installs/builds ${elapsed(t0)})`);
  return info(p, ip);
}

function mountsUnder(dir: string): string[] {
  try {
    return fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
      .reverse();
  } catch {
    return [];
  }
}

/** Processes whose command line mentions the cluster dir (containerd shims, stray components). */
function strayPids(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(dir)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * The chains the kubelet (KUBE-FIREWALL, canaries) and the portmap plugin (CNI-HOSTPORT-*) leave in
 * iptables after their pods are gone; kube-proxy's own are removed by `kube-proxy --cleanup`. A
 * CNI-HOSTPORT-DNAT that still holds rules belongs to another CNI user and is left alone.
 */
export function removeNodeChains(): void {
  const ours: Record<string, string[]> = {
    filter: ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY'],
    mangle: ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'],
    nat: ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK', 'KUBE-KUBELET-CANARY'],
  };
  for (const tool of ['iptables', 'ip6tables']) {
    if (!which(tool)) continue;
    for (const [table, chains] of Object.entries(ours)) {
      const rules = spawnSync(`${tool}-save`, ['-t', table], { encoding: 'utf8' }).stdout ?? '';
      const foreign = (chain: string) => rules.split('\n').some((l) => l.startsWith(`-A ${chain} `) && chain === 'CNI-HOSTPORT-DNAT');
      const drop = chains.filter((c) => rules.includes(`:${c} `) && !foreign(c));
      for (const line of rules.split('\n')) {
        const m = /^-A (\S+) (.*)-j (\S+)$/.exec(line.trim());
        if (m && drop.includes(m[3]!) && !drop.includes(m[1]!)) spawnSync('sh', ['-c', `${tool} -w -t ${table} -D ${line.slice(3)}`], { stdio: 'ignore' });
      }
      for (const c of drop) spawnSync(tool, ['-w', '-t', table, '-F', c], { stdio: 'ignore' });
      for (const c of drop) spawnSync(tool, ['-w', '-t', table, '-X', c], { stdio: 'ignore' });
    }
  }
}

export async function clusterDown(): Promise<void> {
  const t0 = Date.now();
  const p = clusterPaths();
  if (!fs.existsSync(p.dir)) {
    log(C, `no cluster at ${p.dir}`);
    return;
  }
  // 1. pods first, while the kubelet still runs: it stops their containers and the CRI tears down
  //    their network (CNI DEL removes portmap's rules); nothing recreates them once the
  //    controllers and the scheduler are gone.
  const kubeletPid = readPid(p, 'kubelet');
  for (const n of ['kube-controller-manager', 'kube-scheduler']) {
    const pid = readPid(p, n);
    if (pid) await stopPid(n, pid, 10_000);
  }
  if (kubeletPid && readPid(p, 'kube-apiserver')) {
    kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=2', '--wait=false'], { timeoutMs: 30_000 });
    // the kubelet stops each pod's containers, then its sandbox (CNI DEL); it removes exited
    // containers only at its next garbage collection, so wait for no running task rather than none
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const r = ctr(p, ['tasks', 'ls'], 10_000);
      if (r.status !== 0 || !/\bRUNNING\b/.test(r.out)) break;
      await sleep(500);
    }
  }
  // 2. kube-proxy's rules
  const proxyPid = readPid(p, 'kube-proxy');
  if (proxyPid) await stopPid('kube-proxy', proxyPid, 10_000);
  const proxyBin = path.join(cacheDir('kubernetes', KUBERNETES_VERSION), 'kube-proxy');
  if (fs.existsSync(proxyBin) && fs.existsSync(path.join(p.config, 'kube-proxy.yaml'))) {
    spawnSync(proxyBin, [`--config=${path.join(p.config, 'kube-proxy.yaml')}`, '--cleanup'], { timeout: 60_000, stdio: 'ignore' });
  }
  // 3. the rest, in reverse start order
  for (const n of [...COMPONENT_NAMES].reverse()) {
    const pid = readPid(p, n);
    if (pid) await stopPid(n, pid, 20_000);
  }
  // 4. leftovers: containerd shims and their containers (a pod the kubelet did not stop in time)
  for (let i = 0; i < 3; i++) {
    const stray = strayPids(p.dir);
    if (!stray.length) break;
    for (const pid of stray) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* not a group leader */
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(500);
  }
  for (const m of mountsUnder(p.dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'delete', BRIDGE], { stdio: 'ignore' });
  removeNodeChains();
  rmrf(p.dir);
  const left = strayPids(p.dir);
  if (left.length) throw new InfraError(`processes still running after down: ${left.join(', ')}`);
  log(C, `down in ${elapsed(t0)}: ${p.dir} removed`);
}

export async function clusterStatus(): Promise<boolean> {
  const p = clusterPaths();
  if (!fs.existsSync(p.kubeconfig)) {
    process.stdout.write(`no cluster (${p.dir} missing): npm run cluster -- up\n`);
    return false;
  }
  const b: KubernetesBinaries = {
    dir: cacheDir('kubernetes', KUBERNETES_VERSION),
    bin: k8sBinaries(cacheDir('kubernetes', KUBERNETES_VERSION)),
    etcd: path.join(cacheDir('kubernetes', `etcd-${ETCD_VERSION}`), 'etcd'),
    pauseArchive: '',
    corednsArchive: '',
    localPath: { archive: '', busyboxArchive: '', manifest: '' },
  };
  let ok = true;
  for (const c of components(b, p, nodeIp())) {
    const pid = readPid(p, c.name);
    const healthy = pid ? await c.healthy().catch(() => false) : false;
    ok &&= healthy;
    process.stdout.write(`${c.name.padEnd(24)} ${pid ? `pid ${String(pid).padEnd(8)}` : 'not running '.padEnd(12)} ${healthy ? 'healthy' : 'UNHEALTHY'}\n`);
  }
  process.stdout.write(`\nkubeconfig: ${p.kubeconfig}\n\n`);
  if (readPid(p, 'kube-apiserver')) process.stdout.write(kubectl(['get', 'nodes,pods', '-A', '-o', 'wide']).out);
  return ok;
}

// ---------------------------------------------------------------------------
// smoke: a Deployment behind a NodePort Service, a hostPort pod, a client pod through the ClusterIP

const SMOKE_NS = 'taskmesh-smoke';
const SMOKE_NODE_PORT = 30080;
const SMOKE_HOST_PORT = 18081;

/** A tiny HTTP server for the image's own node (the app images' ENTRYPOINT is /nodejs/bin/node). */
const SMOKE_SERVER = `require('http').createServer((q, s) => s.end('hello from ' + require('os').hostname() + '\\n')).listen(8080)`;
// through the ClusterIP from the Service's env vars, then by name through CoreDNS (search path)
const SMOKE_CLIENT = `(async () => { for (const u of ['http://' + process.env.WEB_SERVICE_HOST + ':' + process.env.WEB_SERVICE_PORT + '/', 'http://web/', 'http://web.${SMOKE_NS}.svc.cluster.local/']) { const t = await (await fetch(u)).text(); console.log(u + ' -> ' + t.trim()); } })().catch((e) => { console.error(e); process.exit(1); })`;

export /** One GET on a new connection (fetch keeps connections alive, which pins a NodePort client to one pod). */
function httpGetText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A namespace and a Deployment in it whose pods are labelled app=<name>; `podSpec` is the pod's spec, indented under it. */
function deploymentInNamespace(d: { ns: string; name: string; replicas: number; podAnnotations?: string; podSpec: string }): string {
  const podMetadata = d.podAnnotations
    ? `
      labels: {app: ${d.name}}
      annotations: ${d.podAnnotations}`
    : ` {labels: {app: ${d.name}}}`;
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${d.ns}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${d.name}, namespace: ${d.ns}}
spec:
  replicas: ${d.replicas}
  selector: {matchLabels: {app: ${d.name}}}
  template:
    metadata:${podMetadata}
    spec:
${d.podSpec}`;
}

export function smokeManifest(image: string): string {
  const container = (name: string, script: string, extra = '') => `      - name: ${name}
        image: ${image}
        imagePullPolicy: Never
        args: ["-e", ${JSON.stringify(script)}]
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}${extra}`;
  return `${deploymentInNamespace({
    ns: SMOKE_NS,
    name: 'web',
    replicas: 2,
    podSpec: `      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      containers:
${container(
  'web',
  SMOKE_SERVER,
  `
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}`,
)}`,
  })}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${SMOKE_NS}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: ${SMOKE_NODE_PORT}}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostport, namespace: ${SMOKE_NS}, labels: {app: hostport}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
${container(
  'web',
  SMOKE_SERVER,
  `
        ports: [{containerPort: 8080, hostPort: ${SMOKE_HOST_PORT}}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}`,
).replace(/^ {4}/gm, '')}
`;
}

export function smokeClient(image: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${SMOKE_NS}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  containers:
  - name: client
    image: ${image}
    imagePullPolicy: Never
    args: ["-e", ${JSON.stringify(SMOKE_CLIENT)}]
    securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
`;
}

/**
 * Deploys two replicas of a tiny HTTP server in the gateway image (its node), a NodePort Service and
 * a hostPort pod, curls both from the host, and fetches the Service's ClusterIP from a pod; then
 * deletes the namespace.
 */
export async function clusterSmoke(): Promise<void> {
  const t0 = Date.now();
  const p = clusterPaths();
  const images = ctr(p, ['images', 'ls', '-q']).out.split('\n');
  const image = ['localhost/taskmesh/gateway:local', 'localhost/taskmesh/tasks:local'].find((i) => images.includes(i));
  if (!image) throw new InfraError('no taskmesh app image in the cluster: build them (npx tsx packages/infra/src/images.ts apps), then npm run cluster -- up');
  const ip = nodeIp();
  try {
    must(kubectl(['apply', '-f', '-'], { input: smokeManifest(image) }), 'kubectl apply');
    must(kubectl(['-n', SMOKE_NS, 'rollout', 'status', 'deployment/web', '--timeout=180s'], { timeoutMs: 200_000 }), 'rollout');
    must(kubectl(['-n', SMOKE_NS, 'wait', '--for=condition=Ready', 'pod/hostport', '--timeout=120s'], { timeoutMs: 130_000 }), 'hostPort pod');
    log(C, `deployment web (2 replicas of ${image}) and pod hostport ready after ${elapsed(t0)}`);
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const text = await httpGetText(`http://${ip}:${SMOKE_NODE_PORT}/`);
        seen.add(text.trim());
        return seen.size >= 2;
      },
      { timeoutMs: 60_000, what: `two replicas answering on NodePort ${ip}:${SMOKE_NODE_PORT}`, component: C, intervalMs: 50 },
    );
    process.stdout.write(`NodePort http://${ip}:${SMOKE_NODE_PORT}/ → ${[...seen].join(' | ')}\n`);
    const hostPort = await httpGetText(`http://${ip}:${SMOKE_HOST_PORT}/`);
    process.stdout.write(`hostPort http://${ip}:${SMOKE_HOST_PORT}/ → ${hostPort.trim()}\n`);
    must(kubectl(['apply', '-f', '-'], { input: smokeClient(image) }), 'kubectl apply client');
    must(kubectl(['-n', SMOKE_NS, 'wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/client', '--timeout=120s'], { timeoutMs: 130_000 }), 'client pod');
    process.stdout.write(`from a pod:\n${kubectl(['-n', SMOKE_NS, 'logs', 'client']).out.trim()}\n`);
    log(C, `smoke passed in ${elapsed(t0)}`);
  } catch (e) {
    process.stderr.write(kubectl(['-n', SMOKE_NS, 'get', 'all,events', '-o', 'wide']).out);
    throw e;
  } finally {
    kubectl(['delete', 'namespace', SMOKE_NS, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
  }
}

// ---------------------------------------------------------------------------
// the Dapr control plane (a head start on phase 2): Dapr's own Helm chart from the module, images built here

/** The chart's images (`<global.registry>/<name>:<global.tag>`), each the binary alone in one layer, user 65532. */
const DAPR_IMAGES = ['operator', 'injector', 'sentry', 'placement', 'scheduler', 'daprd'] as const;

/**
 * operator, injector and sentry built from github.com/dapr/dapr at dapr.ts's DAPR_VERSION (seconds
 * once daprd's dependencies are in Go's build cache); daprd, scheduler and placement are dapr.ts's
 * builds. Returns the OCI archives, named localhost/taskmesh/<name>:<DAPR_VERSION>.
 */
export async function ensureDaprImages(): Promise<{ version: string; archives: Record<string, string> }> {
  const { DAPR_VERSION, ensureDapr, ensureDaprPlacement } = await import('./dapr.js');
  const dir = cacheDir('kubernetes', `dapr-${DAPR_VERSION}-images`);
  const archives = Object.fromEntries(DAPR_IMAGES.map((n) => [n, path.join(dir, `${n}.oci.tar`)]));
  const entry = {
    dir,
    lock: `dapr-${DAPR_VERSION}-images`,
    what: `the Dapr control plane ${DAPR_VERSION} (operator, injector, sentry)`,
    result: { version: DAPR_VERSION, archives },
    // Long enough for a run waiting on a build that first builds daprd and placement.
    timeoutMs: 90 * 60_000,
  };
  return buildOnceWithGo(entry, async (go, logFile) => {
    const sidecar = await ensureDapr();
    const placement = await ensureDaprPlacement();
    const src = await moduleCopy(go, `github.com/dapr/dapr@${DAPR_VERSION}`, dir);
    const out = path.join(dir, 'bin');
    rmrf(out);
    fs.mkdirSync(out);
    const ldflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION.slice(1)}`;
    await goBuild(go, ['-ldflags', ldflags, '-o', `${out}/`, './cmd/operator', './cmd/injector', './cmd/sentry'], src, logFile);
    const bins: Record<string, string> = {
      operator: path.join(out, 'operator'),
      injector: path.join(out, 'injector'),
      sentry: path.join(out, 'sentry'),
      placement,
      scheduler: sidecar.scheduler,
      daprd: sidecar.daprd,
    };
    for (const name of DAPR_IMAGES) {
      const root = path.join(dir, `rootfs-${name}`);
      rmrf(root);
      fs.mkdirSync(path.join(root, 'tmp'), { recursive: true, mode: 0o1777 });
      fs.copyFileSync(bins[name]!, path.join(root, name));
      fs.chmodSync(path.join(root, name), 0o755);
      await writeOciArchive(root, archives[name]!, { name: `localhost/taskmesh/${name}:${DAPR_VERSION}`, entrypoint: [`/${name}`], user: '65532:65532' });
      rmrf(root);
    }
    rmrf(src);
    rmrf(out);
  });
}

/**
 * `npm run cluster -- dapr`: imports the Dapr images into the running cluster and installs Dapr's
 * own chart (charts/dapr of the module) into dapr-system with the images overridden, `--wait`.
 */
export async function clusterDapr(): Promise<void> {
  const t0 = Date.now();
  const p = clusterPaths();
  if (!readPid(p, 'kube-apiserver')) throw new InfraError('no cluster running: npm run cluster -- up');
  const { version, archives } = await ensureDaprImages();
  const have = new Set(ctr(p, ['images', 'ls', '-q']).out.split('\n'));
  for (const name of DAPR_IMAGES) {
    if (have.has(`localhost/taskmesh/${name}:${version}`)) continue;
    must(ctr(p, ['images', 'import', archives[name]!]), `ctr images import ${name}`);
  }
  const { ensureGoTool } = await import('./go-tools.js');
  const helm = await ensureGoTool('helm');
  const go = requireGo('the Dapr chart');
  const chart = path.join(await moduleDir(go, `github.com/dapr/dapr@${version}`, cacheDir('kubernetes')), 'charts', 'dapr');
  log(C, `helm upgrade --install dapr ${chart} (images localhost/taskmesh/*:${version})`);
  await run(
    helm,
    [
      'upgrade',
      '--install',
      'dapr',
      chart,
      '-n',
      'dapr-system',
      '--create-namespace',
      '--set',
      'global.registry=localhost/taskmesh',
      '--set',
      `global.tag=${version}`,
      '--set',
      'global.ha.enabled=false',
      '--wait',
      '--timeout',
      '5m',
    ],
    { env: { ...process.env, KUBECONFIG: p.kubeconfig }, component: C, what: 'helm install dapr' },
  );
  must(kubectl(['-n', 'dapr-system', 'wait', '--for=condition=Ready', 'pods', '--all', '--timeout=180s'], { timeoutMs: 190_000 }), 'Dapr control plane pods Ready');
  log(C, `Dapr control plane ${version} ready in ${elapsed(t0)}`);
  process.stdout.write(kubectl(['-n', 'dapr-system', 'get', 'pods']).out);
  await daprProbe();
}

/** A Deployment annotated for Dapr: the injector adds daprd, and a call through daprd's invoke API reaches the app. */
async function daprProbe(): Promise<void> {
  const t0 = Date.now();
  // A namespace of its own per probe: it is deleted without waiting, and a probe run right after
  // must not find the last one's still terminating.
  const ns = `dapr-probe-${process.pid}-${Date.now().toString(36)}`;
  const manifest = `${deploymentInNamespace({
    ns,
    name: 'hello',
    replicas: 1,
    podAnnotations: '{dapr.io/enabled: "true", dapr.io/app-id: hello, dapr.io/app-port: "8080", dapr.io/sidecar-listen-addresses: "0.0.0.0"}',
    podSpec: `      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: localhost/taskmesh/gateway:local
        imagePullPolicy: Never
        args: ["-e", ${JSON.stringify(SMOKE_SERVER)}]
        ports: [{containerPort: 8080}]`,
  })}
`;
  try {
    must(kubectl(['apply', '-f', '-'], { input: manifest }), 'kubectl apply dapr-probe');
    await kubectlAsync(['-n', ns, 'rollout', 'status', 'deployment/hello', '--timeout=180s'], 'dapr-probe rollout');
    const containers = must(kubectl(['-n', ns, 'get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={.items[0].spec.containers[*].name}']), 'dapr-probe pod');
    if (!containers.split(' ').includes('daprd')) throw new InfraError(`the sidecar injector did not add daprd (containers: ${containers})`);
    const podIp = must(kubectl(['-n', ns, 'get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={.items[0].status.podIP}']), 'dapr-probe pod IP').trim();
    const text = await waitFor(() => httpGetText(`http://${podIp}:3500/v1.0/invoke/hello.${ns}/method/ping`), { timeoutMs: 60_000, what: 'a call through daprd', component: C, intervalMs: 500 });
    process.stdout.write(`daprd injected; GET http://${podIp}:3500/v1.0/invoke/hello.${ns}/method/ping → ${text.trim()}\n`);
    log(C, `Dapr probe passed in ${elapsed(t0)}`);
  } finally {
    // Its pods' drain (daprd's included) is nobody's wait.
    kubectl(['delete', 'namespace', ns, '--wait=false'], { timeoutMs: 30_000 });
  }
}
