/**
 * Credentials (DATABASE_URL, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, TASKMESH_JWT_SECRET, …) for a
 * service process. Embedded mode and plain processes read the environment. With a sidecar they come
 * from the Dapr secrets API: one secret (default "taskmesh") in one store (default
 * "taskmesh-secrets": a Kubernetes Secret in the chart, a local JSON file in the local stack), every
 * key of which becomes a variable. Explicit environment values win, so an operator can override one.
 */
export interface SecretsOptions {
  /** how long to wait for daprd to load its components (it may start after the app) */
  timeoutMs?: number;
}

export async function resolveSecrets(env: NodeJS.ProcessEnv = process.env, options: SecretsOptions = {}): Promise<NodeJS.ProcessEnv> {
  const source = env.TASKMESH_SECRETS ?? (env.DAPR_HTTP_PORT ? "dapr" : "env");
  if (source === "env") return env;
  if (source !== "dapr") throw new Error(`TASKMESH_SECRETS must be "dapr" or "env", got "${source}"`);
  const dapr = `http://127.0.0.1:${env.DAPR_HTTP_PORT ?? 3500}`;
  const store = env.TASKMESH_SECRET_STORE ?? "taskmesh-secrets";
  const name = env.TASKMESH_SECRET_NAME ?? "taskmesh";
  await waitForSidecar(dapr, options.timeoutMs ?? 60_000);
  const res = await fetch(`${dapr}/v1.0/secrets/${encodeURIComponent(store)}/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    throw new Error(`reading secret "${name}" from Dapr store "${store}" failed: HTTP ${res.status} ${await res.text()}`);
  }
  const secrets = (await res.json()) as Record<string, string>;
  const merged: NodeJS.ProcessEnv = { ...secrets };
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== "") merged[key] = value;
  return merged;
}

/** daprd answers 204 on /v1.0/healthz/outbound once its components are loaded, before the app listens. */
async function waitForSidecar(dapr: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${dapr}/v1.0/healthz/outbound`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 204) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Dapr sidecar at ${dapr} was not ready within ${timeoutMs / 1000}s (${last}); is daprd running with DAPR_HTTP_PORT=${new URL(dapr).port}?`);
}
