import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { SCHEMA_SOURCES } from "./schema-sources.js";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

/**
 * Where the repo's .proto files live: our contracts and the vendored protovalidate (see buf.yaml).
 * Read by scripts/generate-schema-sources.ts and handed to other tools by tests; not at run time.
 */
export const DEFAULT_PROTO_ROOTS: readonly string[] = [path.join(repoRoot, "proto"), path.join(repoRoot, "third_party/protovalidate")];

/**
 * The text of an import path such as `taskmesh/tasks/v1/task.proto`: from the first of `roots` that
 * has it, or without roots from the copy compiled into schema-sources.ts (generated from the repo's
 * proto roots, so a running service reads no .proto files).
 */
export function readProtoSource(importPath: string, roots?: readonly string[]): string {
  if (!roots) {
    const text = SCHEMA_SOURCES[importPath];
    if (text === undefined) throw new Error(`${importPath} is not in schema-sources.ts: run \`npm run generate\``);
    return text;
  }
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
