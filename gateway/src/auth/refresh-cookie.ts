import { parse, serialize } from "cookie";
import { REFRESH_TOKEN_TTL_MS } from "./account-store.js";

export const REFRESH_COOKIE = "tm_refresh";
// Sent only to the AuthService (Refresh, SignOut), never with other API calls or page loads.
export const REFRESH_COOKIE_PATH = "/taskmesh.auth.v1.AuthService";
/** Non-browser clients ask for the refresh token in the response body instead of a cookie. */
export const REFRESH_IN_BODY_HEADER = "x-refresh-in-body";

export function refreshFromCookie(headers: Headers): string | undefined {
  const raw = headers.get("cookie");
  return raw ? parse(raw)[REFRESH_COOKIE] : undefined;
}

export function refreshCookie(token: string, secure: boolean): string {
  return serialize(REFRESH_COOKIE, token, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: REFRESH_COOKIE_PATH,
    maxAge: REFRESH_TOKEN_TTL_MS / 1000,
  });
}

export function clearedRefreshCookie(secure: boolean): string {
  return serialize(REFRESH_COOKIE, "", { httpOnly: true, sameSite: "strict", secure, path: REFRESH_COOKIE_PATH, maxAge: 0 });
}
