// `npm run cluster -- up|install|down|status|smoke|dapr|ingress|build|kubectl <args…>`: the single-node
// Kubernetes of packages/infra/src/kubernetes.ts (built from the Go module proxy into ~/.cache/taskmesh/kubernetes)
// and taskmesh installed on it with its chart (packages/infra/src/cluster-release.ts).
import { spawnSync } from 'node:child_process';
import { clusterInstall } from '@taskmesh/infra/cluster-release';
import { clusterDapr, clusterDown, clusterPaths, clusterSmoke, clusterStatus, clusterUp, ensureClusterBinaries, ensureNodePackages, kubectlBin } from '@taskmesh/infra/kubernetes';
import { clusterIngress } from '@taskmesh/infra/traefik';

const [cmd, ...rest] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (cmd) {
    case 'up': {
      const c = await clusterUp();
      process.stdout.write(`KUBECONFIG=${c.kubeconfig}\nKUBECTL=${c.kubectl}\n`);
      return 0;
    }
    case 'down':
      await clusterDown();
      return 0;
    case 'install':
      await clusterUp();
      process.stdout.write(`${await clusterInstall()}\n`);
      return 0;
    case 'dapr':
      await clusterDapr();
      return 0;
    case 'ingress':
      await clusterIngress();
      return 0;
    case 'smoke':
      await clusterSmoke();
      return 0;
    case 'status':
      return (await clusterStatus()) ? 0 : 1;
    case 'build': {
      await ensureNodePackages();
      const b = await ensureClusterBinaries();
      process.stdout.write(`${[...Object.values(b.bin), b.etcd, b.pauseArchive, b.corednsArchive].join('\n')}\n`);
      return 0;
    }
    case 'kubectl':
      return spawnSync(kubectlBin(), [`--kubeconfig=${clusterPaths().kubeconfig}`, ...rest], { stdio: 'inherit' }).status ?? 1;
    default:
      process.stderr.write('usage: npm run cluster -- up | install | down | status | smoke | dapr | ingress | build | kubectl <args…>\n');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`\n✖ ${(e as Error).message}\n`);
    process.exit(1);
  },
);
