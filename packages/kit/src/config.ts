// Every deployable's settings come from environment variables, validated at start-up against one
// schema per deployable, built from the pieces below (and from pieces of its own). A bad or missing
// value stops the start with every problem at once, so an operator fixes a release in one round;
// the README's settings table is generated from the same schemas (scripts/generate-settings-table.ts).
import { z } from "zod";

export type Env = Readonly<Record<string, string | undefined>>;

/** This process's environment: config modules read it, everything below them gets settings. */
export function processEnv(): Env {
  return process.env;
}

/** How one kind of value is read from a variable's text. */
export interface Kind<T> {
  /** What a valid value looks like: in the problem list and the README's table. */
  expected: string;
  /** The value, or undefined when `raw` is not one. */
  parse(raw: string): T | undefined;
  /** A credential: never repeated in a problem. */
  secret?: boolean;
}

export interface VariableDoc {
  name: string;
  description: string;
  expected: string;
  required: boolean;
  /** As shown in the table; undefined when unset means off or derived (the description says). */
  default: string | undefined;
}

type Doc = Omit<VariableDoc, "name">;
const docs = z.registry<Doc>();

/** A variable's schema: its text (or nothing) in, its value out. */
export type Variable<T> = z.ZodType<T, string | undefined>;

function variable<T>(kind: Kind<T>, doc: Doc, fallback: T): Variable<T> {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      // The chart and shells write an unset value as an empty one.
      if (raw === undefined || raw.trim() === "") {
        if (doc.required) ctx.addIssue({ code: "custom", message: `not set; expected ${kind.expected}` });
        return fallback;
      }
      const value = kind.parse(raw.trim());
      if (value === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${kind.expected}, got ${kind.secret ? "another value (a credential: not repeated here)" : JSON.stringify(raw)}` });
        return fallback;
      }
      return value;
    });
  schema.register(docs, doc);
  return schema;
}

export function optional<T>(kind: Kind<T>, description: string): Variable<T | undefined> {
  return variable<T | undefined>(kind, { description, expected: kind.expected, required: false, default: undefined }, undefined);
}

export function withDefault<T>(kind: Kind<T>, value: T, description: string, shown = String(value)): Variable<T> {
  return variable(kind, { description, expected: kind.expected, required: false, default: shown }, value);
}

export function required<T>(kind: Kind<T>, description: string): Variable<T> {
  // The fallback is never returned: a missing value is a problem.
  return variable(kind, { description, expected: kind.expected, required: true, default: undefined }, undefined as T);
}

export const text: Kind<string> = { expected: "text", parse: (raw) => raw };

export function wholeNumber(min: number, max: number, unit = ""): Kind<number> {
  return {
    expected: `a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`,
    parse: (raw) => {
      const n = Number(raw);
      return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
    },
  };
}

/** A number up to `max`, fractions allowed (a soak test keeps 0.01 days); `min` itself only when `inclusive`. */
export function decimal(min: number, max: number, unit: string, inclusive = false): Kind<number> {
  return {
    expected: `${unit} ${inclusive ? "from" : "above"} ${min} up to ${max} (fractions allowed)`,
    parse: (raw) => {
      const n = Number(raw);
      return Number.isFinite(n) && (inclusive ? n >= min : n > min) && n <= max ? n : undefined;
    },
  };
}

/** `kind`, its values converted (days to milliseconds). */
export function scaled(kind: Kind<number>, factor: number): Kind<number> {
  return {
    ...kind,
    parse: (raw) => {
      const n = kind.parse(raw);
      return n === undefined ? undefined : n * factor;
    },
  };
}

export const port = { ...wholeNumber(0, 65535), expected: "a TCP port number (0 to 65535)" } satisfies Kind<number>;

export const flag: Kind<boolean> = {
  expected: "true or false (or 1/0, yes/no)",
  parse: (raw) => ({ true: true, "1": true, yes: true, false: false, "0": false, no: false })[raw.toLowerCase()],
};

export const list: Kind<string[]> = {
  expected: "a comma-separated list",
  parse: (raw) =>
    raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
};

export function oneOf<const T extends string>(values: readonly T[]): Kind<T> {
  const quoted = values.map((v) => `\`${v}\``);
  return { expected: quoted.length === 2 ? quoted.join(" or ") : `one of ${quoted.join(", ")}`, parse: (raw) => values.find((v) => v === raw.toLowerCase()) };
}

export function url(schemes: readonly string[], example: string, secret = false): Kind<string> {
  return {
    expected: `a URL (${schemes.join(" or ")}), e.g. ${example}`,
    secret,
    parse: (raw) => {
      try {
        return schemes.includes(new URL(raw).protocol.slice(0, -1)) ? raw : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export const httpUrl = url(["http", "https"], "http://host:port");

/** A shared secret as key bytes: too short a key would make tokens guessable. */
export function secretKey(minBytes: number): Kind<Uint8Array> {
  return {
    expected: `a random string of at least ${minBytes} bytes (e.g. \`openssl rand -base64 48\`)`,
    secret: true,
    parse: (raw) => {
      const bytes = Buffer.from(raw, "utf8");
      return bytes.length >= minBytes ? bytes : undefined;
    },
  };
}

/** Rules across a piece's variables report here, naming the variable to change. */
export type Report = (variable: string, message: string) => void;

/** Some variables and the settings built from them. */
export interface Piece<S extends z.ZodRawShape, T> {
  shape: S;
  build(values: z.output<z.ZodObject<S>>, report: Report): T;
}

export function piece<S extends z.ZodRawShape, T>(shape: S, build: (values: z.output<z.ZodObject<S>>, report: Report) => T): Piece<S, T> {
  return { shape, build };
}

/** A piece whose settings are its values as they are. */
export function values<S extends z.ZodRawShape>(shape: S): Piece<S, z.output<z.ZodObject<S>>> {
  return piece(shape, (v) => v);
}

export type AnyPiece = Piece<z.ZodRawShape, unknown>;
export type Built<P extends Record<string, AnyPiece>> = { [K in keyof P]: P[K] extends Piece<z.ZodRawShape, infer T> ? T : never };

export type Checked<C> = { config: C; problems?: undefined } | { config?: undefined; problems: string[] };

/** The configuration could not be read: each problem names its variable and what it expects. */
export class ConfigError extends Error {
  constructor(
    readonly deployable: string,
    readonly problems: string[],
  ) {
    super(`${deployable}: not started, ${problems.length === 1 ? "1 setting is" : `${problems.length} settings are`} wrong:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface ConfigSchema<P extends Record<string, AnyPiece>> {
  /** The deployable, as the README's table heads it. */
  readonly name: string;
  readonly pieces: P;
  /** The settings, or every problem found. */
  check(env: Env): Checked<Built<P>>;
  /** The settings, or a ConfigError listing every problem. */
  parse(env: Env): Built<P>;
  /** Every variable read, in the pieces' order, for the README's table. */
  variables(): VariableDoc[];
}

export type ConfigOf<S> = S extends ConfigSchema<infer P> ? Built<P> : never;

/**
 * A deployable's schema: its pieces, each read on its own (every problem is listed, not the first),
 * and `rules` across pieces, given the pieces that are valid.
 */
export function defineConfig<P extends Record<string, AnyPiece>>(name: string, pieces: P, rules?: (config: Partial<Built<P>>, report: Report) => void): ConfigSchema<P> {
  const objects = Object.entries(pieces).map(([key, p]) => [key, p, z.object(p.shape)] as const);
  const check = (env: Env): Checked<Built<P>> => {
    const problems: string[] = [];
    const config: Record<string, unknown> = {};
    for (const [key, p, object] of objects) {
      const parsed = object.safeParse(env);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
        continue;
      }
      config[key] = p.build(parsed.data, (variable, message) => problems.push(`${variable}: ${message}`));
    }
    rules?.(config as Partial<Built<P>>, (variable, message) => problems.push(`${variable}: ${message}`));
    // The same variable in two pieces (SMTP_URL for accounts and reminders) is one problem.
    return problems.length > 0 ? { problems: [...new Set(problems)] } : { config: config as Built<P> };
  };
  return {
    name,
    pieces,
    check,
    parse(env) {
      const checked = check(env);
      if (checked.problems) throw new ConfigError(name, checked.problems);
      return checked.config;
    },
    variables() {
      const seen = new Map<string, VariableDoc>();
      for (const [, p] of objects) {
        for (const [variableName, schema] of Object.entries(p.shape as z.ZodRawShape)) {
          const doc = docs.get(schema);
          if (!doc) throw new Error(`${name}: ${variableName} has no description (declare it with optional, withDefault or required)`);
          if (!seen.has(variableName)) seen.set(variableName, { name: variableName, ...doc });
        }
      }
      return [...seen.values()];
    },
  };
}

// The pieces every deployable is built from.

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SAMPLERS = ["parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio", "always_on", "always_off", "traceidratio"] as const;

export interface TelemetrySettings {
  logLevel: LogLevel;
  /** Where spans go (OTLP over HTTP); undefined: tracing is off. */
  tracesEndpoint: string | undefined;
  sampler: { name: (typeof SAMPLERS)[number]; ratio: number };
}

/** Logs and traces, with the OpenTelemetry SDK's standard variables. */
export const telemetrySettings = piece(
  {
    LOG_LEVEL: withDefault(oneOf(LOG_LEVELS), "info", "JSON logs on stdout at this level and above"),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl, "where spans are sent (OTLP over HTTP); unset with no OTEL_EXPORTER_OTLP_ENDPOINT: tracing is off"),
    OTEL_EXPORTER_OTLP_ENDPOINT: optional(httpUrl, "the collector's base address; spans go to its /v1/traces"),
    OTEL_SDK_DISABLED: withDefault(flag, false, "`true` turns tracing off whatever the endpoint"),
    OTEL_TRACES_EXPORTER: optional(oneOf(["otlp", "none"]), "`none` turns tracing off"),
    OTEL_TRACES_SAMPLER: withDefault(oneOf(SAMPLERS), "parentbased_always_on", "which traces are kept (OpenTelemetry's sampler names)"),
    OTEL_TRACES_SAMPLER_ARG: withDefault(decimal(0, 1, "a ratio", true), 1, "the ratio of the `traceidratio` samplers"),
    OTEL_SERVICE_NAME: optional(text, "the service name on spans (default: the deployable's name)"),
  },
  (v): TelemetrySettings => {
    const off = v.OTEL_SDK_DISABLED || v.OTEL_TRACES_EXPORTER === "none";
    const base = v.OTEL_EXPORTER_OTLP_ENDPOINT && `${v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`;
    return {
      logLevel: v.LOG_LEVEL,
      tracesEndpoint: off ? undefined : (v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? base),
      sampler: { name: v.OTEL_TRACES_SAMPLER, ratio: v.OTEL_TRACES_SAMPLER_ARG },
    };
  },
);

export const daprHttpPort = optional(port, "the Dapr sidecar's HTTP port (the sidecar injector sets it)");

export interface SecretsSettings {
  source: "dapr" | "env";
  daprHttpUrl: string;
  store: string;
  name: string;
}

/** Where credentials come from: the environment, or the Dapr secrets API beside a sidecar (resolveSecrets). */
export const secretsSettings = piece(
  {
    TASKMESH_SECRETS: optional(oneOf(["dapr", "env"]), "where credentials come from (default: `dapr` when DAPR_HTTP_PORT is set, else `env`)"),
    DAPR_HTTP_PORT: daprHttpPort,
    TASKMESH_SECRET_STORE: withDefault(text, "taskmesh-secrets", "the Dapr secret store credentials are read from"),
    TASKMESH_SECRET_NAME: withDefault(text, "taskmesh", "the secret in that store; each of its keys becomes a variable"),
  },
  (v): SecretsSettings => ({
    source: v.TASKMESH_SECRETS ?? (v.DAPR_HTTP_PORT === undefined ? "env" : "dapr"),
    daprHttpUrl: `http://127.0.0.1:${v.DAPR_HTTP_PORT ?? 3500}`,
    store: v.TASKMESH_SECRET_STORE,
    name: v.TASKMESH_SECRET_NAME,
  }),
);

export interface ServerSettings {
  port: number;
  drainDelayMs: number;
}

export function serverSettings(defaults: { port: number }) {
  return piece(
    {
      PORT: withDefault(port, defaults.port, "the port gRPC, Connect, HTTP and the health checks are served on"),
      DRAIN_DELAY_MS: withDefault(wholeNumber(0, 600_000, "milliseconds"), 0, "how long to keep serving after SIGTERM while load balancers notice (Kubernetes preStop)"),
    },
    (v): ServerSettings => ({ port: v.PORT, drainDelayMs: v.DRAIN_DELAY_MS }),
  );
}

/** What every service of the mesh reads: its logs and traces, where its credentials come from, and where it serves. */
export function meshServiceSettings(defaults: { port: number }) {
  return { telemetry: telemetrySettings, secrets: secretsSettings, server: serverSettings(defaults) };
}

const postgresUrl = url(["postgres", "postgresql"], "postgres://user@host:5432/db", true);

const databaseDescription =
  "PostgreSQL: each service keeps its data in its own schema there. URL parameters bound its connections (a link that dies without a word fails what waits on it): statement_timeout (ms, default 30000), query_timeout (ms, 60000), idle_in_transaction_session_timeout (ms, 600000), connect_timeout (s, 10), keepalives_idle (s, 10), listen_ping (ms, 30000); prepare_threshold (default 5) is the run from which a statement is prepared in each session, 0 for never (a pooler in transaction mode without prepared statements)";

/** DATABASE_URL: a cluster service's database. */
export const databaseSettings = piece({ DATABASE_URL: required(postgresUrl, databaseDescription) }, (v) => ({ url: v.DATABASE_URL }));

/** DATABASE_URL where a deployable can do without one: `without` says what it does then. */
export function optionalDatabaseSettings(without: string) {
  return piece({ DATABASE_URL: optional(postgresUrl, `${databaseDescription}; unset: ${without}`) }, (v) => ({ url: v.DATABASE_URL }));
}

/** One SMTP server for every e-mail: account e-mails (gateway) and e-mail reminders (reminders). */
export const smtpUrl = optional(
  url(["smtp", "smtps"], "smtp://user:pass@host:587", true),
  "the SMTP server for e-mail: account e-mails (sign-ups are then verified) and e-mail reminders; unset: no e-mail",
);

export interface BusSettings {
  brokers: string[];
  registryUrl: string;
}

/**
 * Kafka and its schema registry: both, or neither. Without them a deployable starts with events
 * off and says once what it does not do (runService); one without the other is a mistake.
 */
export const busSettings = piece(
  {
    KAFKA_BROKERS: optional(list, "Kafka's bootstrap servers (host:port, comma separated); with SCHEMA_REGISTRY_URL, or events are off"),
    SCHEMA_REGISTRY_URL: optional(httpUrl, "a Confluent-compatible schema registry (e.g. Apicurio's /apis/ccompat/v7); with KAFKA_BROKERS"),
  },
  (v, report): BusSettings | undefined => {
    const brokers = v.KAFKA_BROKERS ?? [];
    if (brokers.length > 0 && v.SCHEMA_REGISTRY_URL) return { brokers, registryUrl: v.SCHEMA_REGISTRY_URL };
    if (brokers.length > 0) report("SCHEMA_REGISTRY_URL", "not set while KAFKA_BROKERS is: set both or neither");
    if (v.SCHEMA_REGISTRY_URL) report("KAFKA_BROKERS", "not set while SCHEMA_REGISTRY_URL is: set both or neither");
    return undefined;
  },
);

/** How a cluster service reaches another one: through its Dapr sidecar, or directly at a URL. */
export type ClusterTransport = { mode: "direct"; urls: Record<string, string> } | { mode: "dapr"; daprGrpcPort: number; daprHost?: string };

/** TASKS_URL for "tasks". */
export function urlVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_URL`;
}

/** The transport to `targets` (app ids): TASKMESH_TRANSPORT, DAPR_GRPC_PORT, and a <TARGET>_URL each. */
export function transportSettings(targets: readonly string[]) {
  const urls = Object.fromEntries(targets.map((t) => [urlVariable(t), optional(httpUrl, `the ${t} service's address with TASKMESH_TRANSPORT=direct (e.g. http://${t}:8080)`)]));
  return piece(
    {
      TASKMESH_TRANSPORT: optional(oneOf(["dapr", "direct"]), "how other services are called: `dapr` (default when DAPR_GRPC_PORT is set) or `direct` (at their <SERVICE>_URL)"),
      DAPR_GRPC_PORT: optional(port, "the Dapr sidecar's gRPC port (the sidecar injector sets it; default 50001)"),
      ...urls,
    },
    (v): ClusterTransport => {
      const mode = v.TASKMESH_TRANSPORT ?? (v.DAPR_GRPC_PORT === undefined ? "direct" : "dapr");
      if (mode === "dapr") return { mode, daprGrpcPort: v.DAPR_GRPC_PORT ?? 50001 };
      const byTarget = targets.flatMap((t) => {
        const address = (v as Record<string, string | undefined>)[urlVariable(t)];
        return address ? [[t, address] as const] : [];
      });
      return { mode, urls: Object.fromEntries(byTarget) };
    },
  );
}

/** Whether `transport` can call `target` (a direct one needs its URL). */
export function reaches(transport: ClusterTransport, target: string): boolean {
  return transport.mode === "dapr" || Boolean(transport.urls[target]);
}

const DAY_MS = 86_400_000;

/** A retention in days (fractions allowed), as milliseconds. */
export function retentionDays(days: number, description: string): Variable<number> {
  return withDefault(scaled(decimal(0, 36_500, "a number of days"), DAY_MS), days * DAY_MS, description, `${days} days`);
}

/** TASKMESH_PRUNE_INTERVAL_SECONDS: how often rows past retention are deleted. */
export const pruneSettings = piece(
  { TASKMESH_PRUNE_INTERVAL_SECONDS: optional(scaled(decimal(1, 86_400, "a number of seconds", true), 1000), "time between prunings of rows past their retention (default 1 hour)") },
  (v) => ({ pruneIntervalMs: v.TASKMESH_PRUNE_INTERVAL_SECONDS }),
);
