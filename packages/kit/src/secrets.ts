import type { Env, SecretsSettings } from "./config.js";

/**
 * Credentials (DATABASE_URL, TASKMESH_JWT_SECRET, …) for a service process. Plain processes read the
 * environment. With a sidecar they come from the Dapr secrets API: one secret (default "taskmesh") in
 * one store (default "taskmesh-secrets": a Kubernetes Secret in the chart, a local JSON file in the
 * local stack), every key of which becomes a variable. Explicit environment values win, so an
 * operator can override one. The deployable's schema then validates the merged variables.
 */
export interface SecretsOptions {
  /** how long to wait for daprd to load its components (it may start after the app) */
  timeoutMs?: number;
}

export async function resolveSecrets(settings: SecretsSettings, env: Env, options: SecretsOptions = {}): Promise<Env> {
  if (settings.source === "env") return env;
  const { daprHttpUrl: dapr, store, name } = settings;
  await waitForSidecar(dapr, options.timeoutMs ?? 60_000);
  const res = await fetch(`${dapr}/v1.0/secrets/${encodeURIComponent(store)}/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    throw new Error(`reading secret "${name}" from Dapr store "${store}" failed: HTTP ${res.status} ${await res.text()}`);
  }
  const secrets = (await res.json()) as Record<string, string>;
  const merged: Record<string, string | undefined> = { ...secrets };
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
