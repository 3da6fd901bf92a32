// The infrastructure the tests start (packages/infra), by name: free ports, the test mesh of daprd
// sidecars, Kafka, Toxiproxy, Jaeger and Prometheus, the Python virtualenv, podman, the Go tools
// and Kubernetes schemas, and the cache helpers the tests' own installs use.
export { cacheDir, freePort, freePorts, InfraError, log, run, which, withLock } from "@taskmesh/infra/cache";
export { startTestMesh } from "@taskmesh/infra/dapr";
export type { DaprMesh, Sidecar } from "@taskmesh/infra/dapr";
export { GO_TOOLS } from "@taskmesh/infra/go-tools";
export { buildAppImages } from "@taskmesh/infra/images";
export { startJaeger } from "@taskmesh/infra/jaeger";
export type { JaegerHandle } from "@taskmesh/infra/jaeger";
export { KUBERNETES_VERSION, schemaLocation } from "@taskmesh/infra/k8s-schemas";
export { kafkaProbe, startKafka } from "@taskmesh/infra/kafka";
export { podmanEnv, podmanProblem, podmanSync, removeContainers, runPrefix, sweepStaleContainers } from "@taskmesh/infra/podman";
export { startPrometheus } from "@taskmesh/infra/prometheus";
export type { PrometheusTarget } from "@taskmesh/infra/prometheus";
export { ensurePythonVenv, pythonInterpreter } from "@taskmesh/infra/python";
export { startToxiproxy } from "@taskmesh/infra/toxiproxy";
export type { ToxiproxyHandle } from "@taskmesh/infra/toxiproxy";
