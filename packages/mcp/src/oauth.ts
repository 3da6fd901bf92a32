// The gateway as OAuth 2.1 authorization server for MCP clients (MCP authorization, 2025-11-25):
// RFC 8414 metadata, RFC 7591 dynamic registration of public clients, the authorization code grant
// with PKCE (S256 only), the user's consent in the web app. The token an agent gets is a personal
// API token the web app creates for it on consent ("MCP: <client name>"), so it is listed, and
// revoked, like any other (ListApiTokens, RevokeApiToken).
//
// Nothing is stored here: a client id carries its registration (name and redirect URIs) under an
// HMAC, and an authorization code carries the token, client, redirect URI and PKCE challenge
// encrypted (AES-256-GCM) for 60 s; a code is taken once per process (replicas share no memory).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { writeHead } from "@taskmesh/kit";
import { headersOf, json, readText, type NodeRequest, type NodeResponse } from "./node-http.js";

export const AUTHORIZE_PATH = "/oauth/authorize";
const APPROVE_PATH = "/oauth/approve";
const REGISTER_PATH = "/oauth/register";
const TOKEN_PATH = "/oauth/token";
export const AUTHORIZATION_SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server";
const CODE_TTL_MS = 60_000;
const MAX_REDIRECT_URIS = 10;
const BODY_MAX = 64 * 1024;

export interface OAuthOptions {
  /** The gateway's signing secret: client ids and codes are bound to it. */
  secret: Uint8Array;
  /** The user of a session (the web app's access token in `authorization`); throws when there is none. */
  userOf(headers: Headers): Promise<string>;
  /** The user a personal API token belongs to; throws for an unknown or revoked one. */
  userOfToken(token: string): Promise<string>;
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

const b64 = (bytes: Buffer) => bytes.toString("base64url");

/** Handles the OAuth paths; `undefined` for any other, and `"page"` for a valid authorization request (the web app shows the consent). */
export function oauthServer(options: OAuthOptions) {
  const clientKey = Buffer.from(hkdfSync("sha256", options.secret, "taskmesh", "mcp-oauth-client-id", 32));
  const codeKey = Buffer.from(hkdfSync("sha256", options.secret, "taskmesh", "mcp-oauth-code", 32));
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
  const seal = (code: Code) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", codeKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(code), "utf8"), cipher.final()]);
    return `tmc_${b64(Buffer.concat([iv, cipher.getAuthTag(), body]))}`;
  };
  const open = (code: unknown): Code | undefined => {
    if (typeof code !== "string" || !code.startsWith("tmc_")) return undefined;
    try {
      const raw = Buffer.from(code.slice(4), "base64url");
      const decipher = createDecipheriv("aes-256-gcm", codeKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")) as Code;
    } catch {
      return undefined;
    }
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

  return async (req: NodeRequest, res: NodeResponse, path: string, origin: string): Promise<boolean | "page"> => {
    if (path === AUTHORIZATION_SERVER_METADATA_PATH) {
      json(res, 200, {
        issuer: origin,
        authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
        token_endpoint: `${origin}${TOKEN_PATH}`,
        registration_endpoint: `${origin}${REGISTER_PATH}`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["none"],
        scopes_supported: ["tasks"],
        authorization_response_iss_parameter_supported: true,
        service_documentation: `${origin}/`,
      }, { "access-control-allow-origin": "*" });
      return true;
    }
    if (path === REGISTER_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const body = await readJson(req);
      const uris = body?.redirect_uris;
      if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every(allowedRedirect)) {
        json(res, 400, { error: "invalid_redirect_uri", error_description: `redirect_uris: 1 to ${MAX_REDIRECT_URIS} URLs, https or http on this machine (localhost, 127.0.0.1, [::1]), without a fragment` });
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
        grant_types: ["authorization_code"],
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
      const code = seal({ token: body.api_token, clientId: request.clientId, redirectUri: request.redirectUri, challenge: request.challenge, expires: Date.now() + CODE_TTL_MS, nonce: b64(randomBytes(12)) });
      json(res, 200, { redirect: withParams(request.redirectUri, { code, state, iss: origin }) });
      return true;
    }
    if (path === TOKEN_PATH) {
      if (req.method !== "POST") return methodNotAllowed(res);
      const form = new URLSearchParams((await readText(req, BODY_MAX)) ?? "");
      const fail = (error: string, description: string) => (json(res, 400, { error, error_description: description }, { "cache-control": "no-store" }), true);
      if (form.get("grant_type") !== "authorization_code") return fail("unsupported_grant_type", "only authorization_code");
      const code = open(form.get("code"));
      if (!code || code.expires < Date.now()) return fail("invalid_grant", "the code is unknown or expired: authorize again");
      for (const [nonce, expires] of used) if (expires < Date.now()) used.delete(nonce);
      if (used.has(code.nonce)) return fail("invalid_grant", "the code was used already");
      if (form.get("client_id") !== code.clientId || form.get("redirect_uri") !== code.redirectUri) return fail("invalid_grant", "client_id or redirect_uri differ from the authorization request");
      const verifier = form.get("code_verifier") ?? "";
      if (b64(createHash("sha256").update(verifier).digest()) !== code.challenge) return fail("invalid_grant", "code_verifier does not match the code_challenge");
      used.set(code.nonce, code.expires);
      json(res, 200, { access_token: code.token, token_type: "Bearer", scope: "tasks" }, { "cache-control": "no-store" });
      return true;
    }
    return false;
  };
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
