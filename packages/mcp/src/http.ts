// MCP over Streamable HTTP (specification 2025-11-25), stateless: every POST is answered on its own
// (JSON, no session, no server-to-client stream), so any gateway replica serves any request and a
// draining replica holds no long-lived stream. Authorization as the specification has it for a
// protected resource: a bearer token on every request, 401 with the RFC 9728 metadata's address.
import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpRoute } from "@taskmesh/kit";
import type http from "node:http";
import { headersOf, json, originOf, readText } from "./node-http.js";
import { oauthServer, type OAuthOptions } from "./oauth.js";
import type { TaskmeshBackend } from "./tools.js";

export const MCP_PATH = "/mcp";
export const PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

export interface McpRouteOptions {
  /**
   * The backend acting as the caller of this request (from its `authorization: Bearer` header).
   * Throws UNAUTHENTICATED for missing or bad credentials: the answer is then 401.
   */
  authenticate(headers: Headers): Promise<TaskmeshBackend>;
  /** Browser origins besides the server's own that may call /mcp (TASKMESH_CORS_ORIGINS). */
  allowedOrigins?: readonly string[];
  /** Largest JSON-RPC request body. */
  readMaxBytes?: number;
  /** The gateway as the clients' authorization server (OAuth 2.1 with PKCE, registration, consent in the web app). */
  oauth?: OAuthOptions;
}

/** /mcp and its protected-resource metadata, as a route of the gateway's server. */
export function mcpRoute(options: McpRouteOptions): HttpRoute {
  const allowed = new Set(options.allowedOrigins ?? []);
  const readMaxBytes = options.readMaxBytes ?? 1024 * 1024;
  const oauth = options.oauth ? oauthServer(options.oauth) : undefined;
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (oauth) {
      const handled = await oauth.handle(req, res, path, originOf(req));
      // A valid authorization request: the web app's page asks the user (signed in) to consent.
      if (handled === "page") return false;
      if (handled) return true;
    }
    if (path.startsWith("/.well-known/")) {
      // The document for /mcp under both names clients look for (RFC 9728 §3.1 inserts the resource's
      // path); any other well-known name is not here, rather than the web app's page.
      if (path === PROTECTED_RESOURCE_METADATA_PATH || path === `${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}`) {
        const origin = originOf(req);
        json(
          res,
          200,
          {
            resource: `${origin}${MCP_PATH}`,
            authorization_servers: [origin],
            bearer_methods_supported: ["header"],
            resource_name: "taskmesh",
            resource_documentation: `${origin}/`,
          },
          { "access-control-allow-origin": "*", "cache-control": "max-age=3600" },
        );
        return true;
      }
      json(res, 404, { error: "not_found" });
      return true;
    }
    if (path !== MCP_PATH) return false;

    // DNS rebinding: a page of another site that reaches this address through its own name.
    const origin = req.headers.origin;
    if (typeof origin === "string" && origin !== originOf(req) && !allowed.has(origin)) {
      json(res, 403, jsonRpcError(-32000, `origin ${origin} is not allowed: add it to TASKMESH_CORS_ORIGINS`));
      return true;
    }
    let backend: TaskmeshBackend;
    try {
      backend = await options.authenticate(oauth ? withGrantToken(headersOf(req), oauth.apiTokenOf) : headersOf(req));
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code !== Code.Unauthenticated) throw err;
      const sent = req.headers.authorization !== undefined;
      const challenge = [`Bearer resource_metadata="${originOf(req)}${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}"`];
      if (sent) challenge.push(`error="invalid_token"`, `error_description="${err.rawMessage.replace(/["\\]/g, "")}"`);
      json(res, 401, { error: sent ? "invalid_token" : "unauthorized", error_description: err.rawMessage }, { "www-authenticate": challenge.join(", ") });
      return true;
    }
    if (req.method !== "POST") {
      // Stateless: no stream for server-initiated messages (GET) and no session to end (DELETE).
      json(res, 405, jsonRpcError(-32000, "method not allowed: send JSON-RPC requests with POST"), { allow: "POST" });
      return true;
    }
    const body = await readText(req, readMaxBytes);
    if (body === undefined) {
      json(res, 413, jsonRpcError(-32600, `request body over ${readMaxBytes} bytes`));
      return true;
    }
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      json(res, 400, jsonRpcError(-32700, "parse error: the body is not JSON"));
      return true;
    }
    const { answerMcpRequest } = await import("./answer.js");
    await answerMcpRequest(backend, req as http.IncomingMessage, res as http.ServerResponse, message);
    return true;
  };
}

/** An access token the OAuth server issued stands for its grant's API token, which the services know. */
function withGrantToken(headers: Headers, apiTokenOf: (bearer: string) => string | undefined): Headers {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization")?.trim() ?? "")?.[1];
  if (!bearer) return headers;
  let token: string | undefined;
  try {
    token = apiTokenOf(bearer);
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.Unauthenticated);
  }
  if (token) headers.set("authorization", `Bearer ${token}`);
  return headers;
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}
