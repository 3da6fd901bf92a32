// The gateway as OAuth 2.1 authorization server for MCP clients (MCP authorization, 2025-11-25):
// RFC 8414 metadata, RFC 7591 dynamic registration of public clients, the authorization code grant
// with PKCE (S256 only), the user's consent in the web app, short-lived access tokens with rotating
// refresh tokens, and RFC 7009 revocation. The grant behind them is a personal API token the web
// app creates on consent ("MCP: <client name>"), so it is listed, and revoked, like any other
// (ListApiTokens, RevokeApiToken): revoking it, or the client revoking either of its tokens, ends
// every token of the grant at once, on every replica.
//
// Nothing is stored here: a client id carries its registration (name and redirect URIs) under an
// HMAC; an authorization code, an access token and a refresh token each carry the API token and
// the client encrypted (AES-256-GCM) with their expiry. A code, and a refresh token once rotated,
// is taken once per process (replicas share no memory); the client never sees the API token.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { writeHead } from "@taskmesh/kit";
import { headersOf, json, readText, type NodeRequest, type NodeResponse } from "./node-http.js";

export const AUTHORIZE_PATH = "/oauth/authorize";
const APPROVE_PATH = "/oauth/approve";
const REGISTER_PATH = "/oauth/register";
const TOKEN_PATH = "/oauth/token";
const REVOKE_PATH = "/oauth/revoke";
export const AUTHORIZATION_SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server";
const CODE_TTL_MS = 60_000;
const ACCESS_TOKEN_TTL_SECONDS = 3600;
const REFRESH_TOKEN_TTL_MS = 90 * 24 * 3600_000;
const MAX_REDIRECT_URIS = 10;
const BODY_MAX = 64 * 1024;

export interface OAuthOptions {
  /** The gateway's signing secret: client ids and codes are bound to it. */
  secret: Uint8Array;
  /** The user of a session (the web app's access token in `authorization`); throws when there is none. */
  userOf(headers: Headers): Promise<string>;
  /** The user a personal API token belongs to; throws for an unknown or revoked one. */
  userOfToken(token: string): Promise<string>;
  /** Revokes a personal API token (the grant behind a client's tokens); nothing when it is unknown or revoked already. */
  revokeToken(token: string): Promise<void>;
  /** How long an access token lasts (default an hour); the client refreshes it after. */
  accessTokenTtlSeconds?: number;
}

interface Client {
  name: string;
  redirectUris: string[];
}

interface Code {
  token: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  expires: number;
  nonce: string;
}

/** What an access (`a`) or refresh (`r`) token carries: the grant's API token, its client, its expiry. */
interface Grant {
  kind: "a" | "r";
  token: string;
  clientId: string;
  expires: number;
  nonce: string;
}

const ACCESS_PREFIX = "tmo_";
const REFRESH_PREFIX = "tmr_";
const CODE_PREFIX = "tmc_";

const b64 = (bytes: Buffer) => bytes.toString("base64url");

/**
 * `handle` answers the OAuth paths (false for any other, `"page"` for a valid authorization request:
 * the web app shows the consent); `apiTokenOf` reads the access tokens it issued.
 */
export function oauthServer(options: OAuthOptions) {
  const clientKey = Buffer.from(hkdfSync("sha256", options.secret, "taskmesh", "mcp-oauth-client-id", 32));
  const codeKey = Buffer.from(hkdfSync("sha256", options.secret, "taskmesh", "mcp-oauth-code", 32));
  const tokenKey = Buffer.from(hkdfSync("sha256", options.secret, "taskmesh", "mcp-oauth-token", 32));
  const used = new Map<string, number>();

  const sign = (payload: string) => b64(createHmac("sha256", clientKey).update(payload).digest());
  const clientIdOf = (client: Client) => {
    const payload = b64(Buffer.from(JSON.stringify({ n: client.name, r: client.redirectUris })));
    return `mcp_${payload}.${sign(payload)}`;
  };
  const clientOf = (id: unknown): Client | undefined => {
    if (typeof id !== "string") return undefined;
    const match = /^mcp_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(id);
    if (!match) return undefined;
    const expected = Buffer.from(sign(match[1]!));
    const given = Buffer.from(match[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const { n, r } = JSON.parse(Buffer.from(match[1]!, "base64url").toString("utf8")) as { n: string; r: string[] };
    return { name: n, redirectUris: r };
  };
  const seal = (prefix: string, key: Buffer, value: Code | Grant) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return `${prefix}${b64(Buffer.concat([iv, cipher.getAuthTag(), body]))}`;
  };
  const open = <T>(prefix: string, key: Buffer, sealed: unknown): T | undefined => {
    if (typeof sealed !== "string" || !sealed.startsWith(prefix)) return undefined;
    try {
      const raw = Buffer.from(sealed.slice(prefix.length), "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")) as T;
    } catch {
      return undefined;
    }
  };
  /** An unexpired access or refresh token's grant. */
  const grantOf = (token: unknown): Grant | undefined => {
    const grant = open<Grant>(ACCESS_PREFIX, tokenKey, token) ?? open<Grant>(REFRESH_PREFIX, tokenKey, token);
    return grant && grant.expires > Date.now() ? grant : undefined;
  };
  /** Marks a one-time value (a code, a rotated refresh token) used; false when it was already. */
  const takeOnce = (nonce: string, expires: number) => {
    for (const [n, until] of used) if (until < Date.now()) used.delete(n);
    if (used.has(nonce)) return false;
    used.set(nonce, expires);
    return true;
  };
  /** A fresh access token and refresh token for the grant (the token response, RFC 6749 §5.1). */
  const issue = (token: string, clientId: string) => {
    const ttl = options.accessTokenTtlSeconds ?? ACCESS_TOKEN_TTL_SECONDS;
    const now = Date.now();
    return {
      access_token: seal(ACCESS_PREFIX, tokenKey, { kind: "a", token, clientId, expires: now + ttl * 1000, nonce: b64(randomBytes(12)) }),
      token_type: "Bearer",
      expires_in: ttl,
      refresh_token: seal(REFRESH_PREFIX, tokenKey, { kind: "r", token, clientId, expires: now + REFRESH_TOKEN_TTL_MS, nonce: b64(randomBytes(12)) }),
      scope: "tasks",
    };
  };

  /** A request's client and redirect URI, checked against the registration (never redirect elsewhere). */
  const authorizationRequest = (params: URLSearchParams | Record<string, unknown>) => {
    const get = (name: string) => (params instanceof URLSearchParams ? params.get(name) : params[name]) ?? undefined;
    const client = clientOf(get("client_id"));
    if (!client) return { error: "unknown client_id: register the client first (registration_endpoint)" };
    const redirectUri = get("redirect_uri");
    if (typeof redirectUri !== "string" || !client.redirectUris.includes(redirectUri)) return { error: "redirect_uri is not one the client registered" };
    const challenge = get("code_challenge");
    if (typeof challenge !== "string" || !/^[A-Za-z0-9_-]{43,128}$/.test(challenge) || get("code_challenge_method") !== "S256") {
      return { error: "PKCE is required: code_challenge with code_challenge_method=S256", client, redirectUri };
    }
    if (get("response_type") !== undefined && get("response_type") !== "code") return { error: "response_type must be code", client, redirectUri };
    return { client, clientId: get("client_id") as string, redirectUri, challenge };
  };

  /**
   * The API token behind an access token this server issued, for /mcp to act with; `undefined` for
   * any other credential (an API or session token goes on as it is). Throws for an expired or forged one.
   */
  const apiTokenOf = (bearer: string): string | undefined => {
    if (!bearer.startsWith(ACCESS_PREFIX)) return undefined;
    const grant = open<Grant>(ACCESS_PREFIX, tokenKey, bearer);
    // The kind is inside the sealed part: a refresh token given the access prefix is still refused.
    if (grant?.kind !== "a") throw new Error("access token not issued by this server");
    if (grant.expires <= Date.now()) throw new Error("access token expired: refresh it at the token endpoint");
    return grant.token;
  };

  const handle = async (req: NodeRequest, res: NodeResponse, path: string, origin: string): Promise<boolean | "page"> => {
    if (path === AUTHORIZATION_SERVER_METADATA_PATH) {
      json(
        res,
        200,
        {
          issuer: origin,
          authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
          token_endpoint: `${origin}${TOKEN_PATH}`,
          registration_endpoint: `${origin}${REGISTER_PATH}`,
          revocation_endpoint: `${origin}${REVOKE_PATH}`,
          revocation_endpoint_auth_methods_supported: ["none"],
          response_types_supported: ["code"],
          grant_types_supported: ["authorization_code", "refresh_token"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["none"],
          scopes_supported: ["tasks"],
          authorization_response_iss_parameter_supported: true,
          service_documentation: `${origin}/`,
        },
        { "access-control-allow-origin": "*" },
      );
      return true;
    }
    if (path === REGISTER_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const body = await readJson(req);
      const uris = body?.redirect_uris;
      if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every(allowedRedirect)) {
        json(res, 400, {
          error: "invalid_redirect_uri",
          error_description: `redirect_uris: 1 to ${MAX_REDIRECT_URIS} URLs, https or http on this machine (localhost, 127.0.0.1, [::1]), without a fragment`,
        });
        return true;
      }
      const method = body?.token_endpoint_auth_method;
      if (method !== undefined && method !== "none") {
        json(res, 400, { error: "invalid_client_metadata", error_description: "only public clients (token_endpoint_auth_method none, with PKCE) are registered" });
        return true;
      }
      const name = typeof body?.client_name === "string" && body.client_name.trim() ? body.client_name.trim().slice(0, 100) : "an MCP client";
      const client = { name, redirectUris: uris as string[] };
      json(res, 201, {
        client_id: clientIdOf(client),
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_name: name,
        redirect_uris: client.redirectUris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      });
      return true;
    }
    if (path === AUTHORIZE_PATH) {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res);
      const request = authorizationRequest(new URLSearchParams((req.url ?? "").split("?")[1] ?? ""));
      if (!("error" in request)) return "page";
      // With a known client and redirect URI the client hears of the mistake; otherwise only the user.
      if (request.redirectUri) redirect(res, withParams(request.redirectUri, { error: "invalid_request", error_description: request.error, state: stateOf(req) }));
      else text(res, 400, `This sign-in link is not valid: ${request.error}.\n`);
      return true;
    }
    if (path === APPROVE_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const body = (await readJson(req)) ?? {};
      const request = authorizationRequest(body);
      if ("error" in request) {
        json(res, 400, { error: "invalid_request", error_description: request.error });
        return true;
      }
      const state = typeof body.state === "string" ? body.state : undefined;
      if (body.decision === "deny") {
        json(res, 200, { redirect: withParams(request.redirectUri, { error: "access_denied", state, iss: origin }) });
        return true;
      }
      let user: string;
      try {
        user = await options.userOf(headersOf(req));
        if (typeof body.api_token !== "string" || (await options.userOfToken(body.api_token)) !== user) throw new Error("the token is not this user's");
      } catch (err) {
        json(res, 401, { error: "access_denied", error_description: `sign in to approve (${(err as Error).message})` });
        return true;
      }
      const code = seal(CODE_PREFIX, codeKey, {
        token: body.api_token,
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        challenge: request.challenge,
        expires: Date.now() + CODE_TTL_MS,
        nonce: b64(randomBytes(12)),
      });
      json(res, 200, { redirect: withParams(request.redirectUri, { code, state, iss: origin }) });
      return true;
    }
    if (path === TOKEN_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const form = new URLSearchParams((await readText(req, BODY_MAX)) ?? "");
      const fail = (error: string, description: string) => {
        json(res, 400, { error, error_description: description }, { "cache-control": "no-store" });
        return true;
      };
      const grantType = form.get("grant_type");
      if (grantType === "refresh_token") {
        const grant = open<Grant>(REFRESH_PREFIX, tokenKey, form.get("refresh_token"));
        if (grant?.kind !== "r" || grant.expires < Date.now()) return fail("invalid_grant", "the refresh token is unknown or expired: authorize again");
        if (form.get("client_id") !== grant.clientId) return fail("invalid_grant", "the refresh token was issued to another client");
        if (!takeOnce(grant.nonce, grant.expires)) {
          // A rotated refresh token used again: one of its two holders is not the client, so the
          // grant ends for both (OAuth 2.1 §4.3.1).
          await options.revokeToken(grant.token);
          return fail("invalid_grant", "the refresh token was used already: the grant is revoked, authorize again");
        }
        try {
          await options.userOfToken(grant.token);
        } catch {
          return fail("invalid_grant", "the grant was revoked: authorize again");
        }
        json(res, 200, issue(grant.token, grant.clientId), { "cache-control": "no-store" });
        return true;
      }
      if (grantType !== "authorization_code") return fail("unsupported_grant_type", "authorization_code or refresh_token");
      const code = open<Code>(CODE_PREFIX, codeKey, form.get("code"));
      if (!code || code.expires < Date.now()) return fail("invalid_grant", "the code is unknown or expired: authorize again");
      if (form.get("client_id") !== code.clientId || form.get("redirect_uri") !== code.redirectUri) return fail("invalid_grant", "client_id or redirect_uri differ from the authorization request");
      const verifier = form.get("code_verifier") ?? "";
      if (b64(createHash("sha256").update(verifier).digest()) !== code.challenge) return fail("invalid_grant", "code_verifier does not match the code_challenge");
      if (!takeOnce(code.nonce, code.expires)) return fail("invalid_grant", "the code was used already");
      json(res, 200, issue(code.token, code.clientId), { "cache-control": "no-store" });
      return true;
    }
    if (path === REVOKE_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const form = new URLSearchParams((await readText(req, BODY_MAX)) ?? "");
      if (!form.get("token")) {
        json(res, 400, { error: "invalid_request", error_description: "token is required" });
        return true;
      }
      const grant = grantOf(form.get("token"));
      // RFC 7009 §2.2: an unknown, expired or another client's token gets the same 200 (nothing to learn from it).
      if (grant && form.get("client_id") === grant.clientId) await options.revokeToken(grant.token);
      writeHead(res, 200, { "cache-control": "no-store" });
      res.end();
      return true;
    }
    return false;
  };

  return { handle, apiTokenOf };
}

function allowedRedirect(uri: unknown): boolean {
  if (typeof uri !== "string" || uri.length > 2000) return false;
  try {
    const url = new URL(uri);
    if (url.hash) return false;
    return url.protocol === "https:" || (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname));
  } catch {
    return false;
  }
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

function stateOf(req: NodeRequest): string | undefined {
  return new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("state") ?? undefined;
}

async function readJson(req: NodeRequest): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse((await readText(req, BODY_MAX)) ?? "");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function methodNotAllowed(res: NodeResponse): true {
  json(res, 405, { error: "invalid_request", error_description: "method not allowed" });
  return true;
}

function redirect(res: NodeResponse, location: string): void {
  writeHead(res, 302, { location, "cache-control": "no-store" });
  res.end();
}

function text(res: NodeResponse, status: number, body: string): void {
  writeHead(res, status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}
