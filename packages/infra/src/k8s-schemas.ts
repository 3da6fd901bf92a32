/**
 * JSON schemas for kubeconform, made once per version set from registry packages, so the chart and
 * k8s/ manifests are validated with no network at test time:
 *
 *  - Kubernetes API: api/openapi-spec/swagger.json of the Go module k8s.io/kubernetes
 *  - Strimzi (Kafka, KafkaNodePool, KafkaTopic): generated from io.strimzi:api with Strimzi's own CRD
 *    generator (Maven Central)
 *  - Dapr (Component, Configuration, Resiliency, …): charts/dapr/crds of the Go module github.com/dapr/dapr
 *  - Prometheus Operator (ServiceMonitor, PodMonitor, …): example/prometheus-operator-crd of its Go module
 *
 * Each object kind becomes `<dir>/<kind>-<group>-<version>.json` (kind lower case; the core API's
 * group is its version, as kubeconform names it), standalone ($refs inlined) and strict (unknown fields rejected unless the schema
 * preserves them), matching LOCATION below.
 *
 *   tsx packages/infra/src/k8s-schemas.ts     # prints the directory
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cacheDir, elapsed, InfraError, isMain, java, log, rmrf, run, which, withLock } from './cache.js';
import { DAPR_VERSION } from './dapr.js';

export const KUBERNETES_VERSION = '1.33.5';
const STRIMZI = { api: '0.51.0', crdGenerator: '0.45.0' };
const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';

/** kubeconform -schema-location template for the directory ensureKubernetesSchemas() returns. */
export function schemaLocation(dir: string): string {
  return `${dir}/{{.ResourceKind}}-{{.Group}}-{{.ResourceAPIVersion}}.json`;
}

const C = 'k8s-schemas';
const STRIMZI_POM = fileURLToPath(new URL('./strimzi/pom.xml', import.meta.url));
const STRIMZI_KINDS = {
  'io.strimzi.api.kafka.model.kafka.Kafka': 'kafka',
  'io.strimzi.api.kafka.model.nodepool.KafkaNodePool': 'kafkanodepool',
  'io.strimzi.api.kafka.model.topic.KafkaTopic': 'kafkatopic',
};

type Schema = { [key: string]: unknown };

export async function ensureKubernetesSchemas(): Promise<string> {
  const id = `k8s-${KUBERNETES_VERSION}_strimzi-${STRIMZI.api}_dapr-${DAPR_VERSION}_prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}`;
  const dir = cacheDir('k8s-schemas', id);
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return dir;
  return withLock(`k8s-schemas-${id}`, async () => {
    if (fs.existsSync(marker)) return dir;
    const t0 = Date.now();
    const go = which('go');
    if (!go) throw new InfraError('making Kubernetes schemas needs Go (https://go.dev/dl/) to fetch modules; install it and run again');
    const work = path.join(dir, `.work-${process.pid}`);
    rmrf(work);
    fs.mkdirSync(work, { recursive: true });
    try {
      log(
        C,
        `fetching k8s.io/kubernetes@v${KUBERNETES_VERSION}, Dapr ${DAPR_VERSION}, Prometheus Operator ${PROMETHEUS_OPERATOR_VERSION} (Go module proxy) and Strimzi ${STRIMZI.api} (Maven Central)…`,
      );
      const [kube, dapr, promOp, strimzi] = await Promise.all([
        goModuleDir(go, 'k8s.io/kubernetes', `v${KUBERNETES_VERSION}`),
        goModuleDir(go, 'github.com/dapr/dapr', DAPR_VERSION),
        goModuleDir(go, 'github.com/prometheus-operator/prometheus-operator', PROMETHEUS_OPERATOR_VERSION),
        strimziCrds(work),
      ]);
      let count = writeApiSchemas(JSON.parse(fs.readFileSync(path.join(kube, 'api/openapi-spec/swagger.json'), 'utf8')), dir);
      const crdFiles = [...strimzi, ...yamlFiles(path.join(dapr, 'charts/dapr/crds')), ...yamlFiles(path.join(promOp, 'example/prometheus-operator-crd'))];
      for (const file of crdFiles) count += writeCrdSchemas(fs.readFileSync(file, 'utf8'), dir);
      fs.writeFileSync(marker, `${count} schemas\n`);
      log(C, `${count} schemas written to ${dir} in ${elapsed(t0)}`);
      return dir;
    } finally {
      rmrf(work);
    }
  });
}

async function goModuleDir(go: string, module: string, version: string): Promise<string> {
  const out = await run(go, ['mod', 'download', '-json', `${module}@${version}`], { component: C, what: `go mod download ${module}` });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new InfraError(`go mod download ${module}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f));
}

/** Strimzi publishes its CRDs only inside release archives: generate them from io.strimzi:api. */
async function strimziCrds(work: string): Promise<string[]> {
  const mvn = which('mvn');
  if (!mvn) throw new InfraError('mvn not found (needed once to resolve Strimzi from Maven Central). Next: apt-get install -y maven');
  const javaBin = java(17, "Strimzi's CRD generator");
  const cpFile = path.join(work, 'classpath.txt');
  await run(
    mvn,
    [
      '-q',
      '-B',
      '-f',
      STRIMZI_POM,
      `-Dstrimzi.version=${STRIMZI.api}`,
      `-Dcrd-generator.version=${STRIMZI.crdGenerator}`,
      `-Dmaven.repo.local=${cacheDir('m2')}`,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${cpFile}`,
    ],
    { component: C, what: 'mvn dependency:build-classpath (Strimzi)' },
  );
  const outputs = Object.entries(STRIMZI_KINDS).map(([cls, name]) => [cls, path.join(work, `strimzi-${name}.yaml`)] as const);
  await run(
    javaBin,
    [
      '-cp',
      fs.readFileSync(cpFile, 'utf8').trim(),
      'io.strimzi.crdgenerator.CrdGenerator',
      '--yaml',
      '--crd-api-version',
      'v1',
      '--api-versions',
      'v1beta2',
      '--storage-version',
      'v1beta2',
      ...outputs.map(([cls, file]) => `${cls}=${file}`),
    ],
    { component: C, what: 'Strimzi CRD generator' },
  );
  return outputs.map(([, file]) => file);
}

function writeSchema(dir: string, kind: string, group: string, version: string, schema: unknown): void {
  // kubeconform's {{.Group}} of the core API ("apiVersion: v1") is the version itself
  fs.writeFileSync(path.join(dir, `${kind.toLowerCase()}-${group || version}-${version}.json`), JSON.stringify(schema));
}

/** One file per definition of the Kubernetes OpenAPI (v2) that names a group/version/kind. */
function writeApiSchemas(swagger: { definitions: Record<string, Schema> }, dir: string): number {
  const defs = swagger.definitions;
  let count = 0;
  for (const [name, def] of Object.entries(defs)) {
    const gvks = def['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    if (!gvks) continue;
    const schema = strict(inline(def, defs, [name]));
    for (const { group, version, kind } of gvks) {
      writeSchema(dir, kind, group, version, schema);
      count++;
    }
  }
  return count;
}

/** $refs replaced by their definitions; a definition met again inside itself (JSONSchemaProps) is left open. */
function inline(node: unknown, defs: Record<string, Schema>, stack: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, defs, stack));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Schema;
  const ref = obj.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/definitions/', '');
    if (stack.includes(name)) return {};
    const target = defs[name];
    if (!target) throw new InfraError(`unresolved $ref ${ref}`);
    return inline(target, defs, [...stack, name]);
  }
  // Kubernetes accepts numbers where its OpenAPI says string for these two formats
  if (obj.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if (stack.at(-1) === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  const out: Schema = {};
  for (const [k, v] of Object.entries(obj)) out[k] = k === 'x-kubernetes-group-version-kind' ? v : inline(v, defs, stack);
  return out;
}

/** Objects with declared properties reject others, unless the schema preserves unknown fields. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const obj = node as Schema;
  if (obj['x-kubernetes-int-or-string'] === true) return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out: Schema = {};
  for (const [k, v] of Object.entries(obj)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, strict(s)])) : strict(v);
  if (obj.properties && obj.additionalProperties === undefined && obj['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  if (obj.nullable === true && typeof obj.type === 'string') out.type = [obj.type, 'null'];
  return out;
}

/** One file per served version of each CustomResourceDefinition in a (multi-document) YAML file. */
function writeCrdSchemas(text: string, dir: string): number {
  let count = 0;
  for (const doc of YAML.parseAllDocuments(text)) {
    const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }[] } } | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    for (const version of crd.spec.versions) {
      if (!version.served || !version.schema) continue;
      writeSchema(dir, crd.spec.names.kind, crd.spec.group, version.name, strict(version.schema.openAPIV3Schema));
      count++;
    }
  }
  return count;
}

if (isMain(import.meta.url)) {
  console.log(await ensureKubernetesSchemas());
}
