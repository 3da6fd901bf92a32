// An MCP client that has no token gets one the way the MCP specification has it: the SDK's own
// client discovers the gateway as authorization server from the 401, registers itself, sends the
// user to /oauth/authorize with PKCE, and exchanges the code once the user consented (done here as
// the web app's consent page does it: a personal API token for the client, then /oauth/approve).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { createLogger } from "@taskmesh/kit";
import { ApiTokenScope, AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { embeddedConfig } from "../../../services/app/src/config.js";
import { startEmbeddedApp, type EmbeddedApp } from "../../../services/app/src/embedded.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-oauth-"));
let app: EmbeddedApp;
const users: Record<string, string> = {};

class Agent implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  authorizationUrl?: URL;
  get redirectUrl() {
    return "http://127.0.0.1:33418/callback";
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: "Test agent", redirect_uris: [this.redirectUrl], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

const auth = () => createClient(AuthService, createConnectTransport({ baseUrl: app.server.url, httpVersion: "1.1" }));

/** What the consent page does when the user clicks Allow (or Deny). */
async function consent(url: URL, accessToken: string, decision: "allow" | "deny" = "allow", apiToken?: string): Promise<Response> {
  const q = url.searchParams;
  const secret =
    apiToken ??
    (decision === "allow"
      ? (await auth().createApiToken({ name: "MCP: Test agent", scopes: [ApiTokenScope.READ, ApiTokenScope.WRITE] }, { headers: { authorization: `Bearer ${accessToken}` } })).secret
      : undefined);
  return fetch(`${app.server.url}/oauth/approve`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({
      client_id: q.get("client_id"),
      redirect_uri: q.get("redirect_uri"),
      code_challenge: q.get("code_challenge"),
      code_challenge_method: q.get("code_challenge_method"),
      state: q.get("state"),
      decision,
      api_token: secret,
    }),
  });
}

/** Runs the SDK client's flow up to the user's part: the authorization URL it would open. */
async function startFlow(agent: Agent): Promise<StreamableHTTPClientTransport> {
  const transport = new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { authProvider: agent });
  await assert.rejects(new Client({ name: "test-agent", version: "1" }).connect(transport), UnauthorizedError);
  assert.ok(agent.authorizationUrl, "the client was sent to authorize");
  return transport;
}

before(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("oauth-test"));
  for (const name of ["alice", "bob"]) {
    users[name] = (await auth().signUp({ email: `${name}-oauth@example.com`, password: "oauth-test-secret", timeZone: "Europe/Berlin" })).accessToken;
  }
});

after(async () => {
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("discovery, registration, authorization with PKCE, consent, token, then the tools as that user", async () => {
  const agent = new Agent();
  const transport = await startFlow(agent);
  const url = agent.authorizationUrl!;
  assert.equal(url.origin + url.pathname, `${app.server.url}/oauth/authorize`);
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.match(String(agent.info?.client_id), /^mcp_/);
  // The link opens the web app, where the signed-in user sees the consent.
  assert.equal((await fetch(url, { redirect: "manual" })).status, 200);

  const approved = await consent(url, users.alice!);
  assert.equal(approved.status, 200);
  const redirect = new URL(((await approved.json()) as { redirect: string }).redirect);
  assert.equal(redirect.origin + redirect.pathname, agent.redirectUrl);
  assert.equal(redirect.searchParams.get("state"), url.searchParams.get("state"));
  const code = redirect.searchParams.get("code")!;
  await transport.finishAuth(code);
  assert.match(agent.saved!.access_token, /^tm_pat_/);

  const client = new Client({ name: "test-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { authProvider: agent }));
  const added = (await client.callTool({ name: "add_tasks", arguments: { tasks: [{ text: "Authorized by OAuth #agent" }] } })) as { isError?: boolean };
  assert.equal(added.isError, undefined);
  await client.close();
  const { tokens } = await auth().listApiTokens({}, { headers: { authorization: `Bearer ${users.alice}` } });
  assert.ok(tokens.some((t) => t.name === "MCP: Test agent"), "the client's token is listed (and can be revoked) like any other");

  // A code works once.
  const again = await fetch(`${app.server.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: agent.verifier, client_id: String(agent.info!.client_id), redirect_uri: agent.redirectUrl }),
  });
  assert.equal(again.status, 400);
  assert.equal(((await again.json()) as { error: string }).error, "invalid_grant");
});

test("a code is refused without the right PKCE verifier, client or redirect URI", async () => {
  const agent = new Agent();
  await startFlow(agent);
  const code = new URL(((await (await consent(agent.authorizationUrl!, users.alice!)).json()) as { redirect: string }).redirect).searchParams.get("code")!;
  const exchange = (params: Record<string, string>) =>
    fetch(`${app.server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: agent.verifier, client_id: String(agent.info!.client_id), redirect_uri: agent.redirectUrl, ...params }),
    }).then(async (r) => [r.status, ((await r.json()) as { error: string }).error] as const);
  assert.deepEqual(await exchange({ code_verifier: "x".repeat(43) }), [400, "invalid_grant"]);
  assert.deepEqual(await exchange({ redirect_uri: "http://127.0.0.1:1/elsewhere" }), [400, "invalid_grant"]);
  assert.deepEqual(await exchange({ code: `${code.slice(0, -2)}AA` }), [400, "invalid_grant"]);
  assert.deepEqual(await exchange({}), [200, undefined], "the right request still works once");
});

test("consent needs the signed-in user and that user's own token; Deny tells the client", async () => {
  const agent = new Agent();
  await startFlow(agent);
  const url = agent.authorizationUrl!;
  const bobs = (await auth().createApiToken({ name: "bob's" }, { headers: { authorization: `Bearer ${users.bob}` } })).secret;
  assert.equal((await consent(url, users.alice!, "allow", bobs)).status, 401, "another user's token is not handed out");
  assert.equal((await consent(url, "not-a-session", "allow", bobs)).status, 401);
  const minting = (await auth().createApiToken({ name: "too wide", scopes: [ApiTokenScope.READ, ApiTokenScope.WRITE, ApiTokenScope.TOKENS] }, { headers: { authorization: `Bearer ${users.alice}` } })).secret;
  assert.equal((await consent(url, users.alice!, "allow", minting)).status, 401, "a token that could make tokens is not handed to an agent");

  const denied = new URL(((await (await consent(url, users.alice!, "deny")).json()) as { redirect: string }).redirect);
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.equal(denied.searchParams.get("code"), null);
});

test("registration takes only https or this machine's redirect URIs; a forged client or unregistered redirect is never redirected to", async () => {
  const register = (redirect_uris: string[]) =>
    fetch(`${app.server.url}/oauth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "x", redirect_uris }) });
  assert.equal((await register(["http://evil.example/callback"])).status, 400);
  assert.equal((await register(["javascript:alert(1)"])).status, 400);
  const ok = await register(["https://agent.example/callback"]);
  assert.equal(ok.status, 201);
  const { client_id } = (await ok.json()) as { client_id: string };

  const authorize = (params: Record<string, string>) =>
    fetch(`${app.server.url}/oauth/authorize?${new URLSearchParams({ response_type: "code", code_challenge: "a".repeat(43), code_challenge_method: "S256", ...params })}`, { redirect: "manual" });
  const unregistered = await authorize({ client_id, redirect_uri: "https://evil.example/callback" });
  assert.equal(unregistered.status, 400);
  assert.equal(unregistered.headers.get("location"), null);
  const forged = await authorize({ client_id: client_id.replace(/.$/, (c) => (c === "A" ? "B" : "A")), redirect_uri: "https://agent.example/callback" });
  assert.equal(forged.status, 400);
  const noPkce = await authorize({ client_id, redirect_uri: "https://agent.example/callback", code_challenge_method: "plain" });
  assert.equal(noPkce.status, 302);
  assert.equal(new URL(noPkce.headers.get("location")!).searchParams.get("error"), "invalid_request");

  const metadata = (await (await fetch(`${app.server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
  assert.equal(metadata.registration_endpoint, `${app.server.url}/oauth/register`);
});
