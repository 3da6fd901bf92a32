import type { DescFile } from "@bufbuild/protobuf";
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

const REGISTRY_JSON = "application/vnd.schemaregistry.v1+json";

/** A registry's answer other than 2xx, with its HTTP status (409 for an incompatible schema). */
class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`${detail} (status ${status})`);
  }
}

/**
 * A Confluent Schema Registry API (Confluent, or Apicurio's `/apis/ccompat/v7`), spoken over fetch:
 * the three calls the mesh makes. Confluent's client libraries for JavaScript parse schemas with
 * protobufjs, which cannot parse buf/validate/validate.proto, and set compatibility only on a
 * subject's first registration by probing GET /config/{subject}, which Apicurio answers with the
 * global level instead of 404.
 */
export function confluentSchemaRegistry(url: string): SchemaRegistryClient {
  const base = url.replace(/\/+$/, "");
  const call = async <T>(method: string, path: string, body: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": REGISTRY_JSON, accept: `${REGISTRY_JSON}, application/json` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      // fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND…) in its cause,
      // which is what a caller waiting for a registry that is still starting looks for.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = (err as Error).name === "TimeoutError" ? "ETIMEDOUT" : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new Error(`schema registry at ${base} unreachable: ${reason}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text || response.statusText;
      try {
        detail = (JSON.parse(text) as { message?: string }).message ?? detail;
      } catch {
        // not JSON (a proxy's error page): its text is the detail
      }
      throw new RegistryHttpError(response.status, detail);
    }
    return JSON.parse(text) as T;
  };
  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;
  return {
    async setCompatibility(subject, level) {
      const put = () => call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: level });
      try {
        await put();
      } catch (err) {
        // Of two first settings of a subject made at once (services starting together), Apicurio
        // refuses the second: "A rule named 'COMPATIBILITY' already exists". Set again, it updates.
        if (!(err instanceof RegistryHttpError && err.status === 409)) throw err;
        await put();
      }
    },
    async register(subject, { schema, references }) {
      const body = { schemaType: "PROTOBUF", schema, references };
      await call("POST", `${subjectPath(subject)}/versions`, body);
      // The register response carries only the id; references need the version too.
      const { id, version } = await call<RegisteredSchema>("POST", subjectPath(subject), body);
      return { id, version };
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
