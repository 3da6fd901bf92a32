// `npm test`: every check and suite, with the real infrastructure they need started here and
// stopped after. Steps print as they go; the tests' `N passed, N failed, …` line closes the output.
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureChromium } from "@taskmesh/infra/chromium";
import { ensureDapr } from "@taskmesh/infra/dapr";
import { ensureGoTool } from "@taskmesh/infra/go-tools";
import { ensureJaegerInstalled } from "@taskmesh/infra/jaeger";
import { imagesForTests, testInfraImages } from "@taskmesh/infra/images";
import { ensureKubernetesSchemas } from "@taskmesh/infra/k8s-schemas";
import { startStack } from "@taskmesh/infra/stack";
import { startContainerInfra } from "@taskmesh/infra/test-containers";

const root = path.resolve(import.meta.dirname, "..");
const started = Date.now();

// `closing`: the step's own last line closes its output (the tests' summary), no ✔ line after it.
function step(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, closing = false): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`\n▶ ${name}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) {
        if (!closing) process.stderr.write(`✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
        resolve();
      } else reject(new Error(`${name} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

function capture(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => resolve({ code: code ?? 1, out }));
  });
}

const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
const only = process.argv.slice(2);

let stopInfra = async () => {};
try {
  await step("lint and format check (Biome)", bin("biome"), ["ci", "--error-on-warnings", "."]);
  await step("typecheck", bin("tsc"), ["-p", "tsconfig.json"]);
  await step("typecheck (web app)", bin("tsc"), ["-p", "web"]);
  await step("buf lint", bin("buf"), ["lint"]);
  const hasMain = (await capture("git", ["rev-parse", "--verify", "--quiet", "main"])).code === 0;
  if (hasMain) await step("buf breaking (against main)", bin("buf"), ["breaking", "--against", ".git#branch=main"]);
  else process.stderr.write("\n(no main branch yet: buf breaking skipped)\n");
  const generateSchemaSources = `"${process.execPath}" --import tsx scripts/generate-schema-sources.ts`;
  await step("generated code is current", "sh", [
    "-c",
    `${bin("buf")} generate && ${generateSchemaSources} && git diff --exit-code --stat -- packages/proto/src/gen packages/events/src/schema-sources.ts`,
  ]);

  process.stderr.write("\n▶ starting PostgreSQL, Kafka and Apicurio Registry, building grpcurl and connectconformance (installed on first run)\n");
  const grpcurl = ensureGoTool("grpcurl");
  // Connect's conformance runner, driving kit's one-port server (packages/kit/test/conformance.test.ts)
  const connectconformance = ensureGoTool("connectconformance");
  // chart, manifest and workflow checks (deploy/test): offline once installed
  const deployTools = Promise.all([ensureGoTool("helm"), ensureGoTool("kubeconform"), ensureGoTool("actionlint"), ensureKubernetesSchemas()]);
  const dapr = ensureDapr(); // first run: daprd + scheduler built from the Go module proxy (many minutes)
  // traces, metrics and rules: Jaeger, Prometheus and promtool built from their Go modules (first run: many minutes);
  // promtool after Prometheus, so that it finds most of its packages compiled in Go's build cache
  const prometheusTools = ensureGoTool("prometheus").then(async (prometheus) => [prometheus, await ensureGoTool("promtool")] as const);
  const observability = Promise.all([ensureJaegerInstalled(), prometheusTools]);
  const chromium = ensureChromium();
  // protoc plugins of the Go client (clients/test)
  const goClientPlugins = Promise.all([ensureGoTool("protoc-gen-go"), ensureGoTool("protoc-gen-connect-go")]);
  // base images from the registries, every Dockerfile target on them, the infrastructure images
  // (cached by tag; app targets rebuilt through podman's layer cache); TASKMESH_TEST_IMAGES=0 skips
  const images = imagesForTests();
  // PostgreSQL, Kafka and the registry in containers from those images; as plain processes when
  // images are skipped or podman cannot run here
  const infraImages = await testInfraImages();
  const infra = infraImages ? await startContainerInfra(infraImages) : await startStack();
  stopInfra = () => ("stop" in infra ? infra.stop() : infra.stopAll());

  // Both projects of vitest.config.ts (its timeouts, files at once and order), or only the files named;
  // a line per test, then the summary line (scripts/test-summary.ts).
  const reporters = ["--reporter=verbose", "--reporter=./scripts/test-summary.ts"];
  await step(
    only.length > 0 ? `tests (${only.join(" ")})` : "tests (vitest: unit and integration)",
    process.execPath,
    [bin("vitest"), "run", ...reporters, ...only],
    {
      TASKMESH_TEST_POSTGRES_URL: infra.env.DATABASE_URL,
      TASKMESH_TEST_KAFKA_BROKERS: infra.env.KAFKA_BROKERS,
      TASKMESH_TEST_SCHEMA_REGISTRY_URL: infra.env.SCHEMA_REGISTRY_URL,
      TASKMESH_TEST_GRPCURL: await grpcurl,
      TASKMESH_TEST_CONNECTCONFORMANCE: await connectconformance,
      ...(await deployTools.then(([helm, kubeconform, actionlint, schemas]) => ({
        TASKMESH_TEST_HELM: helm,
        TASKMESH_TEST_KUBECONFORM: kubeconform,
        TASKMESH_TEST_ACTIONLINT: actionlint,
        TASKMESH_TEST_K8S_SCHEMAS: schemas,
      }))),
      TASKMESH_TEST_DAPRD: (await dapr).daprd,
      TASKMESH_TEST_DAPR_SCHEDULER: (await dapr).scheduler,
      TASKMESH_TEST_CHROMIUM: await chromium,
      ...(await observability.then(([, [prometheus, promtool]]) => ({ TASKMESH_TEST_PROMETHEUS: prometheus, TASKMESH_TEST_PROMTOOL: promtool }))),
      ...(await goClientPlugins.then(([go, connectGo]) => ({ TASKMESH_TEST_PROTOC_GEN_GO: go, TASKMESH_TEST_PROTOC_GEN_CONNECT_GO: connectGo }))),
      ...(await images),
    },
    true,
  );
  process.stderr.write(`\nall checks passed in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
} catch (err) {
  process.stderr.write(`\n✖ ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await stopInfra();
}
