import type { DescFile } from "@bufbuild/protobuf";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { isWellKnownImport, readProtoSource } from "./proto-sources.js";
import { TOPICS, valueSubject, type TopicContract } from "./topics.js";

export type Compatibility = "BACKWARD" | "BACKWARD_TRANSITIVE" | "FULL" | "FULL_TRANSITIVE";

export interface SchemaReference {
  /** The import path as written in the importing file. */
  name: string;
  subject: string;
  version: number;
}

export interface SchemaDefinition {
  schema: string;
  references: SchemaReference[];
}

export interface RegisteredSchema {
  id: number;
  version: number;
}

/** The registry operations the mesh needs; Confluent-compatible HTTP or the embedded table. */
export interface SchemaRegistryClient {
  setCompatibility(subject: string, level: Compatibility): Promise<void>;
  /** Registers (or finds, when identical) a PROTOBUF schema under a subject; rejects when refused. */
  register(subject: string, definition: SchemaDefinition): Promise<RegisteredSchema>;
}

/** The registry refused a schema (incompatible, invalid, unreachable): nothing may be produced with it. */
export class SchemaRefusedError extends Error {
  override name = "SchemaRefusedError";
  constructor(
    readonly subject: string,
    readonly file: string,
    readonly status: number | undefined,
    reason: string,
  ) {
    super(`schema registry refused ${file} under subject "${subject}"${status ? ` (HTTP ${status})` : ""}: ${reason}`);
  }
}

/** Topic → the registry id of its value schema: what a producer frames values with. */
export type SchemaIds = ReadonlyMap<string, number>;

// The calls we make through @kafkajs/confluent-schema-registry's HTTP client (mappersmith, with its
// retries and error mapping). Its high-level register() is not used: it parses schemas with
// protobufjs, which cannot parse buf/validate/validate.proto, and it only sets compatibility on a
// subject's first registration by probing GET /config/{subject}, which Apicurio answers with the
// global level instead of 404.
interface RegistryHttp {
  Subject: {
    updateConfig(args: { subject: string; body: { compatibility: string } }): Promise<{ data(): unknown }>;
    register(args: { subject: string; body: unknown }): Promise<{ data(): { id: number } }>;
    registered(args: { subject: string; body: unknown }): Promise<{ data(): { id: number; version: number } }>;
  };
}

/** A Confluent Schema Registry API (Confluent, or Apicurio's `/apis/ccompat/v7`). */
export function confluentSchemaRegistry(url: string): SchemaRegistryClient {
  // biome-ignore lint/complexity/useLiteralKeys: api is private in SchemaRegistry's typings, and only an element access may reach it
  const http = new SchemaRegistry({ host: url, clientId: "taskmesh-events" })["api"] as unknown as RegistryHttp;
  return {
    async setCompatibility(subject, level) {
      await http.Subject.updateConfig({ subject, body: { compatibility: level } });
    },
    async register(subject, { schema, references }) {
      const body = { schemaType: "PROTOBUF", schema, references };
      await http.Subject.register({ subject, body });
      // The register response carries only the id; references need the version too.
      return (await http.Subject.registered({ subject, body })).data();
    },
  };
}

export interface RegisterSchemasOptions {
  registry: SchemaRegistryClient;
  /** Directories the import paths resolve against; default: the texts compiled in (schema-sources.ts). */
  protoRoots?: readonly string[];
  topics?: readonly TopicContract[];
  compatibility?: Compatibility;
}

/**
 * Registers each topic's value schema under `<topic>-value`, its imports first under subjects
 * named by their import path (well-known google/protobuf types skipped, as Confluent's serializers
 * do), each subject pinned to `compatibility`. Start-up calls this and fails on SchemaRefusedError,
 * so a producer never frames values with a schema the registry did not accept.
 */
export async function registerSchemas(options: RegisterSchemasOptions): Promise<SchemaIds> {
  const { registry, protoRoots, topics = TOPICS, compatibility = "BACKWARD" } = options;
  const registeredFiles = new Map<string, Promise<RegisteredSchema>>();

  const registerUnder = async (subject: string, file: DescFile): Promise<RegisteredSchema> => {
    const references: SchemaReference[] = [];
    for (const dep of file.dependencies) {
      const importPath = `${dep.name}.proto`;
      if (isWellKnownImport(importPath)) continue;
      let registered = registeredFiles.get(importPath);
      if (!registered) {
        registered = registerUnder(importPath, dep);
        registeredFiles.set(importPath, registered);
      }
      references.push({ name: importPath, subject: importPath, version: (await registered).version });
    }
    const fileName = `${file.name}.proto`;
    const schema = readProtoSource(fileName, protoRoots);
    try {
      await registry.setCompatibility(subject, compatibility);
      return await registry.register(subject, { schema, references });
    } catch (err) {
      const e = err as { status?: number; message?: string };
      throw new SchemaRefusedError(subject, fileName, e.status, e.message ?? String(err));
    }
  };

  const ids = new Map<string, number>();
  for (const { topic, message } of topics) {
    ids.set(topic, (await registerUnder(valueSubject(topic), message.file)).id);
  }
  return ids;
}
