// Developer tools written in Go (grpcurl, helm, kubeconform, actionlint, ghz, hey, vegeta, prometheus, promtool, toxiproxy,
// connectconformance), built from the Go module proxy with `go install module@version` into the cache, once per version
// and machine.
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, elapsed, InfraError, log, run, which, withLock } from './cache.js';

export const GO_TOOLS = {
  grpcurl: { module: 'github.com/fullstorydev/grpcurl/cmd/grpcurl', version: 'v1.9.3' },
  helm: { module: 'helm.sh/helm/v3/cmd/helm', version: 'v3.19.0' },
  kubeconform: { module: 'github.com/yannh/kubeconform/cmd/kubeconform', version: 'v0.7.0' },
  actionlint: { module: 'github.com/rhysd/actionlint/cmd/actionlint', version: 'v1.7.7' },
  // gRPC load generator for the benchmarks: a client that costs the shared cores far less than Node's
  ghz: { module: 'github.com/bojand/ghz/cmd/ghz', version: 'v0.93.0' },
  // HTTP load generator: Connect JSON through the gateway, as the browser and curl send it
  hey: { module: 'github.com/rakyll/hey', version: 'v0.1.4' },
  // HTTP load generator taking one request per line (a body of its own each: updates, completes)
  vegeta: { module: 'github.com/tsenart/vegeta/v12', version: 'v12.12.0' },
  // Prometheus 3 (the module's v0.x tags): scrapes a running stack in the tests; promtool unit-tests the rules. Both
  // without the cloud service discoveries (`remove_all_sd`): the tests give static targets, and those SDKs are 80 of the
  // 135 MB of Go source the two would compile on a first run.
  prometheus: { module: 'github.com/prometheus/prometheus/cmd/prometheus', version: 'v0.316.0', tags: 'remove_all_sd' },
  promtool: { module: 'github.com/prometheus/prometheus/cmd/promtool', version: 'v0.316.0', tags: 'remove_all_sd' },
  // TCP proxy with faults on demand (latency, timeouts, links down) between the services and what they use: the chaos suite
  toxiproxy: { module: 'github.com/Shopify/toxiproxy/v2/cmd/server', version: 'v2.12.0', binary: 'server' },
  // Connect's conformance suite runner: drives kit's one-port server over Connect, gRPC and gRPC-Web
  connectconformance: { module: 'connectrpc.com/conformance/cmd/connectconformance', version: 'v1.0.7' },
  // protoc plugins for the Go client (clients/buf.gen.go.yaml): messages, and Connect clients and handlers
  'protoc-gen-go': { module: 'google.golang.org/protobuf/cmd/protoc-gen-go', version: 'v1.36.12' },
  'protoc-gen-connect-go': { module: 'connectrpc.com/connect/cmd/protoc-gen-connect-go', version: 'v1.21.1' },
} as const;

export type GoTool = keyof typeof GO_TOOLS;

/** Absolute path of the tool's binary, built on first use. */
export async function ensureGoTool(name: GoTool): Promise<string> {
  const tool = GO_TOOLS[name];
  const { module, version } = tool;
  const tags = 'tags' in tool ? tool.tags : undefined;
  const dir = cacheDir('go-tools', tags ? `${name}-${version}-${tags}` : `${name}-${version}`);
  // go install names the binary after the package's folder
  const bin = path.join(dir, 'binary' in tool ? tool.binary : name);
  if (fs.existsSync(bin)) return bin;
  const go = which('go');
  if (!go) throw new InfraError(`building ${name} needs Go (https://go.dev/dl/); install it and run again`);
  return withLock(`go-${name}-${version}`, async () => {
    if (fs.existsSync(bin)) return bin;
    const t0 = Date.now();
    log(name, `building ${module}@${version} with ${go} (first run only)…`);
    await run(go, ['install', ...(tags ? ['-tags', tags] : []), `${module}@${version}`], {
      env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
      component: name,
      what: `go install ${name}`,
    });
    log(name, `built in ${elapsed(t0)}: ${bin}`);
    return bin;
  });
}
