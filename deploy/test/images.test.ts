import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "vitest";
import { DockerfileParser, JSONInstruction, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import YAML from "yaml";
import { DEPLOYABLES, chartDir, root } from "./tools.js";

const text = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
const dockerfile = DockerfileParser.parse(text);

/** Instructions of each stage, by stage name. */
const stages = new Map<string, { base: string; instructions: Instruction[] }>();
{
  let current: Instruction[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      current = [];
      stages.set(from.getBuildStage() ?? `#${stages.size}`, { base: from.getImage() ?? "", instructions: current });
    } else current.push(instruction);
  }
}

/** A stage's instructions including those of the stages it is built FROM. */
function lineage(stage: string): Instruction[] {
  const s = stages.get(stage);
  if (!s) return [];
  return [...lineage(s.base), ...s.instructions];
}

function json(instruction: Instruction | undefined): string[] | undefined {
  return instruction instanceof JSONInstruction ? instruction.getJSONStrings().map((a) => a.getJSONValue()) : undefined;
}

function last(stage: string, keyword: string): Instruction | undefined {
  return lineage(stage)
    .filter((i) => i.getKeyword() === keyword)
    .at(-1);
}

/** ARG defaults of the global scope (before the first FROM), as used in FROM lines. */
const args = new Map(
  text
    .split("\n")
    .filter((l) => l.startsWith("ARG "))
    .map((l) => l.slice(4).split("=") as [string, string]),
);

test("the Dockerfile passes dockerfile-utils' linter", () => {
  assert.deepEqual(
    validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    [],
  );
});

test("the images' dependencies get the patches npm ci applies outside them, by the same patch-package", () => {
  const rootPackage = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(rootPackage.scripts.postinstall, "patch-package");
  const deps =
    stages
      .get("deps")
      ?.instructions.map((i) => i.getTextContent())
      .join("\n") ?? "";
  assert.ok(deps.includes(`--package=patch-package@${rootPackage.devDependencies["patch-package"]} -- patch-package --error-on-fail`), deps);
  assert.ok(fs.readdirSync(path.join(root, "patches")).length > 0);
});

test("a target per deployable (and the chart's prepare hook) with the name the chart uses for its image", () => {
  const values = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;
  for (const name of [...DEPLOYABLES, "prepare"]) {
    assert.ok(stages.has(name), `Dockerfile target ${name}`);
    assert.ok(values[name], `values.${name}`);
  }
});

test("runtime images: distroless, non-root, node as PID 1 in exec form, the deployable's compiled entry, no HEALTHCHECK", () => {
  const runtimeImage = args.get("RUNTIME_IMAGE") ?? "";
  assert.match(runtimeImage, /^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
  for (const name of [...DEPLOYABLES, "prepare"]) {
    const user = last(name, "USER")?.getArgumentsContent() ?? "";
    assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, `${name}: numeric non-root USER, so runAsNonRoot can verify it`);
    const entrypoint = json(last(name, "ENTRYPOINT"));
    assert.ok(entrypoint, `${name}: ENTRYPOINT in exec (JSON) form: no shell between the runtime and node`);
    assert.match(entrypoint[0]!, /\/node$/, name);
    assert.ok(entrypoint.includes("--conditions=taskmesh-dist"), `${name}: packages resolve to their compiled dist/`);
    assert.ok(!entrypoint.some((a) => a.includes("tsx")), `${name}: no tsx at run time`);
    const cmd = json(last(name, "CMD"));
    assert.ok(cmd?.length === 1, `${name}: CMD in exec form`);
    const source = cmd[0]!.replace(/\/dist\/(.*)\.js$/, "/src/$1.ts");
    assert.notEqual(source, cmd[0], `${name}: entry ${cmd[0]} is compiled JavaScript in a dist/`);
    assert.ok(fs.existsSync(path.join(root, source)), `${name}: entry ${cmd[0]} is compiled from ${source}, which exists`);
    const folder = cmd[0]!.split("/dist/")[0]!;
    const fromBuild = lineage(name)
      .filter((i) => i.getKeyword() === "COPY")
      .map((i) => i.getTextContent().replace(/^COPY\s+/, ""))
      .filter((a) => a.startsWith("--from=build "));
    assert.ok(
      fromBuild.some((a) => a.includes(`/out/${folder}/`)),
      `${name}: ${folder}'s dist/ from the build stage`,
    );
    assert.ok(!lineage(name).some((i) => i.getKeyword() === "HEALTHCHECK"), `${name}: Kubernetes probes, no HEALTHCHECK`);
    assert.ok(!lineage(name).some((i) => i.getKeyword() === "RUN"), `${name}: nothing runs in the runtime image (it has no shell)`);
  }
  for (const name of DEPLOYABLES) {
    const port = last(name, "EXPOSE")?.getArgumentsContent();
    const values = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Record<string, { port: number }>;
    assert.equal(Number(port), values[name]!.port, `${name}: the port the chart probes`);
  }
});

test("production dependencies only in the runtime; the web app is built in its own stage and only its dist is copied", () => {
  const deps = stages
    .get("deps")!
    .instructions.filter((i) => i.getKeyword() === "RUN")
    .map((i) => i.getArgumentsContent() ?? "");
  assert.ok(
    deps.some((r) => /npm ci\b/.test(r) && r.includes("--omit=dev")),
    "deps: npm ci --omit=dev",
  );
  const runtimeCopies = lineage("gateway")
    .filter((i) => i.getKeyword() === "COPY")
    .map((i) => i.getTextContent().replace(/^COPY\s+/, ""));
  assert.ok(
    runtimeCopies.some((c) => c.startsWith("--from=deps ")),
    "node_modules from the production install",
  );
  assert.ok(!runtimeCopies.some((c) => c.startsWith("--from=web ") && !c.includes("web/dist")), "from the web stage, only web/dist");
  assert.ok(
    runtimeCopies.some((c) => c.startsWith("--from=web ") && c.includes("web/dist")),
    "the gateway serves the built web app",
  );
});

test(".dockerignore keeps dependencies, local data, tests and the git history out of the build context", () => {
  const ignored = fs.readFileSync(path.join(root, ".dockerignore"), "utf8").split("\n");
  for (const pattern of ["**/node_modules", "**/.data", "**/test", ".git"]) assert.ok(ignored.includes(pattern), pattern);
});
