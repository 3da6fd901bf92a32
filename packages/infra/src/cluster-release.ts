// taskmesh on the cluster of kubernetes.ts, as an operator installs it: the images of images.ts
// loaded into the node's containerd, Traefik as the Ingress controller, the Dapr control plane from
// Dapr's own chart, then `helm upgrade --install --atomic --wait` of helm/taskmesh with
// values-local.yaml. App images are tagged with a hash of their image ids, the way CI tags them
// with the commit: a code change is a new tag, so `helm upgrade` rolls the Deployments.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { elapsed, log, run } from './cache.js';
import { ensureGoTool } from './go-tools.js';
import { APP_TARGETS, appImageTag, buildAppImages, ensureInfraImages } from './images.js';
import { clusterDapr, clusterPaths, ctr, ctrAsync, kubectl, nodeIp } from './kubernetes.js';
import { podman, podmanSync } from './podman.js';
import { clusterIngress, INGRESS_PORT } from './traefik.js';

const C = 'cluster';
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
export const CHART = path.join(ROOT, 'helm', 'taskmesh');
export const NAMESPACE = 'taskmesh';
export const RELEASE = 'taskmesh';

export interface ReleaseImages {
  /** global.imageTag: every app image's tag. */
  tag: string;
  postgres: string;
  kafka: string;
  registry: string;
}

/** Builds (or finds) every image, tags the app images with their build context and loads what the node lacks. */
export async function releaseImages(): Promise<ReleaseImages> {
  const t0 = Date.now();
  await buildAppImages();
  const { tags: infra } = await ensureInfraImages({ dapr: false });
  // Named by content: the same tag on the node always means the same images.
  const ids = APP_TARGETS.map((t) => podmanSync(['image', 'inspect', '--format', '{{.Id}}', appImageTag(t)]).stdout.trim());
  const tag = `id-${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16)}`;
  for (const t of APP_TARGETS) podmanSync(['tag', appImageTag(t), appImageTag(t, tag)]);
  const wanted = [...APP_TARGETS.map((t) => appImageTag(t, tag)), infra.postgres, infra.kafka, infra.registry];
  const p = clusterPaths();
  const have = new Set(ctr(p, ['images', 'ls', '-q']).out.split('\n'));
  const missing = wanted.filter((r) => !have.has(r));
  if (missing.length) {
    log(C, `loading ${missing.length} image(s) into the node: ${missing.join(', ')}`);
    const archive = path.join(p.dir, 'images.tar');
    await podman(['save', '--format', 'docker-archive', '--multi-image-archive', '-o', archive, ...missing], { component: C, what: 'podman save' });
    await ctrAsync(p, ['images', 'import', archive], 'ctr images import');
    await run('rm', ['-f', archive]);
  }
  log(C, `images ready in ${elapsed(t0)} (app tag ${tag})`);
  return { tag, postgres: infra.postgres, kafka: infra.kafka, registry: infra.registry };
}

export function helmValues(images: ReleaseImages, extra: Record<string, string> = {}): string[] {
  const set = { 'global.imageTag': images.tag, 'postgres.image': images.postgres, 'kafka.image': images.kafka, 'schemaRegistry.image': images.registry, ...extra };
  return ['-f', path.join(CHART, 'values-local.yaml'), ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
}

export async function helm(args: string[], what: string): Promise<string> {
  const bin = await ensureGoTool('helm');
  return run(bin, args, { env: { ...process.env, KUBECONFIG: clusterPaths().kubeconfig }, component: C, what });
}

/** `helm upgrade --install --atomic --wait`: on any failure Helm rolls back to the previous revision. */
export async function helmUpgrade(images: ReleaseImages, extra: Record<string, string> = {}): Promise<void> {
  const t0 = Date.now();
  await settleInterruptedRelease();
  log(C, `helm upgrade --install ${RELEASE} (images :${images.tag})`);
  await helm(
    ['upgrade', '--install', RELEASE, CHART, '-n', NAMESPACE, '--create-namespace', ...helmValues(images, extra), '--atomic', '--wait', '--timeout', '12m'],
    'helm upgrade --install taskmesh',
  );
  log(C, `release ${RELEASE} deployed in ${elapsed(t0)}`);
}

/**
 * A Helm run that was killed leaves the release pending, and Helm refuses the next one ("another
 * operation is in progress"): an interrupted install is removed, an interrupted upgrade rolled back.
 */
async function settleInterruptedRelease(): Promise<void> {
  const status = await helm(['status', RELEASE, '-n', NAMESPACE, '-o', 'json'], 'helm status').then(
    (out) => (JSON.parse(out.slice(out.indexOf('{'))) as { info?: { status?: string } }).info?.status ?? '',
    () => '',
  );
  if (status === 'pending-install') {
    log(C, `release ${RELEASE} was left pending-install by an interrupted run: uninstalling it`);
    await helm(['uninstall', RELEASE, '-n', NAMESPACE, '--wait'], 'helm uninstall');
  } else if (status === 'pending-upgrade' || status === 'pending-rollback') {
    log(C, `release ${RELEASE} was left ${status} by an interrupted run: rolling back to the last deployed revision`);
    await helm(['rollback', RELEASE, '-n', NAMESPACE, '--wait', '--timeout', '10m'], 'helm rollback');
  }
}

/** The base URL of the Ingress on the node. */
export function ingressUrl(): string {
  return `http://${nodeIp()}:${INGRESS_PORT}`;
}

/** `npm run cluster -- install`: Dapr, Traefik, the images and the release; prints where to go. */
export async function clusterInstall(): Promise<string> {
  const t0 = Date.now();
  // The images load while Dapr and Traefik start: neither needs the other, and both mostly wait.
  const loading = releaseImages();
  loading.catch(() => {}); // awaited below, after Dapr and Traefik, whose failure comes first
  await clusterDapr();
  await clusterIngress();
  const images = await loading;
  await helmUpgrade(images);
  process.stdout.write(kubectl(['-n', NAMESPACE, 'get', 'pods', '-o', 'wide']).out);
  log(C, `taskmesh installed in ${elapsed(t0)}: open ${ingressUrl()}`);
  return ingressUrl();
}
