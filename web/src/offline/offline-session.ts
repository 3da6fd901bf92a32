// Who was signed in on this device, so a reload while the server cannot be reached opens the app
// (the kept list, changes queued) instead of the sign-in form. No token is kept: the first call that
// reaches the server again renews the session from the refresh cookie, or asks to sign in.
import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { UserSchema, type User } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";

const KEY = "taskmesh.lastUser";

/** The server could not be reached (as opposed to an answer saying no). */
export function isNetworkFailure(err: unknown): boolean {
  if (typeof navigator !== "undefined" && !navigator.onLine) return true;
  const e = ConnectError.from(err);
  return e.code === Code.Unavailable || unsent(e);
}

/** The browser's own words for a request that never got an answer ("Failed to fetch", "Load failed"). */
const unsent = (e: ConnectError) => e.code === Code.Unknown && /fetch|network|load failed/i.test(e.rawMessage);

/**
 * A call that got no answer fails in words a person can act on, as UNAVAILABLE (what it is), instead
 * of the browser's own; an answer, even UNAVAILABLE from the server, keeps its message.
 */
export const sayUnreachable: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    const e = ConnectError.from(err);
    if (!unsent(e)) throw err;
    throw new ConnectError("The server cannot be reached: check the connection, then try again", Code.Unavailable, undefined, undefined, err);
  }
};

export function rememberUser(user: User | undefined): void {
  if (user) localStorage.setItem(KEY, toJsonString(UserSchema, user));
  else {
    localStorage.removeItem(KEY);
    // The worker's copies of this user's lists go with them.
    navigator.serviceWorker?.controller?.postMessage({ type: "signed-out" });
  }
}

/** A session without a token for the user last signed in here, when there was one. */
export function offlineSession(): { accessToken: string; user: User } | undefined {
  const kept = localStorage.getItem(KEY);
  if (!kept) return undefined;
  try {
    return { accessToken: "", user: fromJsonString(UserSchema, kept) };
  } catch {
    return undefined;
  }
}
