// What the deploy tests share: the tools `npm test` installs (scripts/test.ts passes their paths)
// and the chart rendered per profile.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { KUBERNETES_VERSION, schemaLocation } from "@taskmesh/testing/infra";

export const root = path.resolve(import.meta.dirname, "../..");
export const chartDir = path.join(root, "helm/taskmesh");

/**
 * Runs a script of bench/ (which exits 1 when a check fails) to its end: its exit code, all it
 * printed, and `report`, that without the infrastructure's progress lines (those `keep` matches stay).
 */
export async function runBench(script: string, args: string[] = [], keep?: RegExp): Promise<{ code: number | null; output: string; report: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bench", script), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const report = output
    .split("\n")
    .filter((line) => !line.startsWith("[infra") || keep?.test(line))
    .join("\n");
  return { code, output, report };
}

/** Every deployable: folder, image (Dockerfile target), Helm values key, Dapr app-id. */
export const DEPLOYABLES = ["tasks", "recurrence", "reminders", "audit", "gateway"] as const;

export function tool(
  variable: "TASKMESH_TEST_HELM" | "TASKMESH_TEST_KUBECONFORM" | "TASKMESH_TEST_ACTIONLINT" | "TASKMESH_TEST_K8S_SCHEMAS" | "TASKMESH_TEST_PROMTOOL" | "TASKMESH_TEST_PROMETHEUS",
): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set: run these tests through \`npm test\` (it installs helm, kubeconform, actionlint, promtool, Prometheus and the schemas)`);
  return value;
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: spec stays untyped, the tests check manifests field by field, as a reviewer would
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as spec, a ConfigMap's or Secret's data is checked key by key
  data?: any;
};

export function parseManifests(text: string): Manifest[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

export type Profile = "local" | "cloud";

export function helmTemplate(profile: Profile, extra: string[] = []): string {
  return execFileSync(
    tool("TASKMESH_TEST_HELM"),
    ["template", "taskmesh", chartDir, "--namespace", "taskmesh", "--kube-version", KUBERNETES_VERSION, "-f", path.join(chartDir, `values-${profile}.yaml`), ...extra],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

export function render(profile: Profile): Manifest[] {
  return parseManifests(helmTemplate(profile));
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`);
  return found;
}

export interface KubeconformResult {
  summary: { valid: number; invalid: number; errors: number; skipped: number };
  resources: { filename: string; kind: string; name: string; status: string; msg: string }[];
}

/** kubeconform -strict over files, with the schemas made at setup (no network). */
export function kubeconform(files: string[]): KubeconformResult {
  const args = ["-strict", "-summary", "-verbose", "-output", "json", "-schema-location", schemaLocation(tool("TASKMESH_TEST_K8S_SCHEMAS")), ...files];
  let out: string;
  try {
    out = execFileSync(tool("TASKMESH_TEST_KUBECONFORM"), args, { encoding: "utf8" });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? "";
    if (!out) throw err;
  }
  return JSON.parse(out) as KubeconformResult;
}

export function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskmesh-deploy-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
