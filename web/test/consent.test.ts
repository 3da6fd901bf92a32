// An MCP client's sign-in link opened in Chromium: the person signs up (or in) on that page, sees
// which client asks and what it may do, and Allow sends the browser back to the client with a code
// that the client exchanges (PKCE) for a token the MCP endpoint takes; Deny sends it back without one.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { startApp, type RunningApp } from "./support/app.js";
import { axeViolations, formatFindings } from "./support/axe.js";
import { launchBrowser, screenshot } from "./support/browser.js";
import { createAccount } from "./support/session.js";

let app: RunningApp;
let browser: Browser;
// The client's own redirect endpoint, on this machine as a desktop agent's is.
let callback: Server;
let callbackUrl: string;
const arrived: URL[] = [];

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  callback = createServer((req, res) => {
    const url = new URL(req.url ?? "/", callbackUrl);
    // The browser asks for /favicon.ico too.
    if (url.pathname === "/callback") arrived.push(url);
    res.writeHead(200, { "content-type": "text/plain" }).end("You can close this window.");
  });
  callback.listen(0, "127.0.0.1");
  await once(callback, "listening");
  callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  callback?.close();
});

async function authorizationLink(): Promise<{ url: string; verifier: string; clientId: string }> {
  const registered = await fetch(`${app.url}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Desk Agent", redirect_uris: [callbackUrl], token_endpoint_auth_method: "none" }),
  });
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: callbackUrl, code_challenge: challenge, code_challenge_method: "S256", state: "s-123" });
  return { url: `${app.url}/oauth/authorize?${query}`, verifier, clientId };
}

test("Allow: sign up on the link's page, consent, the client gets a code and exchanges it for a working token", async () => {
  const { url, verifier, clientId } = await authorizationLink();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(url);
  await createAccount(page, `agent-owner-${Date.now()}@example.com`);

  await page.getByRole("heading", { name: "Allow Desk Agent to use your tasks?" }).waitFor();
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered, not the DOM property
  assert.match(await page.locator(".auth-card").innerText(), /returned to 127\.0\.0\.1:\d+/);
  await screenshot(page, "consent");
  const findings = await axeViolations(page, "consent");
  assert.equal(findings.length, 0, formatFindings(findings));

  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
  const back = arrived.at(-1)!;
  assert.equal(back.searchParams.get("state"), "s-123");
  const code = back.searchParams.get("code");
  assert.ok(code, back.toString());

  const token = await fetch(`${app.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, client_id: clientId, redirect_uri: callbackUrl }),
  });
  const { access_token: accessToken } = (await token.json()) as { access_token: string };
  // The token is for the MCP server it was issued for (its resource), not the rest of the API.
  const tools = await fetch(`${app.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(tools.status, 200, await tools.clone().text());
  const api = await fetch(`${app.url}/taskmesh.tasks.v1.TaskService/ListTasks`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
    body: "{}",
  });
  assert.equal(api.status, 401);
  await context.close();
});

test("Deny: the client is told access_denied and gets no code", async () => {
  const { url } = await authorizationLink();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await createAccount(page, `agent-denier-${Date.now()}@example.com`);
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
  const back = arrived.at(-1)!;
  assert.equal(back.searchParams.get("error"), "access_denied");
  assert.equal(back.searchParams.get("code"), null);
  await context.close();
});
