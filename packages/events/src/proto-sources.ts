import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

/** Where the repo's .proto files live: our contracts and the vendored protovalidate (see buf.yaml). */
export const DEFAULT_PROTO_ROOTS: readonly string[] = [path.join(repoRoot, "proto"), path.join(repoRoot, "third_party/protovalidate")];

/** The text of an import path such as `taskmesh/tasks/v1/task.proto`, from the first root that has it. */
export function readProtoSource(importPath: string, roots: readonly string[] = DEFAULT_PROTO_ROOTS): string {
  for (const root of roots) {
    const file = path.join(root, importPath);
    if (existsSync(file)) return readFileSync(file, "utf8");
  }
  throw new Error(`${importPath} is in none of the proto roots: ${roots.join(", ")}`);
}

/** Well-known types every Protobuf runtime and registry ships; Confluent's serializers never register them. */
export function isWellKnownImport(importPath: string): boolean {
  return importPath.startsWith("google/protobuf/") || importPath.startsWith("google/type/") || importPath.startsWith("confluent/");
}
