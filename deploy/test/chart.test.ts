import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "vitest";
import { TOPICS, deadLetterTopic } from "@taskmesh/events";
import { DEPLOYABLES, chartDir, find, helmTemplate, kubeconform, parseManifests, render, root, tempFile, tool, type Manifest, type Profile } from "./tools.js";

const PROFILES: Profile[] = ["local", "cloud"];
const rendered = Object.fromEntries(PROFILES.map((p) => [p, render(p)])) as Record<Profile, Manifest[]>;

test("helm lint --strict passes with the local and the cloud values", () => {
  for (const profile of PROFILES) {
    const out = execFileSync(tool("TASKMESH_TEST_HELM"), ["lint", "--strict", chartDir, "-f", path.join(chartDir, `values-${profile}.yaml`)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test("the rendered chart and k8s/ validate against the Kubernetes, Strimzi, Dapr and Prometheus Operator schemas", () => {
  const k8sFiles = [
    "k8s/kafka/kafka.yaml",
    "k8s/monitoring/servicemonitors.yaml",
    "k8s/monitoring/prometheus-rules.yaml",
    "k8s/monitoring/otel-collector.yaml",
    "k8s/monitoring/jaeger.yaml",
    ...fs
      .readdirSync(path.join(root, "k8s/dapr"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => `k8s/dapr/${f}`),
  ];
  const files = [...PROFILES.map((p) => tempFile(`${p}.yaml`, helmTemplate(p))), ...k8sFiles.map((f) => path.join(root, f))];
  const result = kubeconform(files);
  const problems = result.resources.filter((r) => r.status !== "statusValid");
  assert.deepEqual(problems, [], "every resource is valid (a missing schema is an error, not a skip)");
  const kinds = new Set(result.resources.map((r) => r.kind));
  for (const kind of [
    "Deployment",
    "Service",
    "Ingress",
    "Job",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "KafkaTopic",
    "Kafka",
    "KafkaNodePool",
    "Component",
    "Configuration",
    "Resiliency",
    "ServiceMonitor",
    "PodMonitor",
  ]) {
    assert.ok(kinds.has(kind), `${kind} was validated`);
  }
});

test("kubeconform rejects a misspelt field and a wrong type", () => {
  const bad = tempFile(
    "bad.yaml",
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: typo }
spec:
  replica: 2
  selector: { matchLabels: { app: typo } }
  template:
    metadata: { labels: { app: typo } }
    spec: { containers: [{ name: typo, image: typo }] }
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: { name: wrong, labels: { strimzi.io/cluster: taskmesh } }
spec: { partitions: six }
`,
  );
  const result = kubeconform([bad]);
  assert.deepEqual(result.resources.map((r) => [r.kind, r.status]).sort(), [
    ["Deployment", "statusInvalid"],
    ["KafkaTopic", "statusInvalid"],
  ]);
});

function container(d: Manifest) {
  return d.spec.template.spec.containers[0];
}

function env(d: Manifest, name: string): string | undefined {
  return container(d).env.find((e: { name: string; value?: string }) => e.name === name)?.value;
}

for (const profile of PROFILES) {
  describe(`${profile} profile`, () => {
    const manifests = rendered[profile];

    test("every deployable rolls with zero downtime: surge only, probes on gRPC health and /readyz, preStop, grace period longer than the drain", () => {
      for (const name of DEPLOYABLES) {
        const d = find(manifests, "Deployment", name);
        const c = container(d);
        const port = c.ports[0].containerPort;
        assert.equal(d.spec.strategy.type, "RollingUpdate", name);
        assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0, name);
        assert.ok(d.spec.strategy.rollingUpdate.maxSurge >= 1, name);
        assert.deepEqual(c.startupProbe.grpc, { port }, `${name} startup probe on grpc.health.v1`);
        assert.deepEqual(c.livenessProbe.grpc, { port }, `${name} liveness probe on grpc.health.v1`);
        assert.equal(c.readinessProbe.httpGet.path, "/readyz", name);
        // one slow answer on a busy node must not take a one-replica Service out of the endpoints
        assert.ok(c.readinessProbe.timeoutSeconds >= 3 && c.readinessProbe.failureThreshold >= 3, `${name}: readiness tolerates a slow answer`);
        const preStop = c.lifecycle.preStop.sleep.seconds as number;
        const drain = Number(env(d, "DRAIN_DELAY_MS")) / 1000;
        assert.ok(preStop > 0 && drain > 0, `${name}: preStop ${preStop}s, drain delay ${drain}s`);
        // CoreDNS (kubeadm's Corefile: ttl 30) lets callers' sidecars keep a gone pod's address that long
        assert.ok(preStop > 30, `${name}: preStop ${preStop}s outlasts the 30 s DNS records of the <app>-dapr Service`);
        assert.ok(d.spec.template.spec.terminationGracePeriodSeconds > preStop + drain + 10, `${name}: grace period leaves time for in-flight calls`);
        assert.equal(env(d, "PORT"), String(port), name);
      }
      assert.equal(find(manifests, "Deployment", "schema-registry").spec.strategy.rollingUpdate.maxUnavailable, 0);
    });

    test("every deployable runs non-root on a read-only root filesystem with no capabilities, and has its Dapr sidecar", () => {
      for (const name of DEPLOYABLES) {
        const d = find(manifests, "Deployment", name);
        const pod = d.spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true, name);
        assert.ok(pod.securityContext.runAsUser > 0, name);
        assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", name);
        assert.deepEqual(container(d).securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ["ALL"] } }, name);
        assert.ok(
          pod.volumes.some((v: { name: string; emptyDir?: object }) => v.name === "tmp" && v.emptyDir),
          `${name} writes only to its /tmp emptyDir`,
        );
        const a = d.spec.template.metadata.annotations;
        assert.equal(a["dapr.io/enabled"], "true", name);
        assert.equal(a["dapr.io/app-id"], name);
        assert.equal(a["dapr.io/app-port"], String(container(d).ports[0].containerPort), name);
        assert.equal(a["dapr.io/app-protocol"], "grpc", name);
        assert.equal(a["dapr.io/config"], find(manifests, "Configuration", "taskmesh").metadata.name, name);
        assert.ok(Number(a["dapr.io/graceful-shutdown-seconds"]) < d.spec.template.spec.terminationGracePeriodSeconds, `${name}: the sidecar stops within the grace period`);
        assert.equal(find(manifests, "Service", name).spec.ports[0].port, container(d).ports[0].containerPort, name);
      }
    });

    test("a draining service's sidecar stops taking calls (app health check); the gateway's keeps carrying its calls out", () => {
      for (const name of DEPLOYABLES) {
        const a = find(manifests, "Deployment", name).spec.template.metadata.annotations;
        assert.equal(a["dapr.io/enable-app-health-check"], name === "gateway" ? undefined : "true", name);
        if (name !== "gateway") assert.equal(a["dapr.io/app-health-threshold"], "1", name);
      }
    });

    test("the gateway's Ingress passes WebSockets (/live) with long timeouts", () => {
      const ingress = find(manifests, "Ingress", "gateway");
      assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, "gateway");
      assert.ok(Number(ingress.metadata.annotations?.["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600);
      assert.equal(ingress.metadata.annotations?.["nginx.ingress.kubernetes.io/proxy-http-version"], "1.1");
    });

    test(profile === "cloud" ? "a KafkaTopic for every event topic and its dead-letter topic" : "one KRaft Kafka node of the chart's own, its topics made by the kafka-topics Job", () => {
      const topics = manifests.filter((m) => m.kind === "KafkaTopic").map((m) => m.spec.topicName as string);
      if (profile === "cloud") {
        assert.deepEqual(topics.sort(), TOPICS.flatMap((t) => [t.topic, deadLetterTopic(t.topic)]).sort());
        for (const m of manifests.filter((x) => x.kind === "KafkaTopic")) assert.ok(m.metadata.labels?.["strimzi.io/cluster"], m.metadata.name);
        return;
      }
      assert.deepEqual(topics, [], "no Strimzi resources without its operator");
      const kafka = find(manifests, "StatefulSet", "kafka");
      assert.equal(kafka.spec.replicas, 1);
      const job = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("kafka-topics-"));
      assert.ok(job, "kafka-topics Job");
      const c = job.spec.template.spec.containers[0];
      assert.match(c.image, /\/prepare:/);
      assert.deepEqual(c.args, ["deploy/dist/topics.js"]);
      assert.ok(c.env.some((e: { name: string; valueFrom?: { secretKeyRef?: { key: string } } }) => e.name === "KAFKA_BROKERS" && e.valueFrom?.secretKeyRef?.key === "KAFKA_BROKERS"));
    });

    test("migrations and schema registration run as a hook before an upgrade's pods", () => {
      const job = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("prepare-"));
      assert.ok(job, "prepare Job");
      assert.match(job.metadata.annotations?.["helm.sh/hook"] ?? "", /pre-upgrade/);
      const c = job.spec.template.spec.containers[0];
      assert.match(c.image, /\/prepare:/);
      assert.ok(c.env.some((e: { name: string }) => e.name === "DATABASE_URL"));
      assert.ok(c.env.some((e: { name: string }) => e.name === "SCHEMA_REGISTRY_URL"));
    });

    test("Dapr resources are the ones in k8s/dapr, shared with the local stack", () => {
      const dir = path.join(root, "k8s/dapr");
      const shared = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .flatMap((f) => parseManifests(fs.readFileSync(path.join(dir, f), "utf8")));
      const inChart = manifests.filter((m) => m.apiVersion.startsWith("dapr.io/"));
      const byName = (a: Manifest, b: Manifest) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
      assert.deepEqual(inChart.sort(byName), shared.sort(byName));
    });
  });
}

test("cloud: autoscaling, disruption budgets and spreading across zones for every deployable; external data stores", () => {
  const m = rendered.cloud;
  for (const name of DEPLOYABLES) {
    const d = find(m, "Deployment", name);
    assert.equal(d.spec.replicas, undefined, `${name}: the HPA owns the replica count`);
    const hpa = find(m, "HorizontalPodAutoscaler", name);
    assert.ok(hpa.spec.minReplicas >= 2, name);
    const pdb = find(m, "PodDisruptionBudget", name);
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < hpa.spec.minReplicas, `${name}: a budget that still lets nodes drain`);
    const keys = d.spec.template.spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey);
    assert.deepEqual(keys, ["topology.kubernetes.io/zone", "kubernetes.io/hostname"], name);
  }
  assert.ok(!m.some((x) => x.kind === "StatefulSet" || x.kind === "Secret"), "no in-cluster database, no Secret in the release");
});

test("local: one replica each, PostgreSQL in the cluster, images from Minikube's own Docker", () => {
  const m = rendered.local;
  for (const name of DEPLOYABLES) {
    const d = find(m, "Deployment", name);
    assert.equal(d.spec.replicas, 1, name);
    assert.equal(container(d).imagePullPolicy, "Never", name);
  }
  assert.equal(find(m, "StatefulSet", "postgres").spec.replicas, 1);
  assert.equal(m.filter((x) => x.kind === "HorizontalPodAutoscaler" || x.kind === "PodDisruptionBudget").length, 0);
});

test("the chart refuses a grace period that does not cover the drain", () => {
  assert.throws(() => helmTemplate("local", ["--set", "global.drain.terminationGracePeriodSeconds=10"]), /terminationGracePeriodSeconds must exceed/);
});
