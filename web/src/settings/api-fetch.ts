import { currentSession, refreshSession } from "../api/auth-client.js";

/** The gateway's plain-HTTP endpoints with the access token; renewed once from the refresh cookie on 401. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const send = (token: string | undefined) => {
    const headers = new Headers(init.headers);
    headers.set("x-time-zone", Intl.DateTimeFormat().resolvedOptions().timeZone);
    headers.set("x-device", "web");
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(path, { ...init, headers });
  };
  const res = await send(currentSession()?.accessToken);
  if (res.status !== 401) return res;
  const renewed = await refreshSession();
  return renewed ? send(renewed.accessToken) : res;
}

/** The answer's JSON, or an Error with the message the gateway gave. */
export async function jsonOf<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as T & { error?: string; where?: string | null };
  if (!res.ok) throw new Error(body.error ?? `the server answered ${res.status}`);
  return body;
}
