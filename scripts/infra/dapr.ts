// daprd and the Dapr scheduler, built from the Dapr Go module (via the Go module proxy) into the
// cache once per version and machine. `go install …@version` refuses modules with replace
// directives, and Dapr's go.mod has them, so the module is downloaded at a pinned release, copied to a
// writable folder and built there, where its replace directives apply.
//
// The sidecar is built with the component set the project uses (secret stores, name resolution);
// every other contrib component (cloud SDKs, databases, brokers) is left out, which cuts the build
// from the full "stablecomponents" flavour to a fraction of its time on a small machine. The runtime
// itself (service invocation, resiliency, Jobs API, secrets API, metrics, tracing) is unchanged.
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, elapsed, InfraError, isMain, log, rmrf, run, which, withLock } from './cache.js';

/** Newest stable Dapr release whose `go` line (1.26.6) this project's Go toolchain accepts. */
export const DAPR_VERSION = 'v1.18.3';

/** cmd/daprd/components/<file>.go registrations kept in our sidecar build. */
const KEPT_COMPONENTS = [
  'secretstores_local_file.go', // local stack
  'secretstores_local_env.go',
  'secretstores_kubernetes.go', // chart
  'nameresolution_mdns.go', // standalone default
  'nameresolution_kubernetes.go',
];

export interface DaprBinaries {
  version: string;
  daprd: string;
  scheduler: string;
}

function binaries(dir: string): DaprBinaries {
  return { version: DAPR_VERSION, daprd: path.join(dir, 'daprd'), scheduler: path.join(dir, 'scheduler') };
}

/** Paths of daprd and scheduler, building them on first use (many minutes on 2 cores). */
export async function ensureDapr(): Promise<DaprBinaries> {
  const dir = cacheDir('dapr', DAPR_VERSION);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return binaries(dir);
  const go = which('go');
  if (!go) throw new InfraError('building daprd needs Go 1.26.6+ (https://go.dev/dl/); install it and run again');
  return withLock(
    `dapr-${DAPR_VERSION}`,
    async () => {
      if (fs.existsSync(done)) return binaries(dir);
      const t0 = Date.now();
      const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false' };
      const logFile = path.join(dir, 'build.log');
      log('dapr', `building daprd and scheduler ${DAPR_VERSION} from the Go module proxy (first run only; ~15-25 min on 2 cores). Log: ${logFile}`);

      log('dapr', `go mod download github.com/dapr/dapr@${DAPR_VERSION}`);
      const downloaded = await run(go, ['mod', 'download', '-json', `github.com/dapr/dapr@${DAPR_VERSION}`], {
        env,
        cwd: dir,
        component: 'dapr',
        what: 'go mod download',
      });
      // run() merges stderr into the output: keep the JSON object only
      const info = JSON.parse(downloaded.slice(downloaded.indexOf('{'), downloaded.lastIndexOf('}') + 1)) as { Dir?: string; Error?: string };
      if (!info.Dir) throw new InfraError(`go mod download gave no module dir: ${info.Error ?? 'unknown error'}`);

      const src = path.join(dir, 'src');
      rmrf(src);
      // the module cache is read-only: build in a writable copy
      await run('cp', ['-R', info.Dir, src]);
      await run('chmod', ['-R', 'u+w', src]);
      const componentsDir = path.join(src, 'cmd', 'daprd', 'components');
      for (const f of fs.readdirSync(componentsDir)) {
        if (f.endsWith('.go') && !KEPT_COMPONENTS.includes(f)) fs.rmSync(path.join(componentsDir, f));
      }

      const out = path.join(dir, 'bin.partial');
      rmrf(out);
      fs.mkdirSync(out);
      const ldflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION.slice(1)}`;
      log('dapr', 'go build ./cmd/daprd ./cmd/scheduler (downloads dependencies, then compiles; progress every 10s)');
      await run(go, ['build', '-trimpath', '-tags', 'stablecomponents', '-ldflags', ldflags, '-o', out + '/', './cmd/daprd', './cmd/scheduler'], {
        env,
        cwd: src,
        logFile,
        component: 'dapr',
        what: 'go build daprd+scheduler',
      });
      for (const b of ['daprd', 'scheduler']) fs.renameSync(path.join(out, b), path.join(dir, b));
      rmrf(out);
      rmrf(src);
      fs.writeFileSync(done, `${new Date().toISOString()} built in ${elapsed(t0)}\n`);
      log('dapr', `built in ${elapsed(t0)}: ${dir}/{daprd,scheduler}`);
      return binaries(dir);
    },
    60 * 60_000,
  );
}

if (isMain(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  if (cmd !== 'install') {
    process.stderr.write('usage: npx tsx scripts/infra/dapr.ts install   # build daprd + scheduler into the cache\n');
    process.exit(2);
  }
  ensureDapr().then(
    (b) => process.stdout.write(`DAPRD=${b.daprd}\nDAPR_SCHEDULER=${b.scheduler}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
