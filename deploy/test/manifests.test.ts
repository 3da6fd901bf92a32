import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "vitest";
import YAML from "yaml";
import { DEPLOYABLES, find, helmTemplate, parseManifests, render, root, tool, type Manifest } from "./tools.js";

const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

/** Every metric name that appears as a string literal in the services' and packages' sources. */
function definedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const dir of ["packages", "services", "apps", "gateway"]) {
    for (const file of fs.readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts") || file.includes("node_modules") || !file.split(path.sep).includes("src")) continue;
      for (const m of fs.readFileSync(path.join(root, dir, file), "utf8").matchAll(/"((?:taskmesh|rpc)_[a-z_]+)"/g)) names.add(m[1]!);
    }
  }
  return names;
}

/** Panels waiting for their metric: name → what is to register it. */
const PENDING_METRICS: Record<string, string> = {
  taskmesh_live_connections: "gateway: a gauge of the open /live sockets per replica (LiveSync.connections)",
};

test("every metric the Grafana dashboard queries is one the services export", () => {
  const dashboard = JSON.parse(read("k8s/monitoring/grafana-dashboard.json")) as { panels: { title: string; targets: { expr: string }[] }[] };
  const defined = definedMetrics();
  const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b((?:taskmesh|rpc)_[a-z_]+?)(?:_bucket|_count|_sum)?\{/g)].map((m) => m[1]!))));
  assert.ok(queried.size >= 6, "the dashboard queries the services' metrics");
  assert.deepEqual(
    [...queried].filter((m) => !defined.has(m) && !PENDING_METRICS[m]),
    [],
    "queried but never registered",
  );
  const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(" | ");
  for (const topic of ["latency", "errors", "consumer lag", "outbox backlog", "reminder lateness", "live connections"]) assert.ok(titles.includes(topic), topic);
});

test("the Kafka cluster runs in KRaft mode with a controller and a broker node pool", () => {
  const m = parseManifests(read("k8s/kafka/kafka.yaml"));
  const kafka = find(m, "Kafka", "taskmesh");
  assert.equal(kafka.spec.zookeeper, undefined);
  const pools = m.filter((x) => x.kind === "KafkaNodePool");
  assert.deepEqual(pools.flatMap((p) => p.spec.roles).sort(), ["broker", "controller"]);
  for (const p of pools) assert.equal(p.metadata.labels?.["strimzi.io/cluster"], "taskmesh");
  assert.ok(kafka.spec.entityOperator.topicOperator, "the Topic Operator reconciles the chart's KafkaTopics");
  assert.equal(render("cloud").find((x) => x.kind === "KafkaTopic")?.metadata.labels?.["strimzi.io/cluster"], kafka.metadata.name);
});

test("the ServiceMonitors scrape every deployable's Service on its metrics port, the gateway's apart from its public one", () => {
  const monitors = parseManifests(read("k8s/monitoring/servicemonitors.yaml")).filter((m) => m.kind === "ServiceMonitor");
  const selects = (monitor: (typeof monitors)[number], labels: Record<string, string>) =>
    Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v) &&
    ((monitor.spec.selector.matchExpressions ?? []) as { key: string; values: string[] }[]).every((e) => e.values.includes(labels[e.key]!));
  for (const manifests of [render("local"), render("cloud")]) {
    for (const name of DEPLOYABLES) {
      const service = find(manifests, "Service", name);
      const scraping = monitors.filter((m) => selects(m, service.metadata.labels ?? {}));
      assert.equal(scraping.length, 1, `${name} is scraped by one ServiceMonitor`);
      const port = scraping[0]!.spec.endpoints[0].port as string;
      assert.ok(
        service.spec.ports.some((p: { name: string }) => p.name === port),
        name,
      );
      const deployment = find(manifests, "Deployment", name);
      assert.ok(
        deployment.spec.template.spec.containers[0].ports.some((p: { name: string }) => p.name === port),
        name,
      );
      if (name === "gateway") {
        assert.equal(port, "metrics", "the gateway's /metrics is not on the port the Ingress sends the Internet to");
        const env = deployment.spec.template.spec.containers[0].env as { name: string; value?: string }[];
        assert.equal(env.find((e) => e.name === "METRICS_PORT")?.value, String(service.spec.ports.find((p: { name: string }) => p.name === "metrics").port));
      }
    }
  }
});

test("traces: the collector receives what the services and sidecars send and exports it to Jaeger", () => {
  const m = parseManifests(read("k8s/monitoring/otel-collector.yaml"));
  const config = YAML.parse(find(m, "ConfigMap", "otel-collector").data["config.yaml"]) as {
    receivers: Record<string, unknown>;
    processors: Record<string, unknown>;
    exporters: Record<string, { endpoint: string }>;
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  };
  const traces = config.service.pipelines.traces!;
  for (const r of traces.receivers) assert.ok(config.receivers[r], r);
  for (const p of traces.processors) assert.ok(config.processors[p], p);
  for (const e of traces.exporters) assert.ok(config.exporters[e], e);
  const jaeger = find(parseManifests(read("k8s/monitoring/jaeger.yaml")), "Service", "jaeger-collector");
  assert.ok(
    traces.exporters.some((e) => config.exporters[e]!.endpoint.startsWith(`${jaeger.metadata.name}.${jaeger.metadata.namespace}.`)),
    "exports to the Jaeger collector Service",
  );
  // the chart's services (OTLP/HTTP) and the sidecars (k8s/dapr, OTLP/gRPC) point at this collector
  const service = find(m, "Service", "otel-collector");
  const host = `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
  const dapr = find(parseManifests(read("k8s/dapr/configuration.yaml")), "Configuration", "taskmesh");
  assert.equal(dapr.spec.tracing.otel.endpointAddress, `${host}:4317`);
  // the services' tracing is off unless the release names the collector
  type Env = { name: string; value?: string }[];
  const tracingEnv = (manifests: Manifest[]) =>
    Object.fromEntries((find(manifests, "Deployment", "tasks").spec.template.spec.containers[0].env as Env).filter((e) => e.name.startsWith("OTEL_")).map((e) => [e.name, e.value]));
  for (const profile of ["local", "cloud"] as const) assert.deepEqual(tracingEnv(render(profile)), { OTEL_SERVICE_NAME: "tasks" }, profile);
  const on = parseManifests(helmTemplate("local", ["--set", `global.tracing.otlpEndpoint=http://${host}:4318`]));
  assert.deepEqual(tracingEnv(on), {
    OTEL_SERVICE_NAME: "tasks",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${host}:4318`,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.01",
  });
});

test("actionlint passes on every workflow, and they run what the README and the chart say", () => {
  const dir = path.join(root, ".github/workflows");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml"));
  assert.deepEqual(files.sort(), ["build.yml", "deploy-cloud.yml", "deploy-local.yml", "test.yml"]);
  execFileSync(tool("TASKMESH_TEST_ACTIONLINT"), ["-no-color", ...files.map((f) => path.join(dir, f))], { cwd: root, encoding: "utf8" });
  const wf = (f: string) => read(`.github/workflows/${f}`);
  assert.match(wf("test.yml"), /run: npm test/);
  assert.match(wf("test.yml"), /buf breaking --against/);
  const build = YAML.parse(wf("build.yml"));
  assert.deepEqual([...build.jobs.image.strategy.matrix.deployable].sort(), [...DEPLOYABLES, "prepare"].sort());
  const push = build.jobs.image.steps.find((s: { uses?: string }) => s.uses?.startsWith("docker/build-push-action"));
  assert.equal(push.with.sbom, true);
  assert.match(String(push.with.provenance), /mode=max|true/);
  for (const f of ["deploy-local.yml", "deploy-cloud.yml"]) {
    assert.match(wf(f), /helm upgrade --install taskmesh helm\/taskmesh[\s\S]*--atomic --wait/, f);
    assert.match(wf(f), /deploy\/src\/smoke\.ts/, f);
  }
  assert.match(wf("deploy-cloud.yml"), /id-token: write/);
  assert.match(wf("deploy-cloud.yml"), /helm rollback taskmesh/);
});
