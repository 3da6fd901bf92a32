import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export interface Login {
  /** The gateway, e.g. http://localhost:8080. */
  url: string;
  /** A personal API token (tm_pat_…). */
  token: string;
}

/** Where the login is kept: the platform's per-user config folder (XDG_CONFIG_HOME on Linux). */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    process.platform === "win32"
      ? (env.APPDATA ?? path.join(homedir(), "AppData", "Roaming"))
      : process.platform === "darwin"
        ? path.join(homedir(), "Library", "Application Support")
        : env.XDG_CONFIG_HOME || path.join(homedir(), ".config");
  return path.join(base, "taskmesh", "config.json");
}

/** TASKMESH_URL and TASKMESH_TOKEN (an agent's config may pass them) before the saved login. */
export function loadLogin(env: NodeJS.ProcessEnv = process.env): Login | undefined {
  let saved: Partial<Login> = {};
  try {
    saved = JSON.parse(readFileSync(configFile(env), "utf8")) as Partial<Login>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${configFile(env)} cannot be read (${(err as Error).message}): run \`taskmesh login\` again`);
  }
  const url = env.TASKMESH_URL || saved.url;
  const token = env.TASKMESH_TOKEN || saved.token;
  return url && token ? { url, token } : undefined;
}

/** Readable by its owner only (0600, folder 0700): the token is as good as the password for the API. */
export function saveLogin(login: Login, env: NodeJS.ProcessEnv = process.env): string {
  const file = configFile(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}
