// The cluster's Ingress controller: Traefik built from the Go module proxy, run as a Deployment with
// a host port on the node, its IngressClass the cluster's default (the chart's Ingress names none).
//
// Traefik 3.6 is the newest release whose dependencies the module proxy serves in full: 3.7 needs
// lego v5's DNS providers and a nested module (dynamic/ext) it does not serve.
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, elapsed, log, rmrf, waitFor } from './cache.js';
import { buildOnceWithGo, clusterPaths, ctr, goBuild, kubectl, moduleCopy, must, writeOciArchive } from './kubernetes.js';
import { infraSettings } from './settings.js';

const C = 'cluster';

export const TRAEFIK_VERSION = 'v3.6.12';
export const TRAEFIK_IMAGE = `localhost/taskmesh/traefik:${TRAEFIK_VERSION}`;
/** Where the Ingress answers on the node: http://<node IP>:<port>/. */
export const INGRESS_PORT = infraSettings.clusterIngressPort;

/** The binary in a one-layer image, user 65532; built once per version into the cache. */
export async function ensureTraefik(): Promise<string> {
  const dir = cacheDir('kubernetes', `traefik-${TRAEFIK_VERSION}`);
  const archive = path.join(dir, 'traefik.oci.tar');
  const entry = { dir, lock: `traefik-${TRAEFIK_VERSION}`, what: `Traefik ${TRAEFIK_VERSION}`, takes: 'a few minutes', done: archive, result: archive };
  return buildOnceWithGo(entry, async (go, logFile) => {
    // Built as the main module: its go.mod has replace directives, which `go install mod@version` refuses.
    const src = await moduleCopy(go, `github.com/traefik/traefik/v3@${TRAEFIK_VERSION}`, dir);
    const rootfs = path.join(dir, 'rootfs');
    rmrf(rootfs);
    fs.mkdirSync(path.join(rootfs, 'tmp'), { recursive: true, mode: 0o1777 });
    const ldflags = `-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION.slice(1)}`;
    await goBuild(go, ['-ldflags', ldflags, '-o', path.join(rootfs, 'traefik'), './cmd/traefik'], src, logFile);
    await writeOciArchive(rootfs, archive, { name: TRAEFIK_IMAGE, entrypoint: ['/traefik'], user: '65532:65532' });
    rmrf(src);
    rmrf(rootfs);
  });
}

/**
 * RBAC as Traefik's Kubernetes Ingress provider documents it, the default IngressClass, and the
 * Deployment. The entry point's read timeout is off: it bounds a whole WebSocket's life otherwise
 * (live sync sockets stay open for hours); idle sockets are closed by the gateway's own pings.
 */
export function traefikManifest(port = INGRESS_PORT): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: traefik}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: traefik, namespace: traefik}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: traefik-ingress}
rules:
- apiGroups: [""]
  resources: [services, secrets, nodes]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, ingressclasses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: traefik-ingress}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: traefik-ingress}
subjects: [{kind: ServiceAccount, name: traefik, namespace: traefik}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: traefik
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: traefik.io/ingress-controller}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traefik, namespace: traefik}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: traefik}}
  template:
    metadata: {labels: {app: traefik}}
    spec:
      serviceAccountName: traefik
      terminationGracePeriodSeconds: 5
      securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: traefik
        image: ${TRAEFIK_IMAGE}
        imagePullPolicy: Never
        args:
        - --entryPoints.web.address=:8000
        - --entryPoints.web.transport.respondingTimeouts.readTimeout=0
        - --entryPoints.traefik.address=:9000
        - --ping=true
        - --providers.kubernetesingress=true
        - --providers.kubernetesingress.ingressendpoint.ip=127.0.0.1
        - --providers.kubernetesingress.allowEmptyServices=true
        - --global.checkNewVersion=false
        - --global.sendAnonymousUsage=false
        - --log.level=INFO
        ports:
        - {name: web, containerPort: 8000, hostPort: ${port}}
        readinessProbe:
          httpGet: {path: /ping, port: 9000}
          periodSeconds: 2
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {memory: 256Mi}
`;
}

/** Imports the image and applies the manifest; returns once Traefik answers its readiness probe. */
export async function clusterIngress(): Promise<void> {
  const t0 = Date.now();
  const archive = await ensureTraefik();
  const p = clusterPaths();
  if (!ctr(p, ['images', 'ls', '-q']).out.split('\n').includes(TRAEFIK_IMAGE)) must(ctr(p, ['images', 'import', archive]), 'ctr images import traefik');
  must(kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: traefikManifest() }), 'kubectl apply Traefik');
  must(kubectl(['-n', 'traefik', 'rollout', 'status', 'deployment/traefik', '--timeout=180s'], { timeoutMs: 200_000 }), 'Traefik rollout');
  await waitFor(() => kubectl(['-n', 'traefik', 'get', 'pods', '-l', 'app=traefik', '-o', 'jsonpath={.items[*].status.containerStatuses[0].ready}'], { timeoutMs: 10_000 }).out.trim() === 'true', {
    timeoutMs: 60_000,
    what: 'Traefik Ready',
    component: C,
    intervalMs: 1000,
  });
  log(C, `Ingress controller Traefik ${TRAEFIK_VERSION} ready in ${elapsed(t0)} (port ${INGRESS_PORT} on the node)`);
}
