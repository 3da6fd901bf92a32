/** Settings both modes read from the environment. */
export interface EdgeSettings {
  allowedOrigins: string[];
  secureCookie: boolean;
}

/**
 * TASKMESH_CORS_ORIGINS: comma-separated browser origins allowed to call cross-origin
 * (e.g. `https://app.example.com`); TASKMESH_COOKIE_SECURE=1 when served over HTTPS.
 */
export function edgeSettings(env: NodeJS.ProcessEnv): EdgeSettings {
  const allowedOrigins = (env.TASKMESH_CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (origin === "*" || new URL(origin).origin !== origin) {
      throw new Error(`TASKMESH_CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path, no wildcard)`);
    }
  }
  return { allowedOrigins, secureCookie: env.TASKMESH_COOKIE_SECURE === "1" };
}
