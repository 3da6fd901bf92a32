import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { offlineQueue } from "../offline/offline-queue.js";
import { sayUnreachable } from "../offline/offline-session.js";
import { currentSession, refreshSession } from "./auth-client.js";

/**
 * Sends the access token; on UNAUTHENTICATED renews it once from the refresh cookie and retries.
 * When that fails too the session is cleared, which shows the sign-in screen.
 */
export const bearerAuth: Interceptor = (next) => async (req) => {
  const send = (token: string | undefined) => {
    // Names this client in the activity history ("by you on web"), and reads filters such as
    // due:today in the zone the device is in now.
    req.header.set("x-device", "web");
    req.header.set("x-time-zone", Intl.DateTimeFormat().resolvedOptions().timeZone);
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const sentWith = currentSession()?.accessToken;
  try {
    return await send(sentWith);
  } catch (err) {
    if (ConnectError.from(err).code !== Code.Unauthenticated) throw err;
    // Another call may have renewed the token while this one was in flight.
    const latest = currentSession()?.accessToken;
    const token = latest && latest !== sentWith ? latest : (await refreshSession())?.accessToken;
    if (!token) throw err;
    return send(token);
  }
};

export const transport = createConnectTransport({ baseUrl: location.origin, interceptors: [offlineQueue, sayUnreachable, bearerAuth] });
/** Past the offline queue: what sends the queued changes. */
export const directTransport = createConnectTransport({ baseUrl: location.origin, interceptors: [sayUnreachable, bearerAuth] });
