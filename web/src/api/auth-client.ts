// The access token lives in memory only; the refresh token is the gateway's httpOnly cookie, so a
// reload signs the user back in through Refresh without the page ever seeing a long-lived secret.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService, type User } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { isNetworkFailure, offlineSession, rememberUser, sayUnreachable } from "../offline/offline-session.js";

export interface Session {
  accessToken: string;
  user: User;
}

type Listener = (session: Session | undefined) => void;

/** AuthService calls that carry no bearer token (the cookie or the password is the credential). */
export const authClient = createClient(AuthService, createConnectTransport({ baseUrl: location.origin, interceptors: [sayUnreachable] }));

let current: Session | undefined;
let refreshing: Promise<Session | undefined> | undefined;
const listeners = new Set<Listener>();

export function currentSession(): Session | undefined {
  return current;
}

export function setSession(session: Session | undefined): void {
  current = session;
  rememberUser(session?.user);
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The session at page load: renewed from the refresh cookie when someone was signed in on this
 * device (the cookie is httpOnly, so the page cannot look for it); otherwise signed out without
 * asking, rather than a refused Refresh on every visit to the sign-in form.
 */
export function resumeSession(): Promise<Session | undefined> {
  if (offlineSession()) return refreshSession();
  setSession(undefined);
  return Promise.resolve(undefined);
}

/**
 * Renews the access token from the refresh cookie; undefined when the cookie is missing, expired or
 * revoked. Concurrent callers share one request, and tabs of one browser take turns (Web Locks):
 * the refresh token rotates, and presenting an already-rotated one would revoke the whole chain.
 */
export function refreshSession(): Promise<Session | undefined> {
  refreshing ??= withRefreshLock(async () => {
    try {
      const res = await authClient.refresh({});
      const session = res.user ? { accessToken: res.accessToken, user: res.user } : undefined;
      setSession(session);
      return session;
    } catch (err) {
      // Unreachable is not signed out: the last user's kept lists and queued changes stay usable.
      const session = isNetworkFailure(err) ? offlineSession() : undefined;
      setSession(session);
      return session;
    }
  }).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  return "locks" in navigator ? (navigator.locks.request("taskmesh-refresh", fn) as Promise<T>) : fn();
}
