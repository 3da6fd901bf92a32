// An MCP client that has no token gets one the way the MCP specification has it: the SDK's own
// client discovers the gateway as authorization server from the 401, registers itself, sends the
// user to /oauth/authorize with PKCE, and exchanges the code once the user consented (done here as
// the web app's consent page does it: a personal API token for the client, then /oauth/approve).
// It gets a short-lived access token and a refresh token, refreshes (the refresh token rotates),
// and revokes (RFC 7009), after which every token of the grant is refused.
import { afterAll, beforeAll, test, vi } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { auth as sdkAuth, UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { createLogger } from "@taskmesh/kit";
import { ApiTokenScope, AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { embeddedConfig, startEmbeddedApp, type EmbeddedApp } from "@taskmesh/embedded";

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
    return { client_name: "Test agent", redirect_uris: [this.redirectUrl], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
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

beforeAll(async () => {
  app = await startEmbeddedApp(embeddedConfig({ TASKMESH_DATA_DIR: dataDir, PORT: "0" }), createLogger("oauth-test"));
  for (const name of ["alice", "bob"]) {
    users[name] = (await auth().signUp({ email: `${name}-oauth@example.com`, password: "oauth-test-secret", timeZone: "Europe/Berlin" })).accessToken;
  }
});

afterAll(async () => {
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
  assert.match(agent.saved!.access_token, /^tmo_/, "an access token of its own, not the API token behind it");
  assert.equal(agent.saved!.expires_in, 3600);
  assert.match(agent.saved!.refresh_token ?? "", /^tmr_/);

  const client = new Client({ name: "test-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { authProvider: agent }));
  const added = (await client.callTool({ name: "add_tasks", arguments: { tasks: [{ text: "Authorized by OAuth #agent" }] } })) as { isError?: boolean };
  assert.equal(added.isError, undefined);
  await client.close();
  const { tokens } = await auth().listApiTokens({}, { headers: { authorization: `Bearer ${users.alice}` } });
  assert.ok(
    tokens.some((t) => t.name === "MCP: Test agent"),
    "the client's token is listed (and can be revoked) like any other",
  );

  // A code works once.
  const again = await fetch(`${app.server.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: agent.verifier, client_id: String(agent.info!.client_id), redirect_uri: agent.redirectUrl }),
  });
  assert.equal(again.status, 400);
  assert.equal(((await again.json()) as { error: string }).error, "invalid_grant");
});

/** Registers, authorizes with PKCE and consents: the SDK client's provider then holds its tokens. */
async function authorized(): Promise<Agent> {
  const agent = new Agent();
  const transport = await startFlow(agent);
  const approved = (await (await consent(agent.authorizationUrl!, users.alice!)).json()) as { redirect: string };
  await transport.finishAuth(new URL(approved.redirect).searchParams.get("code")!);
  return agent;
}

async function connectAs(agent: Agent): Promise<Client> {
  const client = new Client({ name: "test-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.server.url}/mcp`), { authProvider: agent }));
  return client;
}

const postForm = (endpoint: string, params: Record<string, string>) =>
  fetch(`${app.server.url}${endpoint}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params) });

/** A tools/list with this bearer token: the HTTP status. */
const statusWith = async (token: string) =>
  (
    await fetch(`${app.server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    })
  ).status;

test("the SDK client refreshes (the refresh token rotates, a reused one ends the grant), revokes, and is refused after", async () => {
  const agent = await authorized();
  const first = agent.saved!;
  const client = await connectAs(agent);
  assert.equal(((await client.callTool({ name: "find_tasks", arguments: { query: "" } })) as { isError?: boolean }).isError, undefined);
  await client.close();

  // The SDK refreshes when it holds a refresh token (as it does after a 401 for an expired access token).
  assert.equal(await sdkAuth(agent, { serverUrl: new URL(`${app.server.url}/mcp`) }), "AUTHORIZED");
  const second = agent.saved!;
  assert.notEqual(second.access_token, first.access_token);
  assert.notEqual(second.refresh_token, first.refresh_token, "the refresh token rotates");
  assert.equal(await statusWith(second.access_token), 200);
  assert.equal(await statusWith(first.access_token), 200, "the earlier access token lasts until it expires");
  // Each kind of token stands only for itself: a refresh token relabelled as an access token, or the other way, is refused.
  assert.equal(await statusWith(`tmo_${second.refresh_token!.slice(4)}`), 401);
  const swapped = await postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: `tmr_${second.access_token.slice(4)}`, client_id: String(agent.info!.client_id) });
  assert.equal(swapped.status, 400);
  const clientId = String(agent.info!.client_id);

  // Revocation (RFC 7009): the refresh token, by its client; every token of the grant ends.
  assert.equal((await postForm("/oauth/revoke", { token: second.refresh_token!, token_type_hint: "refresh_token", client_id: clientId })).status, 200);
  assert.equal(await statusWith(second.access_token), 401);
  assert.equal(await statusWith(first.access_token), 401);
  const refresh = await postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: second.refresh_token!, client_id: clientId });
  assert.equal(refresh.status, 400);
  assert.equal(((await refresh.json()) as { error: string }).error, "invalid_grant");
  await assert.rejects(connectAs(agent), "the SDK client is refused and has to authorize again");
  const { tokens } = await auth().listApiTokens({}, { headers: { authorization: `Bearer ${users.alice}` } });
  assert.equal(tokens.filter((t) => t.name === "MCP: Test agent").length, 1, "the revoked grant's API token is gone from the user's list; only the first test's remains");

  // A refresh token used twice: whoever holds the old one is not the client, so the grant ends.
  const other = await authorized();
  const old = other.saved!.refresh_token!;
  const otherId = String(other.info!.client_id);
  const rotated = (await (await postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: old, client_id: otherId })).json()) as { access_token: string };
  assert.equal(await statusWith(rotated.access_token), 200);
  const replay = await postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: old, client_id: otherId });
  assert.equal(replay.status, 400);
  assert.equal(await statusWith(rotated.access_token), 401);

  // Unknown and other clients' tokens: 200 and nothing revoked (RFC 7009 §2.2); no token: 400.
  const third = await authorized();
  assert.equal((await postForm("/oauth/revoke", { token: "tmr_forged", client_id: otherId })).status, 200);
  assert.equal((await postForm("/oauth/revoke", { token: third.saved!.access_token, client_id: "mcp_another.client" })).status, 200);
  assert.equal(await statusWith(third.saved!.access_token), 200);
  assert.equal((await postForm("/oauth/revoke", { client_id: otherId })).status, 400);
  assert.equal(await statusWith("tmo_forged"), 401);
});

test("an access token ends after its hour: the SDK client, refused, refreshes and goes on", async () => {
  const agent = await authorized();
  const expired = agent.saved!.access_token;
  // The clock of this process (the embedded gateway's too) moves past the hour.
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3_601_000 });
  try {
    const refused = await fetch(`${app.server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${expired}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /error="invalid_token", error_description="access token expired: refresh it/);
    const client = await connectAs(agent);
    assert.equal(((await client.callTool({ name: "find_tasks", arguments: { query: "" } })) as { isError?: boolean }).isError, undefined);
    await client.close();
    assert.notEqual(agent.saved!.access_token, expired, "the client refreshed on its own");
  } finally {
    vi.useRealTimers();
  }
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
  const minting = (await auth().createApiToken({ name: "too wide", scopes: [ApiTokenScope.READ, ApiTokenScope.WRITE, ApiTokenScope.TOKENS] }, { headers: { authorization: `Bearer ${users.alice}` } }))
    .secret;
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
  assert.deepEqual(metadata.grant_types_supported, ["authorization_code", "refresh_token"]);
  assert.equal(metadata.revocation_endpoint, `${app.server.url}/oauth/revoke`);
  assert.equal(metadata.registration_endpoint, `${app.server.url}/oauth/register`);
});
